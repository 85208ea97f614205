"""What keeps the book working between pushes: cheap checks, no notebook run.

The workflow runs weekly as well as on push, with the oldest and newest
versions and a link check; a scheduled failure opens an issue. CI lints. The
floors that ``tox -e oldest`` installs are read from requirements.txt. The
licence and citation files are there and say what they must.
"""

import configparser
import re

import pytest
import yaml
from conftest import REPO
from floors import floors

WORKFLOW = REPO / ".github" / "workflows" / "book.yml"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_triggers(workflow):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request", "workflow_dispatch", "schedule"} <= set(triggers)
    assert triggers["push"]["branches"] == ["main"]
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert len(crons) == 1
    minute, hour, day, month, weekday = crons[0].split()
    # Weekly: a fixed time on one day of the week.
    assert minute.isdigit() and hour.isdigit(), crons
    assert (day, month) == ("*", "*") and weekday.isdigit(), crons


def test_workflow_jobs(workflow):
    jobs = workflow["jobs"]
    expected = {
        "lint",
        "test",
        "oldest",
        "pre",
        "linkcheck",
        "build",
        "deploy",
        "notebooks",
        "report",
    }
    assert expected <= set(jobs), sorted(jobs)
    commands = {
        name: " ".join(step.get("run", "") for step in job.get("steps", []))
        for name, job in jobs.items()
    }
    for name in ("lint", "test", "oldest", "pre", "linkcheck"):
        assert f"tox -e {name}" in commands[name], name
    pythons = {
        name: step["with"]["python-version"]
        for name, job in jobs.items()
        for step in job.get("steps", [])
        if "setup-python" in step.get("uses", "")
    }
    assert pythons["oldest"] == "3.10"


def test_pre_fails_visibly_without_blocking_the_deploy(workflow):
    jobs = workflow["jobs"]
    assert not jobs["pre"].get("continue-on-error")
    assert "pre" not in jobs["deploy"]["needs"]
    assert "push" in jobs["deploy"]["if"] and "main" in jobs["deploy"]["if"]


def test_a_scheduled_failure_opens_or_updates_an_issue(workflow):
    report = workflow["jobs"]["report"]
    assert "failure()" in report["if"] and "schedule" in report["if"]
    assert {"lint", "test", "oldest", "pre", "linkcheck", "build"} <= set(
        report["needs"]
    )
    assert report["permissions"] == {"issues": "write"}
    script = " ".join(step.get("run", "") for step in report["steps"])
    assert "gh issue comment" in script and "gh issue create" in script
    # Only the report job may write issues.
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        if name != "report":
            assert "issues" not in job.get("permissions", {}), name


def test_ci_runs_lint_and_the_tests_and_stops_on_failure():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    commands = re.findall(r"^tox -e (\S+)", script, flags=re.MULTILINE)
    assert "lint" in commands and "test" in commands, commands
    assert "linkcheck" not in script  # it needs the internet


def test_tox_environments():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini", encoding="utf-8")
    oldest = tox["testenv:oldest"]
    assert oldest["basepython"] == "python3.10"
    assert "tests/floors.py requirements.txt" in oldest["commands_pre"]
    assert "-W -n --keep-going" in oldest["commands"]
    assert tox["testenv:pre"]["pip_pre"] == "true"
    assert "linkcheck" in tox["testenv:linkcheck"]["commands"]


def test_every_requirement_is_pinned_at_its_floor():
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    pins = list(floors(text))
    names = [
        re.match(r"[A-Za-z0-9._-]+", line)[0]
        for line in text.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert [pin.split("==")[0] for pin in pins] == names
    assert "jupyter-book==1.0.4" in pins  # the lower of ">=1.0.4,<2"
    with pytest.raises(ValueError):
        list(floors("numpy<3\n"))


def test_license_and_citation():
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in license_text
    assert "creativecommons.org/licenses/by/4.0/legalcode" in license_text
    assert "BSD 3-Clause" in license_text
    assert "Redistribution and use in source and binary forms" in license_text
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert citation[key], key
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "LICENSE" in readme and "CITATION.cff" in readme
