"""NumPy's OpenBLAS threads: stop them spinning while other threads need the cores, and set
their number (``deepgrad.set_num_threads``).

After each product, OpenBLAS keeps its worker threads busy-waiting for the next one for
about 2**28 clock cycles (a tenth of a second) before they sleep. That is harmless while
NumPy is the only thing computing, but the compiled kernels (convolution, pooling, ReLU,
optimiser steps) run on threads of their own: on the course CNN a spinning worker took one
of two cores from them and made the kernels about 1.5 times slower. OpenBLAS reads how long
to spin (``OPENBLAS_THREAD_TIMEOUT``, as a power of two, at least 4) when it starts its
threads, so ``quiet_workers`` sets it to the minimum, makes OpenBLAS read its environment
again and stops its threads; the next product starts them afresh and they sleep as soon as a
product is done (waking them costs a few microseconds per product).

A process-wide change, so it is made in one place only: ``threads.py`` calls it the first
time a kernel runs on more than one thread (a process that never does keeps OpenBLAS's
default). Done once, on Linux, only when the user has not set ``OPENBLAS_THREAD_TIMEOUT``,
and only for OpenBLAS libraries already loaded that export the functions it needs; anything
else is left alone. Call it only while no other thread is inside a BLAS call.
"""

from __future__ import annotations

import ctypes
import os

_done = False


def quiet_workers() -> bool:
    """Make every loaded OpenBLAS put its worker threads to sleep right after each product.
    True when at least one library was changed by this call."""
    global _done
    if _done:
        return False
    _done = True
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False  # the user's choice
    libraries = _loaded_openblas()
    if libraries is None:
        return False
    changed = False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = "4"
    for lib in libraries:
        try:
            read_env, shutdown = lib.openblas_read_env, lib.blas_thread_shutdown_
        except AttributeError:
            continue
        read_env()
        shutdown()
        changed = True
    return changed


def _loaded_openblas() -> list | None:
    """Every OpenBLAS library this process has loaded, as ctypes libraries; None when the
    process's memory map cannot be read (not Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    libraries = []
    for path in sorted(p for p in paths if p.startswith("/")):
        try:
            libraries.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libraries


#: The names OpenBLAS builds export for ``openblas_set_num_threads`` (NumPy's wheels use the
#: ``scipy_`` prefix and the 64-bit-integer suffix).
_SET_THREADS_NAMES = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
)


def set_openblas_threads(n: int) -> int:
    """Have every loaded OpenBLAS compute on ``n`` threads; returns how many libraries were
    told (0 where NumPy uses another BLAS)."""
    told = 0
    for lib in _loaded_openblas() or []:
        for name in _SET_THREADS_NAMES:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes = [ctypes.c_int]
                setter.restype = None
                setter(n)
                told += 1
                break
    return told
