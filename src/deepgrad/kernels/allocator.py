"""Keep freed memory for reuse instead of handing it back to the OS after every step.

A training step allocates and frees the same large arrays (activations, gradients, im2col
columns) again and again. With glibc's default settings, big blocks come from fresh ``mmap``
calls and the top of the heap is trimmed after each step, so every step page-faults its memory
in again: on the course MLP that was ~30% of an epoch. Raising glibc's mmap and trim thresholds
(the same knobs as the ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` environment
variables) lets freed blocks be reused. The cost is that up to ``TRIM`` bytes of freed memory
stay with the process.

It changes the whole process. The NumPy references need it as much as the kernels (the course
MLP runs no compiled kernel), so it is applied once, where ``import deepgrad`` finishes
(``deepgrad/__init__.py``), and nowhere else: only with glibc, never when the user set those
environment variables, and not at all with ``DEEPGRAD_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP = 32 * 1024 * 1024  # blocks below this come from the reusable heap
TRIM = 512 * 1024 * 1024  # freed heap kept before returning memory to the OS

applied = False


def tune() -> bool:
    """Apply the thresholds above; return True if they were applied."""
    global applied
    if applied:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("DEEPGRAD_MALLOC_TUNING") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): leave the allocator alone
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM))
    return applied
