"""Peak resident memory of the whole tutorial notebook, run as a plain script.

    python benchmarks/peak_memory.py             # last line: peak_rss_mib=...
    python benchmarks/peak_memory.py --by-cell   # and which cells raise the peak,
                                                 # with the largest arrays alive

The notebook is converted with jupytext to a py:percent script and run by a
child Python process in content/, as `python tutorial.py` would run it (with
Matplotlib's non-interactive Agg backend; MNIST_BASE_URL and MNIST_DATA_DIR pass
through). The figure is the child's maximum resident set size, from
getrusage(RUSAGE_CHILDREN): the number GNU time's verbose report
(`/usr/bin/time -v python tutorial.py`) prints as "Maximum resident set size"
(in kbytes, that is KiB: divide by 1024 for the MiB printed here).
With --by-cell the child runs the same cells one by one in one namespace, and
after each cell notes its own peak so far and the NumPy arrays it holds.
Linux and macOS (the resource module).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "content" / "tutorial-deep-learning-on-mnist.md"
MIB = 2**20
# ru_maxrss is in kilobytes on Linux, in bytes on macOS.
MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024


def peak_rss(who):
    return resource.getrusage(who).ru_maxrss * MAXRSS_BYTES


def notebook_script():
    """The notebook as a py:percent script (magics commented out)."""
    import jupytext

    return jupytext.writes(jupytext.read(NOTEBOOK), fmt="py:percent")


def code_cells(script):
    """The code cells of a py:percent script, as source strings."""
    cells, current = [], None
    for line in script.splitlines(keepends=True):
        if line.startswith("# %%"):
            current = None if "[markdown]" in line else []
            if current is not None:
                cells.append(current)
        elif current is not None:
            current.append(line)
    return ["".join(cell) for cell in cells]


def run_child(args, workdir):
    """Run Python in `workdir` (its printing silenced); return its peak RSS."""
    env = dict(os.environ, MPLBACKEND="Agg")
    subprocess.run(
        [sys.executable, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return peak_rss(resource.RUSAGE_CHILDREN)


def arrays_in(namespace):
    """(name, array) for every NumPy array in the namespace, looking one level
    into dicts, lists and tuples."""
    for name, value in namespace.items():
        if isinstance(value, np.ndarray):
            yield name, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, np.ndarray):
                    yield f"{name}[{key!r}]", item
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if isinstance(item, np.ndarray):
                    yield f"{name}[{index}]", item


def memory_owner(array):
    """The object whose memory the array uses: itself, the array it is a view
    of, or a buffer such as the bytes np.frombuffer read."""
    owner = array
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    return owner


def describe_arrays(namespace, count):
    found = sorted(arrays_in(namespace), key=lambda item: -item[1].nbytes)
    owners = {id(memory_owner(array)): memory_owner(array) for _, array in found}
    held = sum(
        owner.nbytes if isinstance(owner, np.ndarray) else memoryview(owner).nbytes
        for owner in owners.values()
    )
    lines = [f"    {held / MIB:7.1f} MiB held by the arrays in the namespace; largest:"]
    for name, array in found[:count]:
        owner = memory_owner(array)
        view = (
            "  (a view)" if isinstance(owner, np.ndarray) and owner is not array else ""
        )
        lines.append(
            f"    {array.nbytes / MIB:7.1f} MiB  {name}  {array.dtype} "
            f"{array.shape}{view}"
        )
    return "\n".join(lines)


def run_cells(cells_file, report_file, step_mib=10, count=8):
    """Child process of --by-cell: run the cells, report where the peak grows."""
    cells = json.loads(Path(cells_file).read_text())
    namespace = {"__name__": "__main__"}
    peak = peak_rss(resource.RUSAGE_SELF)
    report = []
    for number, source in enumerate(cells, start=1):
        exec(compile(source, f"cell {number}", "exec"), namespace)
        now = peak_rss(resource.RUSAGE_SELF)
        if now - peak >= step_mib * MIB:
            first_line = next(
                (line for line in source.splitlines() if line.strip()), ""
            )
            report.append(
                f"code cell {number}: peak {now / MIB:.0f} MiB "
                f"(+{(now - peak) / MIB:.0f}), starting {first_line[:60]!r}\n"
                + describe_arrays(namespace, count)
            )
            peak = now
    report.append("at the end:\n" + describe_arrays(namespace, count))
    Path(report_file).write_text("\n".join(report) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--by-cell",
        action="store_true",
        help="run cell by cell and list the cells that raise the peak",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_cells(*args.child)
        return

    script = notebook_script()
    with tempfile.TemporaryDirectory() as folder:
        if args.by_cell:
            cells_file = Path(folder) / "cells.json"
            cells_file.write_text(json.dumps(code_cells(script)))
            report_file = Path(folder) / "report.txt"
            child = [__file__, "--child", str(cells_file), str(report_file)]
        else:
            script_file = Path(folder) / "tutorial.py"
            script_file.write_text(script)
            child = [str(script_file)]
        peak = run_child(child, NOTEBOOK.parent)
        if args.by_cell:
            print(report_file.read_text(), end="")
    print(f"peak_rss_mib={peak / MIB:.0f}")


if __name__ == "__main__":
    main()
