"""Build the book strictly and use the page in a real headless Chromium.

The page is served on 127.0.0.1 and every request for another address is
blocked, as a reader with no network (or a strict proxy) would see it. The
build is told it runs in a GitHub workflow for SLUG, so the repository and
launch buttons can be checked against the addresses they must have.
"""

import datetime
import http.server
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO, serve

PAGE = "content/tutorial-deep-learning-on-mnist.html"
SOURCE = "content/tutorial-deep-learning-on-mnist.md"
ARTIFACTS = REPO / "test-artifacts"
SLUG = "test-owner/test-repo"  # the repository the test build is told of
BRANCH = "main"
SECTION_HEADINGS = [
    "What you'll do",
    "What you'll learn",
    "What you'll need",
    "1. Load the MNIST digits",
    "2. Prepare the data for the network",
    "3. Build and train a small network",
    "4. Plot what happened",
    "5. Go further: all 60,000 images, past 98%",
    "Next steps",
    "In practice",
    "On your own",
    "Further reading",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22aa",
            "best-practice",
        ],
    },
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}


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


def start_site_build(output, data_dir=None):
    """Start the strict build (warnings are errors, cells must not fail) into
    `output`, in the background and at a lower priority; its log goes to
    output/build.log. Returns the process. With `data_dir`, the notebook
    reads the MNIST files from there, so it never races with another run's
    download into _data/."""
    environment = dict(
        os.environ,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY=SLUG,
        GITHUB_REF_NAME=BRANCH,
        GITHUB_HEAD_REF="",
    )
    if data_dir is not None:
        environment["MNIST_DATA_DIR"] = str(data_dir)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    with open(Path(output) / "build.log", "w") as log:
        return subprocess.Popen(
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
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            preexec_fn=lambda: os.nice(10),
        )


@pytest.fixture(scope="module")
def built_site(request, tmp_path_factory):
    """The site, built by the build conftest started at collection (or now)."""
    started = getattr(request.config, "site_build", None)
    if started is None:
        output = tmp_path_factory.mktemp("book")
        started = (start_site_build(output), output)
    process, output = started
    process.wait(timeout=900)
    log = (Path(output) / "build.log").read_text()
    problems = [
        line
        for line in log.splitlines()
        if "WARNING" in line or "ERROR" in line or "Error" in line
    ]
    assert process.returncode == 0, "\n".join(problems) or log[-3000:]
    return Path(output) / "_build" / "html"


@pytest.fixture(scope="module")
def site_url(built_site):
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(built_site), **kwargs)

        def log_message(self, *args):
            pass

    with serve(QuietHandler) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = find_chromium()
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


class Visit:
    """The page opened in a fresh browser context, with what it tried and said."""

    def __init__(self, browser, site_url, viewport, color_scheme="light"):
        from playwright.sync_api import TimeoutError as PageTimeout

        self.context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        self.offsite_requests = []
        self.console_errors = []
        self.context.route(lambda url: not url.startswith(site_url + "/"), self._block)
        self.tab = self.context.new_page()
        self.tab.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text)
                if message.type == "error"
                else None
            ),
        )
        self.tab.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.tab.goto(f"{site_url}/{PAGE}", wait_until="load")
        # MathJax typesets after load; its promise settles when every formula is
        # done. If MathJax never arrives, the formula test says so.
        try:
            self.tab.wait_for_function(
                "window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=30_000,
            )
            self.tab.evaluate("MathJax.startup.promise")
        except PageTimeout:
            pass

    def _block(self, route):
        self.offsite_requests.append(route.request.url)
        route.abort()

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def visits(browser, site_url):
    """The page at each (width, colour scheme), opened once for the module."""
    opened = {}

    def open_page(viewport, color_scheme="light"):
        key = (viewport["width"], color_scheme)
        if key not in opened:
            opened[key] = Visit(browser, site_url, viewport, color_scheme)
        return opened[key]

    yield open_page
    for visit in opened.values():
        visit.close()


@pytest.fixture(scope="module")
def desktop(visits):
    visit = visits(DESKTOP)
    ARTIFACTS.mkdir(exist_ok=True)
    visit.tab.screenshot(path=str(ARTIFACTS / "tutorial-page.png"), full_page=True)
    return visit


