"""Do with the repository what Binder (repo2docker) does, then open the tutorial.

repo2docker copies the repository into the user's home folder, installs
.binder/requirements.txt into a fresh environment, runs .binder/postBuild once,
and starts JupyterLab in the home folder at the Binder link's path. This test
does the same on this machine: a fresh venv (pip, from the package index), a
fresh HOME holding a copy of the repository, postBuild, then JupyterLab.
"""

import ast
import os
import shutil
import subprocess
import venv

import jupytext
import pytest
from conftest import NOTEBOOK, REPO
from lab_server import (
    default_viewers,
    execute,
    kernel_channel,
    run_first_cells,
    running_lab,
)

NOT_COPIED = shutil.ignore_patterns(
    ".git", ".tox", ".venv", "_build", "test-artifacts", "__pycache__",
    ".pytest_cache", "*.ipynb", "*.gz",
)  # fmt: skip


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    home = tmp_path_factory.mktemp("binder") / "home"
    shutil.copytree(REPO, home, ignore=NOT_COPIED, symlinks=True)
    environment = home.parent / "env"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        HOME=str(home),
        VIRTUAL_ENV=str(environment),
        PATH=f"{environment / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(home / ".binder" / "requirements.txt")],
        env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    post_build = subprocess.run(
        [str(home / ".binder" / "postBuild")],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert post_build.returncode == 0, post_build.stdout + post_build.stderr
    return {"home": home, "python": python, "env": env}


@pytest.fixture(scope="module")
def lab(binder):
    with running_lab(binder["python"], binder["home"], binder["env"]) as server:
        yield server


def test_post_build_installs_the_default_viewer(binder):
    """The setting lives in the environment, whatever the home folder holds."""
    probe = subprocess.run(
        [str(binder["python"]), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    settings = (
        f"{probe.stdout.strip()}/etc/jupyter/labconfig/default_setting_overrides.json"
    )
    assert '"markdown": "Jupytext Notebook"' in open(settings).read()


def test_the_md_opens_as_a_notebook(lab):
    viewers = default_viewers(lab)
    assert viewers.get("markdown") == viewers.get("myst") == "Jupytext Notebook"
    path = f"content/{NOTEBOOK.name}"  # what the Binder button's urlpath opens
    model = (
        lab["session"]
        .get(f"{lab['base']}/api/contents/{path}?type=notebook&content=1", timeout=60)
        .json()
    )
    assert model["type"] == "notebook", model.get("message")


def imported_modules(notebook):
    modules = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - {"google"}  # only imported in Colab


def test_kernel_has_what_the_notebook_imports_and_runs_its_first_cells(lab, binder):
    notebook = jupytext.read(NOTEBOOK)
    modules = sorted(imported_modules(notebook))
    assert {"numpy", "matplotlib", "pooch"} <= set(modules)
    with kernel_channel(lab) as channel:
        status, output = execute(
            channel,
            "import importlib.util, os, sys\n"
            f"os.chdir({str(binder['home'] / 'content')!r})\n"
            "print(sys.prefix)\n"
            f"print([m for m in {modules!r} if importlib.util.find_spec(m) is None])",
        )
        assert status == "ok", output
        prefix, missing = output.splitlines()
        assert prefix == str(binder["python"].parent.parent)
        assert missing == "[]", f"not in .binder/requirements.txt: {missing}"
        run_first_cells(channel, notebook)
