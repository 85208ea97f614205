"""End each executed notebook's page with when and with what it was run.

The line is read from the build that made the page, never typed:

- the time, from MyST-NB's record of the execution (its ``exec_data``: the
  moment the notebook was run, which this build does every time);
- Python, from the executed notebook's ``language_info``, which the kernel
  reports;
- NumPy and Matplotlib, from the build's environment (importlib.metadata):
  the kernel runs in the same environment as the build (tox, the workflow).

A page that was not executed in this build gets no line, rather than an old
one.
"""

import datetime
from html import escape
from importlib import metadata

from docutils import nodes
from myst_nb.sphinx_ import NbMetadataCollector

PACKAGES = {"NumPy": "numpy", "Matplotlib": "matplotlib"}
CLASS = "executed-with"


def package_version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def stamp_text(executed_at, python, versions):
    """One sentence: 'Executed on 2 December 2026 at 13:05 UTC with ...'."""
    when = executed_at.astimezone(datetime.timezone.utc)
    tools = [f"Python {python}"] + [
        f"{name} {version}" for name, version in versions.items() if version
    ]
    listed = ", ".join(tools[:-1]) + " and " + tools[-1] if tools[1:] else tools[0]
    date = f"{when.day} {when:%B %Y}"  # 2 December 2026, on any platform
    return f"Executed on {date} at {when:%H:%M} UTC with {listed}."


def add_stamp(app, doctree, docname):
    executed = NbMetadataCollector.get_doc_data(app.env).get(docname, {})
    exec_data = executed.get("exec_data")
    if not exec_data or not exec_data.get("succeeded"):
        return
    language = app.env.metadata.get(docname, {}).get("language_info", {})
    python = language.get("version")
    if not python:
        return
    executed_at = datetime.datetime.fromtimestamp(
        exec_data["mtime"], tz=datetime.timezone.utc
    )
    versions = {name: package_version(dist) for name, dist in PACKAGES.items()}
    text = stamp_text(executed_at, python, versions)
    # Small print at the end of the article: HTML only (other builders, such
    # as linkcheck, skip a raw node).
    html = f'<p class="{CLASS}"><small>{escape(text)}</small></p>'
    doctree += nodes.raw("", html, format="html")


def setup(app):
    app.connect("doctree-resolved", add_stamp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
