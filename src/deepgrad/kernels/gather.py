"""Rows of a large float32 array picked by an index vector, ``x[index]``, on all threads.

A training loop's batch is such a gather (``x_train[perm[i:i + 128]]``): 128 rows of 784
floats picked at random from a 188 MB Fashion-MNIST array. NumPy copies them on one thread,
and each row starts with cache misses that the next row cannot overlap. Here two threads
keep twice as many misses in flight, and each asks for the row after next
(``llvm.prefetch``, up to ``PREFETCH_FLOATS`` of it) while it copies the current one. On a
2-core AMD EPYC (Zen 5), caches flushed before each call as a training step's products flush
them: 47-52 us for NumPy's ``x[index]``, 41-50 for ``np.take``, 30-33 for this kernel without
the prefetch and 23-25 with it (medians of 1,404 batches; asking 4 rows ahead was no better
than not asking).

Semantics are NumPy's, bit for bit: the rows are copied with vector loads and stores (no
arithmetic, so NaN payloads and -0.0 stay as they are). Only indices that are all in
``[0, len(x))`` run here: a negative index (counted from the end) or one out of range goes
to NumPy, which wraps the first and raises ``IndexError`` for the second.
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler, threads
from deepgrad.kernels.pointers import address

#: Fewest floats copied for the kernel to run (below, NumPy's call is cheaper than the
#: team's start): 65,536 floats is 84 rows of a 28 x 28 image.
MIN_FLOATS = 1 << 16
#: How much of the row after next is prefetched (its first 4 KiB; the hardware prefetcher
#: follows a row once it has started): a 28 x 28 image is 3 KiB.
PREFETCH_FLOATS = 1024
#: Rows ahead that are prefetched (1 and 2 measured alike, 4 worse).
AHEAD = 2


def usable(x, index) -> bool:
    """True for a C-ordered float32 NumPy array of at least two dimensions and a 1-D int64
    NumPy index that together copy at least ``MIN_FLOATS`` floats."""
    return (
        type(x) is np.ndarray
        and type(index) is np.ndarray
        and x.dtype == np.float32
        and index.dtype == np.int64
        and x.ndim >= 2
        and index.ndim == 1
        and index.size * (x.size // max(1, x.shape[0])) >= MIN_FLOATS
        and x.flags.c_contiguous
        and index.flags.c_contiguous
        and compiler.available()
    )


def take_rows(x, index):
    """``x[index]`` (a new array), or None when the kernel does not apply: see ``usable``, and
    indices outside ``[0, len(x))``, which NumPy wraps (negative) or rejects."""
    if not usable(x, index):
        return None
    lo, hi = np.minimum.reduce(index), np.maximum.reduce(index)
    if lo < 0 or hi >= x.shape[0]:
        return None
    row = x.size // x.shape[0]
    out = np.empty((index.size,) + x.shape[1:], np.float32)
    kernel = compiler.kernel("gather_rows", (row,), gather_rows_ir, 3)
    pointers = (address(x), address(out), address(index))
    threads.run_split(kernel, pointers, index.size)
    return out


def gather_rows_ir(width, row: int):
    """gather_rows(x, out, index, start, end): for r in [start, end), out's row r = x's row
    index[r], rows of ``row`` floats (``index`` is int64 behind the float pointer); the row
    ``AHEAD`` rows on (the last, near the end) is prefetched meanwhile."""
    mod, fn, e = compiler.function("gather_rows", 3, width)
    x, out, index, start, end = fn.args
    b = e.b
    picks = b.bitcast(index, e.i64.as_pointer())
    last = b.sub(end, e.const(1))
    floats_per_line = 16  # 64-byte cache lines

    def copy_row(r, _):
        ahead = b.add(r, e.const(AHEAD))
        ahead = b.select(b.icmp_signed("<", ahead, end), ahead, last)
        soon = e.mul(b.load(b.gep(picks, [ahead])), row)
        e.loop(
            0, min(row, PREFETCH_FLOATS),
            lambda j, _: e.prefetch(x, b.add(soon, j)), step=floats_per_line,
        )  # fmt: skip
        src, dst = e.mul(b.load(b.gep(picks, [r])), row), e.mul(r, row)
        e.elementwise(
            e.const(0), e.const(row),
            lambda j, mask: e.store(e.load(x, b.add(src, j), mask), out, b.add(dst, j), mask),
        )  # fmt: skip

    e.loop(start, end, copy_row)
    b.ret_void()
    return mod
