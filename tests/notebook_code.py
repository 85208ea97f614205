"""Load the functions that the tutorial writes by hand, straight from its cells.

The lesson tags each cell that defines a reusable piece with `model-code` (the
network, the optimiser, the data preparation) or `data-code` (reading the IDX
files). Tests and the benchmark execute those cells, in notebook order, into one
namespace, so they check and time exactly the code that readers run.
"""

import time
from pathlib import Path

import jupytext

NOTEBOOK = (
    Path(__file__).resolve().parent.parent
    / "content"
    / "tutorial-deep-learning-on-mnist.md"
)
CODE_TAGS = frozenset({"model-code", "data-code"})


def notebook_code(path=NOTEBOOK, tags=CODE_TAGS):
    """A dict of every name the tagged cells define (functions, imports)."""
    namespace = {"time": time}
    found = 0
    for cell in jupytext.read(path).cells:
        cell_tags = tags & set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and cell_tags:
            name = f"{path.name}:{cell.source[:40]!r}"
            try:
                exec(compile(cell.source, name, "exec"), namespace)
            except Exception as error:
                first_line = cell.source.strip().splitlines()[0]
                raise RuntimeError(
                    f"{path}: the cell tagged {sorted(cell_tags)} that starts "
                    f"{first_line!r} fails when run with the other tagged cells only "
                    f"({type(error).__name__}: {error}). A tagged cell should only "
                    "import and define functions: move the rest to an untagged cell."
                ) from error
            found += 1
    if not found:
        raise LookupError(f"{path} has no code cells tagged {sorted(tags)}")
    return namespace
