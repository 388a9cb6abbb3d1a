"""Download files from a list of mirrors with MD5 verification and a progress bar.

Each file is streamed into a temporary file next to its destination while its MD5 is
computed; only a file whose MD5 matches is renamed into place (atomically), so an interrupted
or corrupt download never leaves a file that looks valid. A mirror that cannot be reached at
all (DNS failure, refused or timed-out connection) is skipped for the remaining files, so with
no network the whole attempt fails within about ``timeout`` seconds per mirror.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

DOWNLOAD_TIMEOUT = 10.0  # seconds for connecting and for each read


class DownloadError(RuntimeError):
    """No mirror delivered a file with the right MD5."""


def md5sum(path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


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
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def fetch(url: str, dest, md5: str | None, timeout: float, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` if its MD5 is ``md5``; raise otherwise, leaving no file."""
    import urllib.request  # here, not at the top: only a download needs the HTTP stack

    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    h = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            bar = progress_bar(int(total) if total else None, dest.name, progress)
            try:
                with open(tmp, "wb") as f:
                    while block := response.read(1 << 16):
                        f.write(block)
                        h.update(block)
                        bar.update(len(block))
                    f.flush()
                    os.fsync(f.fileno())
            finally:
                bar.close()
        got = h.hexdigest()
        if md5 is not None and got != md5:
            raise DownloadError(f"MD5 mismatch: got {got}, expected {md5} (corrupt download?)")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
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
        if dest.is_file() and (md5 is None or md5sum(dest) == md5):
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
