"""Build the book strictly and look at the page in a real headless Chromium."""

import http.server
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, serve

PAGE = "content/tutorial-deep-learning-on-mnist.html"
ARTIFACTS = REPO / "test-artifacts"
SECTION_HEADINGS = [
    "What you'll do",
    "What you'll learn",
    "What you'll need",
    "1. Load the MNIST digits",
    "2. Prepare the data for the network",
    "3. Build and train a small network",
    "4. Plot what happened",
    "5. Go further: all 60,000 images, past 98% in seconds",
    "Next steps",
    "In practice",
    "On your own",
    "Further reading",
]


def find_chromium():
    for candidate in (
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    message = "no Chromium found: install Debian's chromium package or set CHROMIUM"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs it; missing there is an error, not a skip
    pytest.skip(message)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """Strict build (warnings are errors, cells must not fail) into a temporary folder."""
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [
            str(jupyter_book),
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
        timeout=600,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "WARNING" in line or "ERROR" in line or "Error" in line
    ]
    assert result.returncode == 0, "\n".join(problems) or result.stderr[-3000:]
    return output / "_build" / "html"


@pytest.fixture(scope="module")
def page_url(built_site):
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(built_site), **kwargs)

        def log_message(self, *args):
            pass

    with serve(QuietHandler) as base_url:
        yield f"{base_url}/{PAGE}"


@pytest.fixture(scope="module")
def page(page_url):
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = find_chromium()
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(page_url, wait_until="load")
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "tutorial-page.png"), full_page=True)
        yield tab
        browser.close()


def test_title_and_headings(page):
    assert page.title().startswith("Teach a neural network to read handwritten digits")
    headings = [
        h.strip().rstrip("#").strip().replace("\u2019", "'")  # typographic apostrophe
        for h in page.locator("main h1, main h2").all_inner_texts()
    ]
    assert headings[0] == "Teach a neural network to read handwritten digits with NumPy"
    for expected in SECTION_HEADINGS:
        assert expected in headings, f"missing heading {expected!r}; found {headings}"


def test_every_image_loaded_and_has_alt_text(page):
    images = page.eval_on_selector_all(
        "main img",
        "imgs => imgs.map(i => ({src: i.src, alt: i.alt, complete: i.complete,"
        " width: i.naturalWidth, height: i.naturalHeight}))",
    )
    figures = [
        image
        for image in images
        if "/_images/" in image["src"] or ".svg" in image["src"]
    ]
    assert len(figures) >= 8, images  # the diagram and seven plots
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
        assert image["alt"].strip(), f"no alt text: {image['src']}"


def test_hidden_cells_are_absent(page, notebook):
    text = page.content()
    visible = "\n".join(
        cell.source
        for cell in notebook.cells
        if "remove-cell" not in cell.metadata.get("tags", [])
    )
    hidden_lines = [
        line.strip()
        for cell in notebook.cells
        if "remove-cell" in cell.metadata.get("tags", [])
        for line in cell.source.splitlines()
        if len(line.strip()) > 20 and line.strip() not in visible
    ]
    assert len(hidden_lines) > 10
    body = page.inner_text("main")
    for line in hidden_lines:
        assert line not in body, f"a remove-cell line is on the page: {line}"
    assert "os.environ.get(" not in text


def test_no_errors_warnings_or_stderr_on_the_page(page):
    body = page.inner_text("main")
    for marker in (
        "Traceback (most recent call last)",
        "Warning:",
        "Error:",
        "DeprecationWarning",
    ):
        assert marker not in body, marker
    assert page.locator(".output.error, .output.traceback, .output.stderr").count() == 0
    assert page.locator("main .cell_output").count() >= 20
    assert (
        "<matplotlib" not in body
        and "np.uint8(" not in body
        and "np.float64(" not in body
    )


def test_downloads_offered(built_site, page):
    sources = built_site / "_sources" / "content"
    assert (sources / "tutorial-deep-learning-on-mnist.md").is_file()
    assert (sources / "tutorial-deep-learning-on-mnist.ipynb").is_file()
    links = page.eval_on_selector_all(
        "a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert any(str(link).endswith(".ipynb") for link in links)
    assert any(
        str(link).endswith("tutorial-deep-learning-on-mnist.md") for link in links
    )
