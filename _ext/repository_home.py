"""Point the repository, issue and launch buttons at where the book is built from.

Jupyter Book 1 reads no environment variables, so this Sphinx extension finds
the repository's public home when the build starts:

- in a GitHub workflow, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and the
  branch being built (GITHUB_HEAD_REF for a pull request, else GITHUB_REF_NAME);
- elsewhere, from ``git remote get-url origin`` when that is a GitHub address,
  with the remote's default branch (``main`` when git does not know it).

With no public home the repository, issue and launch buttons are left out, so
no page links to an address that is not the book's own.

Binder opens the MyST ``.md`` source on the built branch (the repository's
``.jupyter/`` and ``.binder/postBuild`` make JupyterLab show it as a notebook).
Colab opens only ``.ipynb`` files, so the Colab button opens the paired
notebook that the publishing workflow keeps on the ``notebooks`` branch, at the
same path.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import NamedTuple

NOTEBOOKS_BRANCH = "notebooks"
GITHUB = "https://github.com"
GITHUB_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$"
)


class Home(NamedTuple):
    url: str  # https://github.com/owner/name
    branch: str

    @property
    def slug(self):
        return self.url.removeprefix(GITHUB + "/")


def github_url(remote):
    """The https address of a GitHub remote URL, or None for any other remote."""
    match = GITHUB_REMOTE.match(remote.strip())
    if match is None:
        return None
    return f"{GITHUB}/{match['owner']}/{match['name']}"


def home_from_environment(environ):
    """The repository a GitHub workflow is building, or None outside one."""
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    slug = environ.get("GITHUB_REPOSITORY", "")
    branch = environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME")
    if server != GITHUB or not re.fullmatch(r"[\w.-]+/[\w.-]+", slug) or not branch:
        return None  # Binder and Colab open only repositories on github.com
    return Home(f"{GITHUB}/{slug}", branch)


def _git(root, *args):
    git = shutil.which("git")
    if git is None:
        return ""
    result = subprocess.run(
        [git, "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def home_from_git(root):
    """The GitHub repository that ``origin`` points at, or None."""
    url = github_url(_git(root, "remote", "get-url", "origin"))
    if url is None:
        return None
    default = _git(root, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    return Home(url, default.removeprefix("origin/") or "main")


def find_home(environ, root):
    return home_from_environment(environ) or home_from_git(root)


def configure_buttons(app, config):
    """Fill in the theme's repository settings, or turn the buttons off."""
    theme = config.html_theme_options
    home = find_home(os.environ, app.srcdir)
    app.repository_home = home  # read by the page handlers below
    if home is None:
        theme["launch_buttons"] = {}
        theme["repository_url"] = ""
        for button in ("use_repository_button", "use_issues_button"):
            theme[button] = False
        return
    theme["repository_url"] = home.url
    theme["repository_branch"] = home.branch
    # sphinx-thebe writes its own copy of the repository into every page.
    config.thebe_config = dict(
        config.thebe_config, repository_url=home.url, repository_branch=home.branch
    )


def keep_notebook_download(app, pagename, templatename, context, doctree):
    """Offer the executed .ipynb for download, with or without launch buttons.

    The theme copies it into _sources/ only when it also makes launch buttons.
    """
    if not context.get("sourcename", "").endswith(".md"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        copy = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, copy)
        context["ipynb_source"] = f"{pagename}.ipynb"


def point_launch_buttons(app, pagename, templatename, context, doctree):
    """Binder opens the .md on the built branch; Colab the .ipynb on NOTEBOOKS_BRANCH.

    The theme's own links use the .ipynb whenever one sits beside the .md at
    build time (one does after a local run), and Colab's use the .md otherwise.
    """
    home = app.repository_home
    launch = app.config.html_theme_options.get("launch_buttons", {})
    if home is None:
        return
    source = PurePosixPath(app.env.doc2path(pagename, base=False))
    notebook = source.with_suffix(".ipynb")
    binderhub = launch.get("binderhub_url", "").rstrip("/")
    colab = launch.get("colab_url", "").rstrip("/")
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if binderhub and url.startswith(binderhub + "/"):
                button["url"] = (
                    f"{binderhub}/v2/gh/{home.slug}/{home.branch}"
                    f"?urlpath=lab/tree/{source}"
                )
            elif colab and url.startswith(colab + "/"):
                button["url"] = (
                    f"{colab}/github/{home.slug}/blob/{NOTEBOOKS_BRANCH}/{notebook}"
                )


def drop_foreign_thebe_config(app, doctree, docname):
    """Without a home, remove sphinx-thebe's block naming its example repository."""
    if app.repository_home is not None:
        return
    for node in list(doctree.findall(lambda n: n.tagname == "raw")):
        if "text/x-thebe-config" in node.astext():
            node.parent.remove(node)


def setup(app):
    app.connect("config-inited", configure_buttons)
    app.connect("html-page-context", keep_notebook_download, priority=500)
    app.connect("html-page-context", point_launch_buttons, priority=600)
    app.connect("doctree-resolved", drop_foreign_thebe_config, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
