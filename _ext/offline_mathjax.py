"""Serve MathJax from the site itself, so formulas render with no network.

Sphinx loads MathJax from a CDN by default. This extension copies the few
MathJax 3 files that the page needs from the ``django-static-mathjax`` package
(a pip-installable copy of the official ``mathjax-full`` 3.2.2 release, listed
in requirements.txt) into ``_static/mathjax/`` and points ``mathjax_path`` at
them: the TeX-to-HTML bundle, its web fonts, the TeX extensions that MathJax
loads on demand (``\\boldsymbol`` needs one) and MathJax's licence.
"""

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

BUNDLE = "tex-chtml.js"
PATTERNS = (
    BUNDLE,
    "output/chtml/fonts/woff-v2/*.woff",
    "input/tex/extensions/*.js",
)
SKIP = {"all-packages.js"}  # every extension in one file; autoload needs none of it


def mathjax_source():
    try:
        from mathjax import __file__ as package_init  # django-static-mathjax
    except ImportError:
        package_init = None
    root = Path(package_init or ".").parent / "static" / "mathjax"
    if not (root / "es5" / BUNDLE).is_file():
        raise ExtensionError(
            f"offline_mathjax: MathJax's {BUNDLE} was not found. Install the "
            "package that ships it: pip install -r requirements.txt "
            "(django-static-mathjax)."
        )
    return root


def use_local_mathjax(app, config):
    mathjax_source()  # fail at the start of the build, not at its end
    config.mathjax_path = f"mathjax/{BUNDLE}"


def copy_mathjax(app):
    """Copy before pages are written: Sphinx reads local scripts to version them."""
    if app.builder.format != "html":
        return
    root = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    files = [(root / "LICENSE", target / "LICENSE")]
    for pattern in PATTERNS:
        for path in sorted((root / "es5").glob(pattern)):
            if path.name not in SKIP:
                files.append((path, target / path.relative_to(root / "es5")))
    for source, destination in files:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def setup(app):
    app.connect("config-inited", use_local_mathjax)
    app.connect("builder-inited", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
