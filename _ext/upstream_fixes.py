"""Work around two upstream bugs that the book's pages show. Drop each when fixed.

1. Sphinx 7.4 writes every inline script that an extension adds after the
   builder starts twice (the builder stores it once as ``None`` and once as
   ``''``; fixed in Sphinx 8.2 by sphinx-doc/sphinx#13402, which Jupyter Book 1
   cannot use). sphinx-thebe's ``const THEBE_JS_URL = ...`` then throws
   "Identifier 'THEBE_JS_URL' has already been declared" on every page load.
   This drops the second copy of any inline script from the page.
2. MyST-NB labels the ``<summary>`` of a hidden-input cell "Toggle hidden
   content" while it shows "Show code cell source", which fails WCAG 2.5.3
   (axe's label-content-name-mismatch). Without the label, the summary is
   named by the text it shows.
"""

from html import escape

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput


def drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted(getattr(script, "attributes", {}).items()))
        key = (filename, attributes)
        if filename == "" and key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def visit_hidden_input_summary(self, node):
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    for state, prompt in (("collapsed", "prompt_show"), ("expanded", "prompt_hide")):
        self.body.append(
            f'<p class="{state} admonition-title">{escape(node[prompt])}</p>\n'
        )
    self.body.append("</summary>\n")


def setup(app):
    app.connect("html-page-context", drop_repeated_inline_scripts, priority=900)
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(visit_hidden_input_summary, depart_HideCellInput),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
