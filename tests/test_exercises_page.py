"""Every exercise on the built page has a worked solution, closed until clicked.

This module builds the book once for itself (strictly, as tests/test_site.py does)
and opens the page in headless Chromium. To fold it into tests/test_site.py, move
the test function there: it needs only that module's `page` fixture and the
shared `notebook` fixture, and the two fixtures below can go.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PAGE = "content/tutorial-deep-learning-on-mnist.html"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    playwright_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not chromium:
        message = "no Chromium found: install Debian's chromium package or set CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    output = tmp_path_factory.mktemp("book")
    build = subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter-book")),
            "build",
            str(REPO),
            "--all",
            "-W",
            "-n",
            "--keep-going",
            "--path-output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=1800,  # the build runs the whole notebook; slow on a busy machine
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto((output / "_build" / "html" / PAGE).as_uri(), wait_until="load")
        yield tab
        browser.close()


def test_each_exercise_has_a_closed_solution_that_opens_on_click(page, notebook):
    expected = sum(
        cell.source.count("```{exercise}")
        for cell in notebook.cells
        if cell.cell_type == "markdown"
    )
    exercises = page.locator("main div.exercise")
    solutions = page.locator("main div.solution")
    assert expected >= 6, f"the notebook has {expected} exercises, not six or more"
    assert exercises.count() == solutions.count() == expected, (
        f"{exercises.count()} exercises and {solutions.count()} solutions on the "
        f"page, {expected} exercises in the notebook"
    )
    for index in range(expected):
        exercise, solution = exercises.nth(index), solutions.nth(index)
        title = exercise.locator(".admonition-title").inner_text()
        assert exercise.is_visible(), title
        link = solution.locator(".admonition-title a").get_attribute("href")
        assert link == f"#{exercise.get_attribute('id')}", (title, link)

        toggle = solution.locator("button.toggle-button")
        content = solution.locator("section")
        code = solution.locator(".cell_input")
        assert code.count() >= 1, f"the solution to {title} has no code"
        outputs = solution.locator(".cell_output")
        assert outputs.count() >= 1, f"the solution to {title} shows no output"
        buttons = toggle.count()
        assert buttons == 1, f"the solution to {title} has {buttons} show buttons"
        assert toggle.get_attribute("aria-expanded") == "false", title
        assert not content.is_visible(), f"the solution to {title} starts open"

        toggle.click()
        content.wait_for(state="visible", timeout=5000)
        assert toggle.get_attribute("aria-expanded") == "true", title
        assert code.first.is_visible(), title
