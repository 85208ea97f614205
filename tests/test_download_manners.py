"""How the tutorial's download behaves on a reader's machine.

The notebook's own cells, from the top down to the one that fetches the data,
run in a real kernel (nbclient) against a loopback mirror, as in
test_data_faults.py. Checked here:
- a slow download shows progress (percent, bytes, rate) while it runs, and
  leaves the same clean lines as a fast one once it is done;
- a fast download prints nothing but those lines, and nothing on stderr;
- downloaded files get the permissions of any file the user creates (umask).
"""

import copy
import http.server
import re
import shutil
import time

import jupytext
import nbformat
import pytest
from conftest import MNIST_NAMES, code_cells_until, serve
from tqdm import tqdm

SLOW_FILE = "t10k-images-idx3-ubyte.gz"  # 1.6 MB: about 4 s at the slow rate
SLOW_BYTES_PER_S = 400_000


def make_handler(source):
    class Mirror(http.server.BaseHTTPRequestHandler):
        """GET /fast/<file name> at full speed, /slow/<file name> throttled."""

        def log_message(self, *args):
            pass

        def do_GET(self):
            _, speed, name = self.path.split("/", 2)
            body = (source / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if speed == "fast":
                self.wfile.write(body)
                return
            started = time.monotonic()
            chunk = 8192
            for offset in range(0, len(body), chunk):
                self.wfile.write(body[offset : offset + chunk])
                # Never ahead of SLOW_BYTES_PER_S since the first byte.
                due = (offset + chunk) / SLOW_BYTES_PER_S
                time.sleep(max(0.0, due - (time.monotonic() - started)))

    return Mirror


@pytest.fixture(scope="module")
def mirror(mnist_source):
    with serve(make_handler(mnist_source)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def fetch_cells(notebook):
    """The notebook's code cells from the top to the one that fetches the data."""
    return code_cells_until(
        notebook,
        lambda source: source.startswith("fetch_mnist("),
        "starts with fetch_mnist(",
    )


@pytest.fixture
def fetch(kernel, fetch_cells):
    """fetch(cache, base_url, umask) -> (stdout, stderr) of the cells, raw."""

    def run(cache, base_url, umask=0o022):
        setup = nbformat.v4.new_code_cell(
            "import os\n"
            f"os.environ['MNIST_BASE_URL'] = {base_url!r}\n"
            f"os.environ['MNIST_DATA_DIR'] = {str(cache)!r}\n"
            f"os.umask({umask:#o})\n"
        )
        cells = [setup] + [copy.deepcopy(cell) for cell in fetch_cells]
        kernel.nb.cells = cells
        for index, cell in enumerate(cells):
            kernel.execute_cell(cell, index)  # raises if a cell fails
        streams = {"stdout": "", "stderr": ""}
        for cell in cells[1:]:
            for output in cell.outputs:
                if output.output_type == "stream":
                    streams[output.name] += output.text
        return streams["stdout"], streams["stderr"]

    return run


def as_displayed(raw):
    """The text as JupyterLab or a terminal leaves it: after a carriage
    return, a line is drawn again from its start."""
    return "\n".join(line.split("\r")[-1].rstrip() for line in raw.split("\n"))


def expected_lines(cache, downloaded, found=()):
    """The lines a download prints, with the timings as a pattern."""
    lines = [
        rf"{re.escape(name)}: found in {re.escape(str(cache))}, checksum OK"
        for name in found
    ]
    for name in downloaded:
        lines.append(rf"{re.escape(name)}: downloading from \S+/{re.escape(name)}")
        lines.append(rf"{re.escape(name)}: \d+\.\d MB in \d+\.\d s, checksum OK")
    return "\n".join(lines) + "\n"


# A tqdm frame: " 48%|████▊     | 787k/1.65M [00:02<00:02, 392kB/s]"
FRAME = re.compile(
    r"\r\s*(?P<percent>\d+)%\|[^|]*\| (?P<done>[\d.]+[kMG]?)/(?P<total>[\d.]+[kMG]?)"
    r" \[[\d:]+<[\d:?]+, (?P<rate>[\d.]+)(?P<prefix>[kMG]?)B/s\]"
)


def test_slow_download_shows_progress_then_clean_lines(
    fetch, mirror, mnist_source, tmp_path
):
    # Three files are already there; the fourth comes over a slow line.
    for name in MNIST_NAMES:
        if name != SLOW_FILE:
            shutil.copy(mnist_source / name, tmp_path / name)
    stdout, stderr = fetch(tmp_path, f"{mirror}/slow/")

    assert stderr == ""
    frames = list(FRAME.finditer(stdout))
    assert frames, f"no progress bar in the output:\n{stdout!r}"
    size = (mnist_source / SLOW_FILE).stat().st_size
    percents = [int(frame["percent"]) for frame in frames]
    assert percents == sorted(percents) and 0 < percents[0] < 100, percents
    for frame in frames:
        assert frame["total"] == tqdm.format_sizeof(size)
        rate = float(frame["rate"]) * {"": 1, "k": 1e3, "M": 1e6}[frame["prefix"]]
        assert 0 < rate < 2 * SLOW_BYTES_PER_S
    # About one frame a second, not one per chunk received.
    seconds = float(re.search(rf"{SLOW_FILE}: 1.6 MB in ([\d.]+) s", stdout)[1])
    assert len(frames) <= seconds + 1

    found = [name for name in MNIST_NAMES if name != SLOW_FILE]
    assert re.fullmatch(
        expected_lines(tmp_path, [SLOW_FILE], found), as_displayed(stdout)
    ), as_displayed(stdout)


def test_fast_download_prints_only_its_lines(fetch, mirror, tmp_path):
    stdout, stderr = fetch(tmp_path, f"{mirror}/fast/")
    assert stderr == ""
    assert "\r" not in stdout  # no progress bar drawn, or cleared
    assert re.fullmatch(expected_lines(tmp_path, MNIST_NAMES), stdout), stdout


@pytest.mark.parametrize(
    "umask", [0o022, 0o002], ids=lambda umask: f"umask-{umask:03o}"
)
def test_downloaded_files_get_ordinary_permissions(fetch, mirror, tmp_path, umask):
    fetch(tmp_path, f"{mirror}/fast/", umask)
    modes = {
        name: oct((tmp_path / name).stat().st_mode & 0o777) for name in MNIST_NAMES
    }
    assert modes == dict.fromkeys(MNIST_NAMES, oct(0o666 & ~umask))


def test_download_helper_source_is_collapsed_in_jupyterlab_too(notebook):
    """The .ipynb that jupytext writes keeps the cell metadata JupyterLab reads."""
    ipynb = nbformat.reads(jupytext.writes(notebook, fmt="ipynb"), as_version=4)
    helper = [cell for cell in ipynb.cells if "class MnistDownloadError" in cell.source]
    assert len(helper) == 1
    assert helper[0].metadata.get("jupyter", {}).get("source_hidden") is True
    assert "hide-input" in helper[0].metadata.get("tags", [])
