"""Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or raw.

An IDX file is a header followed by the array, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
                0x0E float64
    byte  3     number of dimensions d
    4 * d       each dimension as an unsigned 32-bit integer
    payload     prod(dims) * itemsize bytes, C order

So labels start with the magic number 0x00000801 (uint8, 1-D) and images with 0x00000803
(uint8, 3-D). The reader checks all of this and that the payload has exactly the announced
size; every problem (bad gzip, wrong magic, truncated payload, trailing bytes) raises
``IDXError`` naming the file and what is wrong, so a damaged file never turns into a crash
or silently wrong data.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
_GZIP_SIGNATURE = b"\x1f\x8b"
# deflate cannot compress better than about 1032:1, so a gzip file of s bytes holds at most
# ~1032 * s bytes; a header that announces more is corrupt (and must not make us allocate it).
_MAX_GZIP_RATIO = 1100
MAX_IDX_BYTES = 2 * 2**30  # 2 GiB of payload; Fashion-MNIST's largest file has 47 MB


class IDXError(ValueError):
    """An IDX file is missing, damaged or not what was expected."""


def _fail(path, problem: str, fix: str = "") -> IDXError:
    fix = fix or (
        "Delete the file and fetch it again (for the data sets: rerun with download=True, "
        "or reinstall the Debian package dataset-fashion-mnist)."
    )
    return IDXError(f"IDX file {os.fspath(path)!r}: {problem}. {fix}")


def read_idx(path, expected_magic: int | None = None, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw, recognised by its first bytes) into a NumPy array.

    ``expected_magic`` (e.g. ``IMAGES_MAGIC``) additionally requires that magic number. The
    size the header announces is checked against the file (a raw file's size, a gzip file's
    length trailer) and against ``max_bytes`` before anything is allocated. The result is
    writable, C-contiguous and in native byte order.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_SIGNATURE
            isize = None
            if compressed and size >= 18:
                raw.seek(-4, os.SEEK_END)  # gzip's ISIZE: the uncompressed length mod 2**32
                isize = struct.unpack("<I", raw.read(4))[0]
            raw.seek(0)
            limits = (max_bytes, isize)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                    return _read_stream(f, path, expected_magic, size, True, limits)
            return _read_stream(raw, path, expected_magic, size, False, limits)
    except FileNotFoundError:
        raise _fail(path, "no such file", "Check the path.") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not a file", "Check the path.") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise _fail(path, f"the gzip stream is damaged or truncated ({e})") from None


def _read_exact(f, n: int, path, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _fail(path, f"file ends inside the {what} ({len(data)} of {n} bytes)")
    return data


def _read_stream(
    f, path, expected_magic, file_size: int, compressed: bool, limits=(MAX_IDX_BYTES, None)
) -> np.ndarray:
    header = _read_exact(f, 4, path, "4-byte magic number")
    magic = struct.unpack(">I", header)[0]
    zero, code, ndim = struct.unpack(">HBB", header)
    if zero != 0 or code not in IDX_DTYPES or ndim == 0:
        raise _fail(
            path,
            f"bad magic number 0x{magic:08X}; an IDX file starts with 0x0000 then a dtype code "
            f"(0x08 for uint8) and the number of dimensions, e.g. 0x{LABELS_MAGIC:08X} for "
            f"labels or 0x{IMAGES_MAGIC:08X} for images. This is not an IDX file",
        )
    if expected_magic is not None and magic != expected_magic:
        raise _fail(
            path,
            f"magic number is 0x{magic:08X} but 0x{expected_magic:08X} was expected "
            f"({'labels' if expected_magic == LABELS_MAGIC else 'images'}); "
            "is it the right file (images vs labels)?",
        )
    dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, path, "dimension sizes"))
    dtype = IDX_DTYPES[code]
    payload = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    header_size = 4 + 4 * ndim
    max_bytes, isize = limits
    if payload > max_bytes:
        raise _fail(
            path,
            f"header announces shape {dims} ({payload:,} bytes), more than the limit of "
            f"{max_bytes:,} bytes",
            "If the file is really that large, pass max_bytes= to read_idx.",
        )
    if compressed and isize is not None and (header_size + payload) % 2**32 != isize:
        raise _fail(
            path,
            f"header announces shape {dims} ({header_size + payload:,} bytes in all), but the "
            f"gzip trailer says the file holds {isize:,} bytes (mod 2**32); the header is "
            "corrupt",
        )
    if compressed:
        if payload > _MAX_GZIP_RATIO * file_size + 4096:
            raise _fail(
                path,
                f"header announces shape {dims} ({payload} bytes), more than a {file_size}-byte "
                "gzip file can hold; the header is corrupt",
            )
    elif header_size + payload != file_size:
        diff = file_size - header_size - payload
        problem = f"truncated: {-diff} bytes short" if diff < 0 else f"{diff} trailing bytes"
        raise _fail(
            path,
            f"{problem} (header says shape {dims} of {dtype.name}: {header_size} + {payload} "
            f"bytes, the file has {file_size})",
        )
    out = np.empty(dims, dtype)
    got = f.readinto(memoryview(out).cast("B")) if payload else 0
    # GzipFile.readinto may return fewer bytes than asked only at the end of the stream.
    while got < payload:
        more = f.readinto(memoryview(out).cast("B")[got:])
        if not more:
            raise _fail(
                path,
                f"truncated: the payload has {got} of {payload} bytes (header says shape "
                f"{dims} of {dtype.name})",
            )
        got += more
    # Reading on to the end also makes gzip verify its CRC and length trailer.
    rest = f.read(1 << 16)
    if rest:
        extra = len(rest)
        while chunk := f.read(1 << 16):
            extra += len(chunk)
        raise _fail(
            path,
            f"{extra} trailing bytes after the payload (header says shape {dims} of "
            f"{dtype.name}); the file is corrupt or not what the header claims",
        )
    return out if dtype.isnative else out.astype(dtype.newbyteorder("="))


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzipped if ``compress``, default: path ends in .gz)."""
    array = np.ascontiguousarray(array)
    codes = {v.newbyteorder(">"): k for k, v in IDX_DTYPES.items()}
    big = array.dtype.newbyteorder(">")
    if big not in codes:
        raise ValueError(f"write_idx: dtype {array.dtype} has no IDX code")
    header = struct.pack(">HBB", 0, codes[big], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(big, copy=False).tobytes()
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compress else data)