@pytest.fixture(scope="module")
def page(desktop):
    return desktop.tab


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def visit(request, visits):
    return visits(request.param)


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


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_clean_console_and_no_offsite_request(visits, color_scheme):
    for viewport in (DESKTOP, PHONE):
        visit = visits(viewport, color_scheme)
        mode = visit.tab.evaluate("document.documentElement.dataset.theme")
        assert mode == color_scheme
        assert visit.console_errors == [], visit.console_errors
        assert visit.offsite_requests == [], visit.offsite_requests


def test_formulas_are_typeset_offline(desktop, built_site):
    page = desktop.tab
    formulas = page.locator("main .math")
    count = formulas.count()
    assert count >= 20
    typeset = page.locator("main .math mjx-container").count()
    assert typeset == count, f"{typeset} of {count} formulas typeset"
    assert page.locator("main mjx-merror").count() == 0
    body = page.inner_text("main")
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in body, f"raw TeX {raw!r} left on the page"
    scripts = page.eval_on_selector_all("script[src]", "s => s.map(e => e.src)")
    assert any("/_static/mathjax/tex-chtml.js" in src for src in scripts), scripts
    assert (built_site / "_static" / "mathjax" / "LICENSE").is_file()


SHOWN = """which => {
  const modal = document.querySelector(`#pst-${which}-sidebar-modal`);
  const sidebar = modal && modal.open ? modal : document.querySelector(`#pst-${which}-sidebar`);
  if (!sidebar.checkVisibility({visibilityProperty: true, opacityProperty: true})) return false;
  const box = sidebar.getBoundingClientRect();
  return box.width > 150 && box.height > 150 && box.left >= 0 && box.right <= innerWidth;
}"""


def visible_toggle(tab, which):
    toggles = tab.locator(f"button.{which}-toggle")
    shown = [
        toggles.nth(i) for i in range(toggles.count()) if toggles.nth(i).is_visible()
    ]
    assert len(shown) == 1, f"{len(shown)} visible {which} toggles"
    return shown[0]


def click_toggle_and_back(visit, which, screenshot):
    """Click the toggle, expect the sidebar to change, then change it back."""
    tab = visit.tab
    before = tab.evaluate(SHOWN, which)
    visible_toggle(tab, which).click()
    tab.wait_for_function(f"() => ({SHOWN})('{which}') !== {str(before).lower()}")
    if not before:
        tab.screenshot(path=str(ARTIFACTS / screenshot))
    modal = tab.locator(f"#pst-{which}-sidebar-modal[open]")
    if modal.count():  # a phone-width sidebar opens as a dialog: tap beside it
        box = modal.bounding_box()
        x = box["x"] - 10 if box["x"] > 20 else box["x"] + box["width"] + 10
        tab.mouse.click(x, box["y"] + box["height"] / 2)
    else:
        visible_toggle(tab, which).click()
    tab.wait_for_function(f"() => ({SHOWN})('{which}') === {str(before).lower()}")
    return before


def test_sidebar_toggles_show_and_hide_their_sidebars(visit):
    ARTIFACTS.mkdir(exist_ok=True)
    width = visit.tab.viewport_size["width"]
    if width >= DESKTOP["width"]:
        visit.tab.screenshot(path=str(ARTIFACTS / f"sidebars-{width}.png"))
    for which in ("primary", "secondary"):
        toggles = visit.tab.locator(f"button.{which}-toggle")
        if width >= DESKTOP["width"] and not any(
            toggles.nth(i).is_visible() for i in range(toggles.count())
        ):
            # Wide enough that the page keeps this sidebar open, with no toggle.
            assert visit.tab.evaluate(SHOWN, which), f"{which} sidebar not shown"
            continue
        was_shown = click_toggle_and_back(visit, which, f"{which}-open-{width}.png")
        assert was_shown == (width >= DESKTOP["width"]), (which, width, was_shown)
    assert visit.console_errors == []


def test_one_search_box(visit):
    boxes = visit.tab.locator(".search-button-field, .search-button")
    visible = [boxes.nth(i) for i in range(boxes.count()) if boxes.nth(i).is_visible()]
    assert len(visible) == 1, [box.evaluate("e => e.outerHTML") for box in visible]


