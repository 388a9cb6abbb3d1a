"""Download files from a list of mirrors with MD5 verification and a progress bar.

Each file is streamed into a temporary file next to its destination while its MD5 is
computed; only a file whose MD5 matches is renamed into place (atomically), so an interrupted
or corrupt download never leaves a file that looks valid. A mirror that cannot be reached at
all (DNS failure, refused or timed-out connection) is skipped for the remaining files, so with
no network the whole attempt fails within about ``timeout`` seconds per mirror.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from deepgrad.utils.atomic import atomic_writer
from deepgrad.utils.interrupts import interrupts_deferred

DOWNLOAD_TIMEOUT = 10.0  # seconds for connecting and for each read
MAX_DOWNLOAD_BYTES = 256 * 2**20  # per file: a mirror sending more is refused mid-stream


class DownloadError(RuntimeError):
    """No mirror delivered a file with the right MD5."""


def md5sum(path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verified_md5(path, md5: str) -> bool:
    """Whether ``path`` has MD5 ``md5``, computed once per file version (path, size and
    modification time) and remembered in deepgrad's cache folder (``verified.json``)."""
    import json

    from deepgrad.data.mnist import cache_dir

    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    store = cache_dir() / "verified.json"
    try:
        known = json.loads(store.read_text())
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key] == md5
    got = md5sum(path)
    known[key] = got
    try:
        from deepgrad.utils.atomic import atomic_write_text

        atomic_write_text(store, json.dumps(known, indent=1))
    except OSError:
        pass  # a read-only cache folder: check again next time
    return got == md5


class _StderrBar:
    """A minimal progress bar for when tqdm is not installed: one line on stderr."""

    def __init__(self, total: int | None, desc: str) -> None:
        self.total, self.desc, self.n, self._last = total, desc, 0, 0.0

    def update(self, k: int) -> None:
        self.n += k
        now = time.monotonic()
        if now - self._last > 0.2:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        mb = self.n / 1e6
        if self.total:
            pct = 100 * self.n / self.total
            line = f"\r{self.desc}: {pct:5.1f}% ({mb:.1f}/{self.total / 1e6:.1f} MB)"
        else:
            line = f"\r{self.desc}: {mb:.1f} MB"
        sys.stderr.write(line)
        sys.stderr.flush()

    def close(self) -> None:
        self._draw()
        sys.stderr.write("\n")
        sys.stderr.flush()


class _NoBar:
    def update(self, k: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, desc: str, enabled: bool = True):
    """tqdm's bar on stderr if tqdm is installed, else a simple one (or none if disabled)."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _StderrBar(total, desc)
    with interrupts_deferred():  # a half-built bar prints a traceback when deleted (fit.py)
        return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def fetch(
    url: str,
    dest,
    md5: str | None,
    timeout: float,
    progress: bool = True,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download ``url`` to ``dest`` if its MD5 is ``md5``; raise otherwise, leaving no file.

    More than ``max_bytes`` (announced or received) stops the download before the MD5 check.
    """
    import urllib.request  # here, not at the top: only a download needs the HTTP stack

    dest = Path(dest)
    h = hashlib.md5()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadError(
                f"the server announces {total:,} bytes, more than the limit of "
                f"{max_bytes:,} for one file (max_bytes); not the expected file"
            )
        bar = progress_bar(total, dest.name, progress)
        got = 0
        # An error anywhere in the block (too many bytes, a wrong MD5) leaves no file behind.
        with atomic_writer(dest) as f:
            try:
                while block := response.read(1 << 16):
                    got += len(block)
                    if got > max_bytes:
                        raise DownloadError(
                            f"the server sent more than {max_bytes:,} bytes (max_bytes); "
                            "not the expected file"
                        )
                    f.write(block)
                    h.update(block)
                    bar.update(len(block))
            finally:
                bar.close()
            digest = h.hexdigest()
            if md5 is not None and digest != md5:
                raise DownloadError(
                    f"MD5 mismatch: got {digest}, expected {md5} (corrupt download?)"
                )
    return dest


def download_files(
    files, mirrors, dest_dir, timeout: float | None = None, progress: bool = True
) -> list[Path]:
    """Download each ``(filename, md5)`` of ``files`` from the first mirror that works.

    Files already in ``dest_dir`` with the right MD5 are kept. Raises ``DownloadError`` that
    lists every URL tried and why it failed.
    """
    import http.client
    import urllib.error

    timeout = DOWNLOAD_TIMEOUT if timeout is None else timeout
    dest_dir = Path(dest_dir)
    created = not dest_dir.exists()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the folder {dest_dir}: {e}") from None
    unreachable: dict[str, str] = {}
    out = []
    for name, md5 in files:
        dest = dest_dir / name
        if dest.is_file() and (md5 is None or verified_md5(dest, md5)):
            out.append(dest)
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            if mirror in unreachable:
                errors.append(f"{url}: skipped, mirror unreachable ({unreachable[mirror]})")
                continue
            try:
                out.append(fetch(url, dest, md5, timeout, progress))
                break
            except urllib.error.HTTPError as e:
                errors.append(f"{url}: HTTP {e.code} {e.reason}")
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                unreachable[mirror] = str(reason)
                errors.append(f"{url}: {reason}")
            except (DownloadError, OSError, ValueError, http.client.HTTPException) as e:
                errors.append(f"{url}: {e}")
        else:
            if created and not any(dest_dir.iterdir()):
                dest_dir.rmdir()  # leave no empty folder behind that looks like a data set
            raise DownloadError(
                f"could not download {name} into {dest_dir}:\n    " + "\n    ".join(errors)
            )
    return out
