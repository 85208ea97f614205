"""The tutorial's data cells against a misbehaving mirror.

A small HTTP server on 127.0.0.1 injects one fault per URL prefix. The notebook's
own cells, from the top down to the one that reads the arrays, run in a real
kernel (nbclient) with MNIST_BASE_URL pointing at the server and the cache in a
temporary folder. Each test checks the message the reader sees, what is left in
the cache, and that a plain re-run heals once the fault is gone.
"""

import copy
import http.server
import socket
import time
from pathlib import Path

import nbformat
import pytest
from conftest import (
    MNIST_NAMES,
    code_cells_until,
    free_port,
    idx_gzip,
    serve,
    sha256_of,
)
from nbclient.exceptions import CellExecutionError

TIMEOUT_S = 2  # the notebook's download timeout during these tests


# --------------------------------------------------------------------------
# The fault-injecting mirror
# --------------------------------------------------------------------------


def make_handler(source, other_dataset):
    class FaultyMirror(http.server.BaseHTTPRequestHandler):
        """GET /<fault>/<file name>; /ok/ serves the real files."""

        def log_message(self, *args):
            pass

        def send_body(self, body, status=200, content_type="application/gzip"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            _, fault, name = self.path.split("/", 2)
            real = (source / name).read_bytes()
            if fault == "ok":
                self.send_body(real)
            elif fault in ("403", "404", "500"):
                self.send_body(b"nope", status=int(fault), content_type="text/plain")
            elif fault == "html":
                page = b"<!DOCTYPE html><html><body>Rate limit exceeded</body></html>"
                self.send_body(page, content_type="text/html")
            elif fault == "truncated":
                self.send_body(real[: len(real) // 2])
            elif fault == "flipped":
                damaged = bytearray(real)
                damaged[len(damaged) // 2] ^= 0xFF
                self.send_body(bytes(damaged))
            elif fault == "cutoff":  # promises the whole file, sends half, hangs up
                self.send_response(200)
                self.send_header("Content-Length", str(len(real)))
                self.end_headers()
                self.wfile.write(real[: len(real) // 2])
                self.close_connection = True
            elif fault == "otherdata":
                self.send_body(other_dataset[name])
            else:
                self.send_body(b"unknown fault", status=400, content_type="text/plain")

    return FaultyMirror


@pytest.fixture(scope="module")
def mirror(mnist_source):
    """Base URL of the faulty mirror; the fault goes after it: f'{mirror}/404/'."""
    # Valid gzip IDX files of "another data set": same names, other shapes.
    other = {
        "train-images-idx3-ubyte.gz": idx_gzip([0x803, 3, 8, 8], bytes(192)),
        "t10k-images-idx3-ubyte.gz": idx_gzip([0x803, 3, 8, 8], bytes(192)),
        "train-labels-idx1-ubyte.gz": idx_gzip([0x801, 3], bytes(3)),
        "t10k-labels-idx1-ubyte.gz": idx_gzip([0x801, 3], bytes(3)),
    }
    with serve(make_handler(mnist_source, other)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def silent_server():
    """Accepts connections (the kernel's backlog does) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def refused_url():
    """An address where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


# --------------------------------------------------------------------------
# Running the notebook's data cells in a kernel
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_cells(notebook):
    """The notebook's code cells from the top to the one that reads the arrays."""
    return code_cells_until(
        notebook,
        lambda source: "x_train = read_idx(" in source,
        "reads x_train with read_idx",
    )


class Run:
    def __init__(self, output, error):
        self.output, self.error = output, error

    @property
    def message(self):
        assert (
            self.error is not None
        ), f"expected an error; the output was:\n{self.output}"
        return f"{self.error.ename}: {self.error.evalue}"


def run_data_cells(kernel, data_cells, cache, *base_urls):
    """Execute the data cells as a reader would, with the mirrors replaced."""
    setup = nbformat.v4.new_code_cell(
        "import os\n"
        f"os.environ['MNIST_BASE_URL'] = {' '.join(base_urls)!r}\n"
        f"os.environ['MNIST_DATA_DIR'] = {str(cache)!r}\n"
        f"os.environ['MNIST_TIMEOUT'] = '{TIMEOUT_S}'\n"
    )
    cells = [setup] + [copy.deepcopy(cell) for cell in data_cells]
    kernel.nb.cells = cells
    output, error = [], None
    for index, cell in enumerate(cells):
        try:
            kernel.execute_cell(cell, index)
        except CellExecutionError as raised:
            error = raised
        finally:
            output += [
                o.get("text", "") for o in cell.outputs if o.output_type == "stream"
            ]
        if error:
            break
    return Run("".join(output), error)


@pytest.fixture
def run_cells(kernel, data_cells):
    """run_cells(cache, *base_urls): the data cells as a reader would run them."""

    def run(cache, *base_urls):
        return run_data_cells(kernel, data_cells, cache, *base_urls)

    return run


def cache_state(cache, original_sha256):
    """File name -> 'ok' or 'BAD' for everything in the cache folder."""
    cache = Path(cache)
    if not cache.is_dir():
        return {}
    return {
        path.name: "ok" if sha256_of(path) == original_sha256.get(path.name) else "BAD"
        for path in cache.iterdir()
    }


@pytest.fixture
def assert_clean(original_sha256):
    def check(cache):
        state = cache_state(cache, original_sha256)
        assert "BAD" not in state.values(), f"a file fails its checksum: {state}"

    return check


@pytest.fixture
def all_four_ok(original_sha256):
    """Check that the cache holds exactly the four original files."""

    def check(cache):
        return cache_state(cache, original_sha256) == {n: "ok" for n in MNIST_NAMES}

    return check


@pytest.fixture
def assert_heals(run_cells, mirror, all_four_ok):
    """Once the fault is gone, a plain re-run succeeds with no clean-up."""

    def check(cache):
        healed = run_cells(cache, f"{mirror}/ok/")
        assert healed.error is None, healed.message
        assert all_four_ok(cache)

    return check


def assert_advice(message, cache):
    """The message says what to do and where."""
    assert "MNIST_BASE_URL" in message
    assert str(Path(cache).resolve()) in message
    assert "mnist_sha256" in message  # where the checksums are


# --------------------------------------------------------------------------
# The nine faults
# --------------------------------------------------------------------------


def test_everything_fine_downloads_all_four(run_cells, tmp_path, mirror, all_four_ok):
    run = run_cells(tmp_path, f"{mirror}/ok/")
    assert run.error is None, run.message
    assert all_four_ok(tmp_path)
    assert run.output.count("checksum OK") == 4
    again = run_cells(tmp_path, f"{mirror}/ok/")
    assert again.output.count("found in") == 4  # nothing downloaded twice


def test_1_connection_refused(
    run_cells, tmp_path, refused_url, assert_clean, assert_heals
):
    run = run_cells(tmp_path, f"{refused_url}/")
    first_line = run.message.splitlines()[0]
    assert (
        first_line
        == "MnistDownloadError: Could not download train-images-idx3-ubyte.gz from any mirror."
    )
    assert f"{refused_url}/train-images-idx3-ubyte.gz: could not connect" in run.message
    assert_advice(run.message, tmp_path)
    assert_clean(tmp_path)
    assert_heals(tmp_path)


def test_2_server_that_never_answers_times_out(
    run_cells, tmp_path, silent_server, assert_clean, assert_heals
):
    started = time.monotonic()
    run = run_cells(tmp_path, f"{silent_server}/")
    # The notebook's own timeout applies, not a library default (pooch's is 30 s).
    assert time.monotonic() - started < 6 * TIMEOUT_S
    assert "train-images-idx3-ubyte.gz from any mirror" in run.message
    assert f"no answer within {TIMEOUT_S} s" in run.message
    assert_advice(run.message, tmp_path)
    assert_clean(tmp_path)
    assert_heals(tmp_path)


@pytest.mark.parametrize(
    "status, meaning",
    [
        ("403", "access refused"),
        ("404", "no file at this address"),
        ("500", "try again later"),
    ],
)
def test_3_http_errors(
    run_cells, tmp_path, mirror, status, meaning, assert_clean, assert_heals
):
    run = run_cells(tmp_path, f"{mirror}/{status}/")
    assert (
        f"{mirror}/{status}/train-images-idx3-ubyte.gz: the server answered HTTP {status}"
        in run.message
    )
    assert meaning in run.message
    assert_advice(run.message, tmp_path)
    assert_clean(tmp_path)
    assert_heals(tmp_path)


def test_4_html_page_with_status_200(
    run_cells, tmp_path, mirror, assert_clean, assert_heals
):
    run = run_cells(tmp_path, f"{mirror}/html/")
    assert "the server sent an HTML page instead of the gzip file" in run.message
    assert_advice(run.message, tmp_path)
    assert_clean(tmp_path)
    assert list(tmp_path.iterdir()) == []  # not even a temporary file
    assert_heals(tmp_path)


@pytest.mark.parametrize("fault", ["truncated", "flipped", "cutoff"])
def test_5_damaged_download(
    run_cells, tmp_path, mirror, fault, assert_clean, assert_heals
):
    run = run_cells(tmp_path, f"{mirror}/{fault}/")
    assert "Could not download train-images-idx3-ubyte.gz" in run.message
    expected = "broke off" if fault == "cutoff" else "checksum does not match"
    assert expected in run.message
    assert_advice(run.message, tmp_path)
    assert_clean(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert_heals(tmp_path)


def test_6_right_names_wrong_content(
    run_cells, tmp_path, mirror, assert_clean, assert_heals
):
    run = run_cells(tmp_path, f"{mirror}/otherdata/")
    assert "checksum does not match" in run.message
    assert "different file with the same name" in run.message
    assert_clean(tmp_path)
    assert_heals(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "other data set"])
def test_7_damaged_file_already_in_cache_heals(
    run_cells, tmp_path, mirror, mnist_source, damage, all_four_ok
):
    name = "t10k-labels-idx1-ubyte.gz"
    real = (mnist_source / name).read_bytes()
    bad = real[:100] if damage == "truncated" else idx_gzip([0x801, 3], bytes(3))
    (tmp_path / name).write_bytes(bad)
    run = run_cells(tmp_path, f"{mirror}/ok/")
    assert run.error is None, run.message
    assert f"{name}: the copy in {tmp_path} did not match its checksum" in run.output
    assert all_four_ok(tmp_path)


def test_7_damaged_file_in_cache_while_offline(
    run_cells, tmp_path, mnist_source, refused_url, assert_clean, assert_heals
):
    for name in MNIST_NAMES:
        (tmp_path / name).write_bytes((mnist_source / name).read_bytes()[:1000])
    run = run_cells(tmp_path, f"{refused_url}/")
    assert "Could not download train-images-idx3-ubyte.gz" in run.message
    assert "did not match its checksum" in run.output
    assert_clean(tmp_path)  # the damaged copy is gone, not left to fool a later run
    assert_heals(tmp_path)


def test_8_first_mirror_fails_second_works(run_cells, tmp_path, mirror, all_four_ok):
    run = run_cells(tmp_path, f"{mirror}/404/", f"{mirror}/ok/")
    assert run.error is None, run.message
    assert run.output.count("(from mirror 2, after mirror 1 failed)") == 4
    assert "failed: the server answered HTTP 404" in run.output
    assert all_four_ok(tmp_path)


def test_9_cache_folder_cannot_be_written(run_cells, tmp_path, mirror, assert_heals):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = blocker / "_data"
    run = run_cells(cache, f"{mirror}/ok/")
    first_line = run.message.splitlines()[0]
    assert first_line.startswith(
        "MnistDownloadError: Cannot save train-images-idx3-ubyte.gz"
    )
    assert f"the data folder {cache} cannot be written to" in run.message
    assert "MNIST_DATA_DIR" in run.message and "`data_dir`" in run.message
    assert blocker.read_text() == "a file where the cache folder should be"
    blocker.unlink()
    assert_heals(cache)