FOCUS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  if (element.dataset.tabStop) return 'seen';
  element.dataset.tabStop = 'yes';
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ring = style.boxShadow.split(/,(?![^(]*\\))/).some(
    shadow => !/rgba\\([^)]*, 0\\)/.test(shadow) && /[1-9]\\d*px/.test(shadow));
  return {visible: outline || ring, html: element.outerHTML.slice(0, 160)};
}"""


def test_every_tab_stop_shows_focus(visit):
    tab, stops, unseen = visit.tab, 0, []
    for _ in range(1000):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUS)
        if focused == "seen":
            break  # round the page and back to the first stop
        if focused is not None:
            stops += 1
            if not focused["visible"]:
                unseen.append(focused["html"])
    assert stops > 30
    assert unseen == [], "no visible focus on:\n" + "\n".join(unseen)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(visits, viewport, color_scheme):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    visit = visits(viewport, color_scheme)
    assert visit.tab.evaluate("document.documentElement.dataset.theme") == (
        color_scheme
    )
    violations = axe.run(visit.tab, options=AXE_OPTIONS).response["violations"]
    found = {
        (violation["id"], " ".join(node["target"])): node["html"][:200]
        for violation in violations
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    }
    assert found == {}, found


STAMP = re.compile(
    r"Executed on (?P<date>\d{1,2} \w+ \d{4}) at (?P<time>\d\d:\d\d) UTC "
    r"with Python (?P<python>\S+), NumPy (?P<numpy>\S+) "
    r"and Matplotlib (?P<matplotlib>\S+)\."
)


def test_executed_with_stamp_matches_the_build(page):
    """The page's stamp names this build's run: its time and its versions.

    The book was built by this interpreter's environment (the jupyter-book
    beside sys.executable), whose kernel ran the notebook.
    """
    stamps = page.locator("main p.executed-with").all_inner_texts()
    assert len(stamps) == 1, stamps
    match = STAMP.fullmatch(stamps[0].strip())
    assert match, stamps[0]
    assert match["python"] == platform.python_version()
    assert match["numpy"] == metadata.version("numpy")
    assert match["matplotlib"] == metadata.version("matplotlib")
    executed = datetime.datetime.strptime(
        f"{match['date']} {match['time']}", "%d %B %Y %H:%M"
    ).replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    # Executed by this module's build: minutes ago, never in the future.
    assert now - datetime.timedelta(hours=3) <= executed <= now, (executed, now)


def test_buttons_point_at_the_repository_the_book_is_built_from(desktop, built_site):
    links = desktop.tab.eval_on_selector_all(
        ".bd-header-article a[href]", "links => links.map(a => a.href)"
    )
    home = f"https://github.com/{SLUG}"
    assert home in links
    assert any(link.startswith(f"{home}/issues/new") for link in links)
    binder = [link for link in links if "mybinder.org" in link]
    assert binder == [
        f"https://mybinder.org/v2/gh/{SLUG}/{BRANCH}?urlpath=lab/tree/{SOURCE}"
    ]
    colab = [link for link in links if "colab.research.google.com" in link]
    assert colab == [
        f"https://colab.research.google.com/github/{SLUG}/blob/notebooks/"
        + SOURCE.replace(".md", ".ipynb")
    ]


def test_no_page_names_another_repository(built_site):
    """No placeholder, and every launch or Thebe address is the book's own."""
    pages = list(built_site.rglob("*.html"))
    assert len(pages) >= 3
    addresses = re.compile(
        r"mybinder\.org/v2/gh/([^/?\"]+/[^/?\"]+)"
        r"|colab\.research\.google\.com/github/([^/?\"]+/[^/?\"]+)"
        r"|repo: \"([^\"]+)\""
    )
    named = 0
    for page_file in pages:
        text = page_file.read_text(encoding="utf-8")
        assert "your-org" not in text, page_file
        for match in addresses.finditer(text):
            named += 1
            assert "".join(match.groups(default="")) == SLUG, (page_file, match[0])
    assert named >= 3  # Binder, Colab and Thebe on the tutorial's page


# Last in the module: it opens every solution on the shared desktop page.
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
