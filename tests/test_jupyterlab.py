"""Open the tutorial in JupyterLab in a real Chromium, as a reader does.

JupyterLab runs from the test environment (requirements.txt, which brings
jupytext and jupyterlab-myst) with the README's settings
(JUPYTER_CONFIG_PATH=.jupyter), serving a copy of content/ beside the data
cache. A screenshot of the opened notebook is kept in test-artifacts/.
"""

import os
import shutil
import sys

import pytest
from conftest import CONTENT, NOTEBOOK, REPO
from lab_server import running_lab
from test_site import ARTIFACTS, find_chromium

# What a markdown cell shows: jupyterlab-myst's rendering, or plain CommonMark.
RENDERED_MARKDOWN = ".jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown"
MAX_CELLS_TO_RUN = 12  # the first code cell that prints comes well before this


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    shutil.copytree(CONTENT, root / "content", ignore=shutil.ignore_patterns("*.ipynb"))
    (REPO / "_data").mkdir(exist_ok=True)
    (root / "_data").symlink_to(REPO / "_data")  # the notebook reads ../_data
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(REPO / ".jupyter"))
    with running_lab(sys.executable, root, env) as server:
        yield dict(server, root=root)


@pytest.fixture(scope="module")
def notebook_tab(lab, notebook):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(f"{lab['base']}/lab/tree/content/{NOTEBOOK.name}?token={lab['token']}")
        tab.wait_for_selector(
            ".jp-NotebookPanel .jp-MarkdownCell, .jp-FileEditor", timeout=120_000
        )
        tab.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        # JupyterLab attaches the cells a few at a time, over several seconds.
        tab.wait_for_function(
            "count => document.querySelectorAll('.jp-Notebook .jp-Cell').length"
            " >= count",
            arg=len(notebook.cells),
            timeout=120_000,
        )
        yield tab
        browser.close()


def test_the_md_opens_in_the_notebook_view(notebook_tab, notebook):
    assert notebook_tab.locator(".jp-FileEditor").count() == 0
    cells = notebook_tab.locator(".jp-NotebookPanel .jp-Cell")
    code_cells = notebook_tab.locator(".jp-NotebookPanel .jp-CodeCell")
    assert cells.count() == len(notebook.cells)
    assert code_cells.count() == sum(c.cell_type == "code" for c in notebook.cells)


def test_markdown_cells_render_their_myst(notebook_tab):
    first_cell = notebook_tab.locator(".jp-Notebook .jp-MarkdownCell").first
    image = first_cell.locator("img")
    image.wait_for(timeout=60_000)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert image.get_attribute("src").split("?")[0].endswith("network-diagram.svg")
    assert image.get_attribute("alt").startswith("A 28 by 28 digit image")
    rendered = "\n".join(notebook_tab.locator(RENDERED_MARKDOWN).all_inner_texts())
    assert "What you'll do" in rendered.replace("\u2019", "'")
    for raw in (":alt:", "{image}", "{code-cell}", ":tags:"):
        assert raw not in rendered, f"raw MyST {raw!r} shown in JupyterLab"


def test_saving_at_once_leaves_the_md_unchanged(lab, notebook_tab):
    """JupyterLab marks the tab modified on open (it adds language_info to the
    notebook's metadata, which jupytext's MyST header does not keep); saving
    then must not change the source."""
    source = lab["root"] / "content" / NOTEBOOK.name
    before = source.read_bytes()
    notebook_tab.locator(".jp-Notebook .jp-MarkdownCell").first.click()
    notebook_tab.keyboard.press("Control+s")
    notebook_tab.locator(".lm-TabBar-tab.jp-mod-dirty").wait_for(
        state="detached", timeout=30_000
    )
    assert source.read_bytes() == before
    assert source.with_suffix(".ipynb").is_file()  # the pair jupytext.toml asks for


def test_a_code_cell_runs_and_shows_its_output(notebook_tab):
    """Run the notebook from the top, as a reader does, until a cell prints."""
    notebook_tab.locator(".jp-Notebook .jp-Cell").first.locator(
        ".jp-InputPrompt"
    ).click()
    code_cells_run = 0
    while code_cells_run < MAX_CELLS_TO_RUN:
        active = notebook_tab.locator(".jp-Notebook .jp-Cell.jp-mod-active")
        cell = active.element_handle()
        is_code = "jp-CodeCell" in cell.get_attribute("class")
        input_area = cell.query_selector(".jp-InputArea")
        collapsed = input_area is None or not input_area.is_visible()
        notebook_tab.keyboard.press("Shift+Enter")  # run it and select the next
        # A collapsed cell (the download helper) shows no prompt number; the
        # kernel runs cells in order, so the next cell's number proves it ran.
        if not is_code or collapsed:
            continue
        code_cells_run += 1
        notebook_tab.wait_for_function(
            "cell => /\\d/.test(cell.querySelector('.jp-InputPrompt').textContent)",
            arg=cell,
            timeout=120_000,
        )
        for problem in cell.query_selector_all(
            ".jp-OutputArea-output[data-mime-type*='stderr'],"
            " .jp-OutputArea-output[data-mime-type*='error']"
        ):
            pytest.fail(f"a cell wrote an error:\n{problem.inner_text()}")
        output = cell.query_selector(".jp-OutputArea-output")
        if output is not None and output.inner_text().strip():
            break
    else:
        pytest.fail(f"none of the first {MAX_CELLS_TO_RUN} code cells showed output")
    cell.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    notebook_tab.screenshot(path=str(ARTIFACTS / "jupyterlab-notebook.png"))
