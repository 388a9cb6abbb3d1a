"""The threads the compiled kernels run on, and how their work is cut among them.

Each kernel is a C function ``kernel(pointers..., start, end)`` that does the part
[start, end) of its work. The parts run on GCC's OpenMP team (``openmp.py``: its threads
spin briefly between parallel regions, so a part starts at once); where that runtime is
missing, on plain Python threads (ctypes releases the GIL while a kernel runs), whose
hand-off costs 75-90 us a call. ``run_split`` cuts one kernel's work evenly; ``run_segments`` cuts a
list of pieces of different sizes (the tensors of an optimiser's parameter group) into
equal shares, so that one pass over all of them keeps every thread busy.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from deepgrad.kernels import blas_threads, openmp

_pool: ThreadPoolExecutor | None = None
_pool_key = (0, 0)  # (process id, workers) of _pool: a forked child must make its own


_chosen: int | None = None  # set by deepgrad.set_num_threads


def set_num_threads(n: int | None) -> None:
    """Use ``n`` threads from now on (None: back to the environment's choice)."""
    global _chosen
    _chosen = n


#: The variables ``num_threads`` reads, and where: CPython keeps ``os.environ``'s contents in
#: a dict keyed by bytes on POSIX (``os.environ._data``; ``os.environ[...] = ...`` and
#: ``del`` update it), which answers in 0.05 us where ``os.environ.get`` encodes and decodes
#: for 0.3 us. A training step asks about ten times (each product, kernel and optimiser step).
_VARIABLES = ("DEEPGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_environ_bytes = getattr(os.environ, "_data", None) if os.name == "posix" else None
if not isinstance(_environ_bytes, dict) or not all(type(k) is bytes for k in _environ_bytes):
    _environ_bytes = None  # pragma: no cover - another Python: the public mapping
_KEYS = tuple(v.encode() for v in _VARIABLES) if _environ_bytes is not None else _VARIABLES


def num_threads() -> int:
    """Threads the kernels use: the number given to ``deepgrad.set_num_threads``, else
    ``DEEPGRAD_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``OPENBLAS_NUM_THREADS`` when set (the
    test suite sets one thread per worker), else the CPUs this process may use."""
    if _chosen is not None:
        return _chosen
    environ = _environ_bytes if _environ_bytes is not None else os.environ
    for key in _KEYS:
        value = environ.get(key)
        if value and value.isdigit() and int(value) > 0:
            return int(value)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _workers(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    pid = os.getpid()
    if _pool_key[0] != pid or _pool_key[1] < threads - 1:  # (a fork leaves the threads behind)
        _pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="deepgrad-kernel")
        _pool_key = (pid, threads - 1)
    return _pool


def split(fn, args, total: int, threads: int) -> list:
    """The calls ``fn(*args, start, end)`` that cover [0, total) in even parts, one list per
    thread (at most ``total`` threads, at least one), for ``run_shares``."""
    threads = max(1, min(threads, total))
    bounds = [total * t // threads for t in range(threads + 1)]
    return [[(fn, args, bounds[t], bounds[t + 1])] for t in range(threads)]


def run_split(fn, args, total: int, threads: int | None = None) -> None:
    """Run ``fn(*args, start, end)`` over [0, total) split evenly among the threads."""
    threads = min(threads or num_threads(), total)
    if threads <= 1:  # on this thread, without building the shares
        if total > 0:
            fn(*args, 0, total)
        return
    run_shares(split(fn, args, total, threads))


def run_segments(fn, pieces, align: int, threads: int) -> None:
    """Run ``fn(*args, start, end)`` over every piece ``(args, size)``, the sizes added up and
    cut into ``threads`` equal shares (at multiples of ``align``, so only a piece's own end is
    a partial vector). A share may span several pieces, and a piece several shares."""
    total = sum(size for _, size in pieces)
    threads = max(1, min(threads, total // align))
    cuts = [min(total, (total * t // threads) // align * align) for t in range(threads + 1)]
    cuts[-1] = total
    shares = []
    for t in range(threads):
        lo, hi, base, work = cuts[t], cuts[t + 1], 0, []
        for args, size in pieces:
            a, b = max(lo, base), min(hi, base + size)
            if a < b:
                work.append((fn, args, a - base, b - base))
            base += size
        shares.append(work)

    run_shares(shares)


def _run_list(work) -> None:
    for fn, args, a, b in work:
        fn(*args, a, b)


def run_shares(shares) -> None:
    """Run each list of calls ``(fn, pointers, start, end)`` on a thread of its own: on the
    OpenMP team where it is available (see openmp.py), else on the Python pool. A single list
    runs here, on the calling thread."""
    if len(shares) == 1:
        _run_list(shares[0])
        return
    # Spinning OpenBLAS workers would take our cores (see blas_threads.py): done once, here,
    # because this is the first moment a kernel runs on threads of its own.
    blas_threads.quiet_workers()
    if openmp.run(shares):
        return
    pool = _workers(len(shares))
    futures = [pool.submit(_run_list, work) for work in shares[:-1]]
    _run_list(shares[-1])
    for f in futures:
        f.result()
