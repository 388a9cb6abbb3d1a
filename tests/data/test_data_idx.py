"""The IDX reader on the real Fashion-MNIST files and on damaged copies of them."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.data import FashionMNIST, IDXError, read_idx, write_idx
from deepgrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_debian = pytest.mark.skipif(
    not (DEBIAN / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install "
    "dataset-fashion-mnist)",
)


def _reference_parse(path: Path) -> np.ndarray:
    """An independent, minimal IDX parser: gunzip, read the header, reshape (no checks)."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


# ------------------------------------------------------------------ the real files
@needs_debian
def test_real_labels_and_images():
    train_labels = read_idx(DEBIAN / "train-labels-idx1-ubyte.gz", LABELS_MAGIC)
    test_labels = read_idx(DEBIAN / "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC)
    test_images = read_idx(DEBIAN / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC)
    assert train_labels.shape == (60000,) and test_labels.shape == (10000,)
    assert test_images.shape == (10000, 28, 28) and test_images.dtype == np.uint8
    assert train_labels.min() == 0 and train_labels.max() == 9
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class
    np.testing.assert_array_equal(np.bincount(train_labels), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(test_labels), np.full(10, 1000))
    ref_images = _reference_parse(DEBIAN / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(test_images, ref_images)
    ref_labels = _reference_parse(DEBIAN / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(train_labels, ref_labels)
    assert test_images.flags.writeable and test_images.flags.c_contiguous


@needs_debian
def test_real_fashion_mnist_dataset(monkeypatch, tmp_path):
    monkeypatch.delenv("DEEPGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache: Debian's copy wins
    train = FashionMNIST(train=True, download=False)
    test = FashionMNIST(train=False, download=False)
    assert train.source == "debian" and Path(train.folder) == DEBIAN
    assert len(train) == 60000 and len(test) == 10000
    assert tuple(train.data.shape) == (60000, 28, 28) and str(train.data.dtype) == "deepgrad.uint8"
    assert str(train.targets.dtype) == "deepgrad.int64"
    assert train.classes[9] == "Ankle boot" and len(train.classes) == 10
    # a sample is what torchvision's ToTensor() makes of the image: float(pixel) / 255
    raw = _reference_parse(DEBIAN / "t10k-images-idx3-ubyte.gz")
    img, label = test[17]
    expected = torch.from_numpy(raw[17].copy()).float().div(255).unsqueeze(0)
    assert img.dtype == deepgrad.float32 and tuple(img.shape) == (1, 28, 28)
    np.testing.assert_array_equal(img.numpy(), expected.numpy())
    assert isinstance(label, int) and label == int(test.targets[17])
    x, y = test.tensors()
    assert tuple(x.shape) == (10000, 1, 28, 28) and float(x.max()) == 1.0 and float(x.min()) == 0
    np.testing.assert_array_equal(x.numpy(), torch.from_numpy(raw.copy()).float().div(255)[:, None])
    xf, _ = test.tensors(flatten=True)
    assert tuple(xf.shape) == (10000, 784)
    assert np.shares_memory(test.tensors()[0].numpy(), x.numpy())  # cached, not recomputed


# ------------------------------------------------------------------ small generated files
def _images(n=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_all_idx_dtypes(tmp_path, suffix, dtype):
    a = (np.arange(60).reshape(3, 4, 5) - 20).astype(dtype)
    p = tmp_path / f"a.idx{suffix}"
    write_idx(p, a)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype).newbyteorder("=") and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert (p.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_raw_file_layout_is_big_endian(tmp_path):
    p = tmp_path / "labels"
    write_idx(p, np.array([1, 2, 3], np.uint8))
    assert p.read_bytes() == bytes.fromhex("00000801 00000003 010203")
    p2 = tmp_path / "ints"
    write_idx(p2, np.array([258], np.int32))
    assert p2.read_bytes() == bytes.fromhex("00000C01 00000001 00000102")


# ------------------------------------------------------------------ damaged files
@pytest.fixture
def good(tmp_path):
    """A small valid image file, gzipped and raw."""
    a = _images(7)
    write_idx(tmp_path / "img.gz", a)
    write_idx(tmp_path / "img", a)
    return a, tmp_path / "img.gz", tmp_path / "img"


def _err(path, **kw) -> str:
    with pytest.raises(IDXError) as info:
        read_idx(path, **kw)
    msg = str(info.value)
    assert os.fspath(path) in msg  # the error names the file
    return msg


def test_truncated_raw_payload(good, tmp_path):
    _, _, raw = good
    bad = tmp_path / "short"
    bad.write_bytes(raw.read_bytes()[:-100])
    assert "truncated: 100 bytes short" in _err(bad)


def test_truncated_header(tmp_path):
    p = tmp_path / "tiny"
    p.write_bytes(b"\x00\x00\x08")
    assert "ends inside the 4-byte magic number" in _err(p)
    p.write_bytes(bytes.fromhex("00000803 0000000a 0000001c"))
    assert "ends inside the dimension sizes" in _err(p)


def test_trailing_bytes_raw_and_gzip(good, tmp_path):
    a, _, raw = good
    p = tmp_path / "long"
    p.write_bytes(raw.read_bytes() + b"junk!")
    assert "5 trailing bytes" in _err(p)
    pz = tmp_path / "long.gz"
    pz.write_bytes(gzip.compress(raw.read_bytes() + b"junk!"))
    # Caught before any allocation: gzip's length trailer disagrees with the header.
    n = len(raw.read_bytes())
    assert f"but the gzip trailer says the file holds {n + 5:,} bytes" in _err(pz)


def test_truncated_gzip(good, tmp_path):
    _, gz, _ = good
    for cut in (len(gz.read_bytes()) // 2, len(gz.read_bytes()) - 4, 12):
        p = tmp_path / f"cut{cut}.gz"
        p.write_bytes(gz.read_bytes()[:cut])
        msg = _err(p)
        assert "gzip stream is damaged or truncated" in msg or "truncated" in msg


def test_truncated_payload_inside_valid_gzip(good, tmp_path):
    _, _, raw = good
    p = tmp_path / "shortpayload.gz"
    p.write_bytes(gzip.compress(raw.read_bytes()[:-10]))
    n = len(raw.read_bytes())
    assert f"but the gzip trailer says the file holds {n - 10:,} bytes" in _err(p)


def test_corrupted_gzip_bytes(good, tmp_path):
    _, gz, _ = good
    data = bytearray(gz.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 40):
        data[i] ^= 0xFF
    p = tmp_path / "flipped.gz"
    p.write_bytes(bytes(data))
    assert "gzip stream is damaged" in _err(p)
    # a gzip signature followed by garbage
    p2 = tmp_path / "notgzip.gz"
    p2.write_bytes(b"\x1f\x8b" + b"\x00garbage" * 10)
    assert "gzip stream is damaged" in _err(p2)


def test_crc_error_is_reported(good, tmp_path):
    _, gz, _ = good
    data = bytearray(gz.read_bytes())
    data[-8] ^= 0x01  # the CRC32 in the gzip trailer
    p = tmp_path / "crc.gz"
    p.write_bytes(bytes(data))
    assert "gzip stream is damaged" in _err(p)


def test_bad_and_unexpected_magic(good, tmp_path):
    _, _, raw = good
    body = raw.read_bytes()
    p = tmp_path / "magic"
    p.write_bytes(b"\x12\x34" + body[2:])
    assert "bad magic number 0x12340803" in _err(p)
    p.write_bytes(body[:2] + b"\x07" + body[3:])  # unknown dtype code
    assert "bad magic number 0x00000703" in _err(p)
    p.write_bytes(b"PK\x03\x04" + body[4:])  # e.g. a zip file
    assert "not an IDX file" in _err(p)
    assert "0x00000801 was expected" in _err(raw, expected_magic=LABELS_MAGIC)
    np.testing.assert_array_equal(read_idx(raw, expected_magic=IMAGES_MAGIC), good[0])


def test_absurd_header_in_gzip_does_not_allocate(tmp_path):
    p = tmp_path / "huge.gz"
    p.write_bytes(gzip.compress(bytes.fromhex("00000803 ffffffff 0000ffff 0000ffff") + b"\0" * 10))
    assert "more than the limit of 2,147,483,648 bytes" in _err(p)
    # Under the size limit, the gzip trailer still catches the lie before allocating.
    p.write_bytes(gzip.compress(bytes.fromhex("00000803 00001000 00000100 00000100") + b"\0" * 10))
    assert "header is corrupt" in _err(p)


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in _err(tmp_path / "nope.gz")
    assert "is a directory" in _err(tmp_path)


@needs_debian
def test_damaged_copies_of_the_real_files(tmp_path):
    src = DEBIAN / "t10k-labels-idx1-ubyte.gz"
    shutil.copy(src, tmp_path / "ok.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "ok.gz"), read_idx(src))
    data = src.read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) - 100])
    _err(tmp_path / "cut.gz")
    raw = gzip.decompress(data)
    (tmp_path / "cut").write_bytes(raw[:-1])
    assert "1 bytes short" in _err(tmp_path / "cut")
    (tmp_path / "images-as-labels").write_bytes(raw)
    assert "was expected" in _err(tmp_path / "images-as-labels", expected_magic=IMAGES_MAGIC)
