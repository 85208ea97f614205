"""The notebook's `read_idx` refuses files whose IDX header does not match."""

import gzip
import re

import numpy as np
import pytest
from conftest import MNIST_NAMES, idx_gzip
from notebook_code import notebook_code


@pytest.fixture(scope="module")
def read_idx():
    return notebook_code()["read_idx"]


def write_idx(path, header, data):
    path.write_bytes(idx_gzip(header, data))
    return path


def test_reads_a_well_formed_file(read_idx, tmp_path):
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8)
    path = write_idx(tmp_path / "ok.gz", [0x803, 2, 3, 4], pixels.tobytes())
    array = read_idx(path, (2, 3, 4))
    assert array.dtype == np.uint8
    assert np.array_equal(array, pixels.reshape(2, 3, 4))


def test_reads_the_real_files(read_idx, mnist_source):
    labels = read_idx(mnist_source / MNIST_NAMES[3], (10_000,))
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize(
    "header, data, expected_shape, complaint",
    [
        # a label file where images were expected: magic 0x801, one dimension
        (
            [0x801, 24],
            bytes(24),
            (2, 3, 4),
            "magic number 0x00000801, expected 0x00000803",
        ),
        # a float IDX file (type code 0x0D)
        ([0xD03, 2, 3, 4], bytes(96), (2, 3, 4), "magic number 0x00000d03"),
        # the right kind with the wrong count or image size
        ([0x803, 5, 3, 4], bytes(60), (2, 3, 4), "shape (5, 3, 4), expected (2, 3, 4)"),
        (
            [0x803, 2, 8, 8],
            bytes(128),
            (2, 3, 4),
            "shape (2, 8, 8), expected (2, 3, 4)",
        ),
        # a header that promises more data than the file has
        ([0x803, 2, 3, 4], bytes(20), (2, 3, 4), "20 data bytes, expected 24"),
        ([0x801, 3], bytes(4), (3,), "4 data bytes, expected 3"),
    ],
)
def test_refuses_a_mismatched_header(
    read_idx, tmp_path, header, data, expected_shape, complaint
):
    path = write_idx(tmp_path / "odd-idx-ubyte.gz", header, data)
    with pytest.raises(ValueError, match=re.escape(complaint)) as raised:
        read_idx(path, expected_shape)
    assert str(path) in str(raised.value)
    assert "Delete it and run the download cell again" in str(raised.value)


def test_refuses_a_file_shorter_than_its_header(read_idx, tmp_path):
    path = tmp_path / "tiny.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08"))
    with pytest.raises(ValueError, match="too short to be an IDX file"):
        read_idx(path, (3,))


def test_nothing_is_unpickled(notebook):
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "pickle" not in code and "np.load(" not in code
