"""Execute a copy of the lesson with every claim check attached.

    python tests/check_claims.py PATH [--embed OUT.ipynb]

PATH is the MyST `.md` or an `.ipynb`. Its code cells run in order in a fresh
kernel, started in the folder PATH is in (so `../_data` means what it means
for the notebook) and with the environment as it is (the `MNIST_*` variables
the notebook reads included). Right after each cell tagged `id-...`, the
checks of `claims.py` attached to that tag run in the same kernel and read
the variables the lesson just made.

Each failed check prints one line naming the cell and the claim; a check
whose cell is missing from the notebook fails too. The last line counts the
checks that ran and passed, and the exit status is non-zero if any failed.

With `--embed OUT.ipynb`, nothing runs: OUT gets the notebook with each
check inserted as a code cell after the cell it reads, which is how nbval
checks the claims in the same execution as the rest of the notebook.
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from claims import CHECKS  # noqa: E402

ID_PREFIX = "id-"
IMPORT_CHECKS = (
    f"import sys\nif {str(TESTS)!r} not in sys.path:\n"
    f"    sys.path.insert(0, {str(TESTS)!r})"
)


def cell_ids(cell):
    return [
        tag
        for tag in cell.get("metadata", {}).get("tags", [])
        if tag.startswith(ID_PREFIX)
    ]


def checks_by_cell():
    attached = defaultdict(list)
    for check in CHECKS.values():
        attached[check.cell].append(check)
    return attached


def check_source(check):
    return f"__import__('claims').run({check.name!r}, globals())"


def missing_cells(notebook):
    present = {tag for cell in notebook.cells for tag in cell_ids(cell)}
    return sorted(set(checks_by_cell()) - present)


def embed(notebook):
    """The notebook with a code cell for each check after the cell it reads,
    and, for each of its cells, the check it runs (None for the others)."""
    attached = checks_by_cell()
    cells, roles = [nbformat.v4.new_code_cell(IMPORT_CHECKS)], [None]
    for cell in notebook.cells:
        cells.append(cell)
        roles.append(None)
        for tag in cell_ids(cell):
            for check in attached[tag]:
                cells.append(nbformat.v4.new_code_cell(check_source(check)))
                roles.append(check)
    embedded = nbformat.v4.new_notebook(metadata=notebook.metadata)
    embedded.cells = cells
    return embedded, roles


def failure_line(check, why):
    return f"FAILED [{check.cell}] {check.claim}: {why}"


def check_notebook(path, report=print, timeout=900):
    """Run the notebook at `path` with its checks; return (passed, failed),
    each a list of check names, after reporting each failure."""
    path = Path(path).resolve()
    notebook = jupytext.read(path)
    attached = checks_by_cell()
    passed, failed = [], []
    for tag in missing_cells(notebook):
        for check in attached[tag]:
            failed.append(check.name)
            report(failure_line(check, f"the notebook has no cell tagged {tag}"))

    embedded, roles = embed(notebook)
    client = NotebookClient(
        embedded,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for index, (cell, check) in enumerate(zip(embedded.cells, roles)):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                if check is None:  # the lesson's own cell failed: stop
                    first_line = cell.source.strip().splitlines()[0]
                    report(
                        f"ERROR in the cell that starts {first_line!r}: "
                        f"{error.ename}: {error.evalue}"
                    )
                    break
                failed.append(check.name)
                report(f"FAILED {error.evalue}")  # names the cell and claim
            else:
                if check is not None:
                    passed.append(check.name)
    for check in CHECKS.values():
        if check.name not in passed and check.name not in failed:
            failed.append(check.name)
            report(failure_line(check, "its cell was never reached"))
    return passed, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the notebook (.md or .ipynb)")
    parser.add_argument(
        "--embed",
        type=Path,
        metavar="OUT",
        help="write the notebook with its checks as cells to OUT; run nothing",
    )
    args = parser.parse_args(argv)
    if not args.path.is_file():
        parser.error(f"{args.path} is not a file")

    if args.embed:
        notebook = jupytext.read(args.path)
        missing = missing_cells(notebook)
        if missing:
            print(f"{args.path} has no cells tagged {', '.join(missing)}")
            return 1
        nbformat.write(embed(notebook)[0], args.embed)
        print(f"{args.embed}: {args.path.name} with {len(CHECKS)} checks")
        return 0

    print(f"Executing {args.path} with {len(CHECKS)} claim checks", flush=True)
    passed, failed = check_notebook(args.path, report=print)
    ran = len(passed) + len(failed)
    print(f"{ran} checks ran: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
