"""Atomic file writes: a crash or a kill leaves either the old file or the new one, never half.

The bytes go to a temporary file ``.NAME.XXXX.tmp`` in the target's folder (so the rename stays
on one file system), which is flushed, fsync-ed and renamed over the target with
``os.replace`` (atomic on POSIX and Windows); then the folder is fsync-ed so the rename itself
survives a power cut. On any error the temporary file is removed and the target is untouched.
Every file deepgrad writes (weights, checkpoints, run files, pictures, downloads) goes through
here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


@contextmanager
def atomic_writer(path) -> Iterator[BinaryIO]:
    """``with atomic_writer(path) as f: f.write(...)``: ``path`` is replaced when the block
    ends normally; an exception inside the block leaves ``path`` as it was (for writes that
    stream, like a download checked after its last byte)."""
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, _file_mode(path))
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one."""
    with atomic_writer(path) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    """``atomic_write`` for UTF-8 text (JSON, CSV, Markdown)."""
    return atomic_write(path, text.encode("utf-8"))


def _file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777  # keep the mode of the file being replaced
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable. Windows cannot open folders, so there it is skipped.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
