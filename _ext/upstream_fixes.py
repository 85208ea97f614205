"""Work around four upstream bugs that the book's pages show. Drop each when fixed.

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
3. pydata-sphinx-theme 0.17's search button is labelled "Search" while it
   shows "Search Ctrl+K" (WCAG 2.5.3 again). ``templates/`` overrides its
   template: the button is named by what it shows.
4. The same theme's colour-mode button is labelled "Color mode" while its
   icons' titles (Light, Dark, System Settings) make up its content (WCAG
   2.5.3). The overriding template hides the icons from assistive technology.
   The two templates copy 0.17.1's markup: compare them with the theme's
   ``components/`` when upgrading it.
"""

from html import escape
from pathlib import Path

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


def use_fixed_templates(app, config):
    # First in the search path, ahead of the theme's own components/.
    config.templates_path.insert(0, str(Path(__file__).parent / "templates"))


def setup(app):
    app.connect("config-inited", use_fixed_templates)
    app.connect("html-page-context", drop_repeated_inline_scripts, priority=900)
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(visit_hidden_input_summary, depart_HideCellInput),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
