"""Where the site's buttons point, a book with no public home, and the Colab cell."""

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import CONTENT, REPO

sys.path.insert(0, str(REPO / "_ext"))
import repository_home  # noqa: E402

SLUG = "an-owner/a-repo"


@pytest.mark.parametrize(
    "remote",
    [
        "https://github.com/an-owner/a-repo",
        "https://github.com/an-owner/a-repo.git",
        "https://github.com/an-owner/a-repo/",
        "git@github.com:an-owner/a-repo.git",
        "ssh://git@github.com/an-owner/a-repo.git",
    ],
)
def test_github_remotes_give_the_https_address(remote):
    assert repository_home.github_url(remote) == f"https://github.com/{SLUG}"


@pytest.mark.parametrize(
    "remote",
    ["", "/srv/git/a-repo", "https://gitlab.com/an-owner/a-repo.git",
     "https://github.com/an-owner", "https://example.com/github.com/a/b"],
)  # fmt: skip
def test_other_remotes_are_no_public_home(remote):
    assert repository_home.github_url(remote) is None


def test_a_github_workflow_names_the_repository_and_branch():
    environ = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": SLUG,
        "GITHUB_REF_NAME": "main",
    }
    home = repository_home.home_from_environment(environ)
    assert home == (f"https://github.com/{SLUG}", "main") and home.slug == SLUG
    pull_request = dict(environ, GITHUB_REF_NAME="7/merge", GITHUB_HEAD_REF="fix")
    assert repository_home.home_from_environment(pull_request).branch == "fix"
    enterprise = dict(environ, GITHUB_SERVER_URL="https://git.example.com")
    assert repository_home.home_from_environment(enterprise) is None
    assert repository_home.home_from_environment({}) is None


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_a_clone_of_a_github_repository_is_its_home(tmp_path):
    git(tmp_path, "init", "-q")
    assert repository_home.home_from_git(tmp_path) is None  # no remote
    git(tmp_path, "remote", "add", "origin", "/srv/git/a-repo")
    assert repository_home.home_from_git(tmp_path) is None
    git(tmp_path, "remote", "set-url", "origin", f"git@github.com:{SLUG}.git")
    assert repository_home.home_from_git(tmp_path) == (
        f"https://github.com/{SLUG}",
        "main",
    )
    git(
        tmp_path,
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    )
    assert repository_home.home_from_git(tmp_path).branch == "trunk"
    assert repository_home.home_from_git(tmp_path / "missing") is None


@pytest.fixture(scope="module")
def homeless_site(tmp_path_factory):
    """The book's configuration, built outside any repository and any workflow."""
    book = tmp_path_factory.mktemp("homeless")
    shutil.copy(REPO / "_config.yml", book)
    shutil.copytree(REPO / "_ext", book / "_ext")
    shutil.copytree(CONTENT / "_static", book / "content" / "_static")
    (book / "_toc.yml").write_text("format: jb-book\nroot: content/page\n")
    (book / "content" / "page.md").write_text(
        "---\n"
        "jupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n"
        "---\n\n# A page\n\nA formula, $\\boldsymbol{x}^2$.\n\n"
        "```{code-cell} ipython3\n:tags: [hide-input]\n\nprint('hidden')\n```\n"
    )
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")
    }
    env["GIT_CEILING_DIRECTORIES"] = str(book.parent)  # not inside any repository
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(book), "--all", "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return book / "_build" / "html"


def test_no_public_home_means_no_repository_or_launch_buttons(homeless_site):
    html = (homeless_site / "content" / "page.html").read_text()
    for address in ("github.com", "mybinder.org", "colab.research", "your-org"):
        assert address not in html, address
    assert "x-thebe-config" not in html
    assert "source-repository-button" not in html and "launch-buttons" not in html
    assert (homeless_site / "_sources" / "content" / "page.ipynb").is_file()
    assert "_sources/content/page.ipynb" in html  # still offered for download


def test_each_inline_script_once_and_no_mismatched_summary_label(homeless_site):
    html = (homeless_site / "content" / "page.html").read_text()
    assert html.count("const THEBE_JS_URL") == 1
    assert "<summary aria-label" not in html
    assert "<summary>" in html


def test_mathjax_ships_with_the_site(homeless_site):
    html = (homeless_site / "content" / "page.html").read_text()
    assert "cdn.jsdelivr.net" not in html
    assert 'src="../_static/mathjax/tex-chtml.js' in html
    mathjax = homeless_site / "_static" / "mathjax"
    for needed in (
        "tex-chtml.js",
        "LICENSE",
        "input/tex/extensions/boldsymbol.js",
        "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
    ):
        assert (mathjax / needed).is_file(), needed


def colab_cell(notebook):
    cells = [
        cell
        for cell in notebook.cells
        if "colab-setup" in cell.metadata.get("tags", [])
    ]
    assert len(cells) == 1, "one code cell tagged colab-setup"
    return cells[0]


def test_colab_cell_is_hidden_and_comes_before_pooch_is_imported(notebook):
    cell = colab_cell(notebook)
    assert cell.cell_type == "code"
    assert "remove-cell" in cell.metadata["tags"]
    first_pooch = next(
        index
        for index, other in enumerate(notebook.cells)
        if other.cell_type == "code" and "import pooch" in other.source
    )
    assert notebook.cells.index(cell) < first_pooch


def test_hidden_cells_are_collapsed_in_jupyterlab_too(notebook):
    """The site drops or folds the cells a reader's run needs but the lesson
    does not teach (Colab set-up, environment overrides, download helper,
    exercise checks); JupyterLab shows every cell, so the same cells carry
    `source_hidden` and show there as a collapsed line."""
    hidden = [
        cell
        for cell in notebook.cells
        if {"remove-cell", "hide-input"} & set(cell.metadata.get("tags", []))
    ]
    assert len(hidden) == 4
    for cell in hidden:
        collapsed = cell.metadata.get("jupyter", {}).get("source_hidden")
        assert collapsed is True, f"not collapsed in JupyterLab: {cell.source[:60]!r}"


@pytest.mark.parametrize("in_colab", [False, True])
def test_colab_cell_installs_pooch_only_in_colab(notebook, monkeypatch, in_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(colab_cell(notebook).source, {})
    if not in_colab:
        assert calls == []
        return
    [(args, kwargs)] = calls
    command = args[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "pooch" in command and kwargs.get("check") is True
