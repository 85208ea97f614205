"""Shared pieces of the test suite: paths, the real MNIST files, notebook cells."""

import hashlib
import os
from pathlib import Path

import jupytext
import pytest

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


@pytest.fixture(scope="session")
def notebook():
    return jupytext.read(NOTEBOOK)


@pytest.fixture(scope="session")
def mnist_source():
    """A folder holding the four original MNIST files.

    MNIST_SOURCE_DIR if set, else the shared copy beside the repository, else the
    tutorial's own cache (filled by the nbval run, which comes first).
    """
    candidates = [
        os.environ.get("MNIST_SOURCE_DIR"),
        REPO.parent / "shared" / "data" / "mnist",
    ]
    candidates.append(REPO / "_data")
    for folder in filter(None, candidates):
        if all((Path(folder) / name).is_file() for name in MNIST_NAMES):
            return Path(folder)
    pytest.fail(
        "The tests need the four MNIST .gz files: set MNIST_SOURCE_DIR to a folder "
        "that holds them, or run the notebook once so that _data/ has them."
    )
