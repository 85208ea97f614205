"""Open the tutorial through a real Jupyter server, as JupyterLab does."""

import json
import os
import shutil
import sys

import jupytext
import pytest
from conftest import CONTENT, NOTEBOOK, REPO
from lab_server import (
    default_viewers,
    execute,
    kernel_channel,
    run_first_cells,
    running_lab,
)

NAME = NOTEBOOK.name


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with the README's settings, serving a copy of content/."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NAME)
    shutil.copy(CONTENT / "jupytext.toml", root / "jupytext.toml")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(REPO / ".jupyter"))
    with running_lab(sys.executable, root, env) as lab:
        yield dict(lab, root=root)


def test_markdown_opens_as_a_notebook_by_default(server):
    viewers = default_viewers(server)
    assert viewers.get("markdown") == "Jupytext Notebook", viewers


def test_contents_api_serves_the_md_as_a_notebook(server):
    url = f"{server['base']}/api/contents/{NAME}?type=notebook&content=1"
    model = server["session"].get(url, timeout=30).json()
    assert model["type"] == "notebook", model.get("message")
    cells = model["content"]["cells"]
    expected = jupytext.read(NOTEBOOK).cells
    assert len(cells) == len(expected) > 50
    assert cells[0]["source"].startswith("# Teach a neural network")
    code = [cell["source"] for cell in cells if cell["cell_type"] == "code"]
    assert code == [cell.source for cell in expected if cell.cell_type == "code"]
    tags = [cell["metadata"].get("tags", []) for cell in cells]
    assert sum("remove-cell" in t for t in tags) == 2  # Colab, environment


def test_saving_writes_the_paired_ipynb(server):
    url = f"{server['base']}/api/contents/{NAME}"
    model = server["session"].get(url + "?type=notebook&content=1", timeout=30).json()
    saved = server["session"].put(
        url,
        json={"type": "notebook", "format": "json", "content": model["content"]},
        timeout=30,
    )
    assert saved.ok, saved.text
    paired = server["root"] / NAME.replace(".md", ".ipynb")
    assert paired.is_file()
    assert len(json.loads(paired.read_text())["cells"]) == len(
        model["content"]["cells"]
    )
    assert jupytext.read(server["root"] / NAME).cells[0].source.startswith("# Teach")


def test_kernel_runs_the_first_code_cells(server):
    with kernel_channel(server) as channel:
        execute(channel, f"import os; os.chdir({str(server['root'])!r})")
        run_first_cells(channel, jupytext.read(NOTEBOOK))
