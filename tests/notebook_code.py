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
        if cell.cell_type == "code" and tags & set(cell.metadata.get("tags", [])):
            exec(
                compile(cell.source, f"{path.name}:{cell.source[:40]!r}", "exec"),
                namespace,
            )
            found += 1
    if not found:
        raise LookupError(f"{path} has no code cells tagged {sorted(tags)}")
    return namespace
