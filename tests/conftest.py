"""Shared pieces of the test suite: paths, the real MNIST files, notebook cells."""

import contextlib
import gzip
import hashlib
import http.server
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
NOTEBOOK = CONTENT / "tutorial-deep-learning-on-mnist.md"
MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def idx_gzip(header, data):
    """Bytes of a gzip-compressed IDX file: big-endian 32-bit header, then data."""
    return gzip.compress(b"".join(n.to_bytes(4, "big") for n in header) + data)


def free_port():
    """A port on 127.0.0.1 where nothing listens (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(handler_class):
    """Run an HTTP server on 127.0.0.1 in a thread; yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def notebook():
    return jupytext.read(NOTEBOOK)


def find_mnist_source():
    """MNIST_SOURCE_DIR if set, else the shared copy beside the repository,
    else the tutorial's own cache; None if none holds the four files."""
    candidates = [
        os.environ.get("MNIST_SOURCE_DIR"),
        REPO.parent / "shared" / "data" / "mnist",
        REPO / "_data",
    ]
    for folder in filter(None, candidates):
        if all((Path(folder) / name).is_file() for name in MNIST_NAMES):
            return Path(folder)
    return None


def own_data_copy(source, folder):
    """The four MNIST files copied into `folder`, the sweep's own, so that
    its runs never race with another run's download into _data/."""
    for name in MNIST_NAMES:
        shutil.copyfile(Path(source) / name, folder / name)
    return folder


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(session, config, items):
    """Start the two slow runs of the notebook that need no kernel of the
    suite's own, the seed sweep (test_claims.py) and the site build
    (test_site.py), as soon as the tests are known, if any test needs them
    and the data is at hand: they run in the background, each on its own
    copy of the data, while the rest of the suite does."""

    def needing(fixture):
        return [i for i in items if fixture in getattr(i, "fixturenames", ())]

    sweep, site = needing("seed_sweep"), needing("built_site")
    # the sweep's tests wait for it: run them last, after everything else
    items[:] = [i for i in items if i not in sweep] + sweep
    source = find_mnist_source()
    if config.option.collectonly:
        return
    if source is None:
        return  # the fixtures start them later, once nbval has the data
    if site:
        from test_site import start_site_build

        output = Path(tempfile.mkdtemp(prefix="book-"))
        data = own_data_copy(source, Path(tempfile.mkdtemp(prefix="site-data-")))
        config.site_build = (start_site_build(output, data), output)
    if sweep:
        from test_claims import start_seed_sweep

        folder = Path(tempfile.mkdtemp(prefix="sweep-data-"))
        config.seed_sweep = start_seed_sweep(own_data_copy(source, folder))


@pytest.fixture(scope="session")
def mnist_source():
    """A folder holding the four original MNIST files.

    MNIST_SOURCE_DIR if set, else the shared copy beside the repository, else the
    tutorial's own cache (filled by the nbval run, which comes first).
    """
    folder = find_mnist_source()
    if folder is not None:
        return folder
    pytest.fail(
        "The tests need the four MNIST .gz files: set MNIST_SOURCE_DIR to a folder "
        "that holds them, or run the notebook once so that _data/ has them."
    )


@pytest.fixture(scope="session")
def original_sha256(mnist_source):
    """File name -> SHA-256 of the original MNIST files."""
    return {name: sha256_of(mnist_source / name) for name in MNIST_NAMES}


def code_cells_until(notebook, is_last, what):
    """The notebook's code cells from the top to the first one `is_last` accepts."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cells.append(cell)
            if is_last(cell.source):
                return cells
    pytest.fail(f"no code cell of the notebook {what}")


@pytest.fixture(scope="module")
def kernel():
    """One kernel for a test module, started in content/; each test runs the
    cells it needs in it from scratch."""
    client = NotebookClient(
        nbformat.v4.new_notebook(),
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(CONTENT)}},
    )
    with client.setup_kernel():
        yield client


def pytest_unconfigure(config):
    """A site build nobody waited for (a run stopped early) is stopped too."""
    started = getattr(config, "site_build", None)
    if started is not None and started[0].poll() is None:
        started[0].kill()
