"""Column sums of a float32 matrix, ``g.sum(axis=0)``: a Linear's bias gradient, on the threads
that compute its other gradients.

Why: in the course MLP's backward NumPy's ``add.reduce(g, axis=0)`` takes 5.4 us for the
128 x 512 gradient and 3.9 for 128 x 256, on one thread, after the products. Here each thread
of the team sums its own columns, as one more call in the list it runs after its sgemm
(``openblas_team.matmuls`` with ``sums_of``): no call of its own. Measured in the course
MLP's training loop on a 2-core AMD EPYC (Zen 5), epochs alternating: the backward 500 and
521 us a step against 504 and 526 with NumPy's sums (a small gain, 3-5 us, but every step).

Semantics: NumPy's, bit for bit. For a C-ordered (m, n) array NumPy's reduction over axis 0
starts from 0.0 and adds rows 0, 1, ..., m - 1 in turn (no pairwise summation: that is along
the contiguous axis), and so does this kernel, a vector of columns at a time. NaN, +-inf and
signed zeros follow from the same additions in the same order (a column of -0.0 sums to
+0.0, as in NumPy).
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler
from deepgrad.kernels.pointers import address


def calls(g, n_threads: int) -> tuple:
    """(out, shares): ``out`` (n,) receives ``g.sum(axis=0)`` of the C-ordered float32 ``g``
    (m, n), m >= 1, once the calls run, one list per thread (columns cut evenly, at whole
    vectors where there are enough), for appending to a team job's shares. A kernel per
    shape (a training run has one or two): its loops know their bounds."""
    m, n = g.shape
    plan = _plans.get((m, n, n_threads))
    if plan is None:
        plan = _plans[(m, n, n_threads)] = _plan(m, n, n_threads)
    kernel, bounds = plan
    out = np.empty(n, np.float32)
    pointers = (address(g), address(out))
    return out, [[(kernel, pointers, bounds[t], bounds[t + 1])] for t in range(len(bounds) - 1)]


_plans: dict = {}  # (m, n, threads) -> (kernel, the columns where each thread's part starts)


def _plan(m: int, n: int, n_threads: int) -> tuple:
    vec = compiler.vec()
    vectors = -(-n // vec)
    n_threads = max(1, min(n_threads, vectors))
    bounds = [min(n, vectors * t // n_threads * vec) for t in range(n_threads + 1)]
    bounds[-1] = n
    return compiler.kernel("column_sums", (m, n), column_sums_ir, 2), bounds


def column_sums_ir(width, m: int, n: int):
    """column_sums(g, out, start, end): out[j] = 0.0 + g[0, j] + g[1, j] + ... + g[m - 1, j],
    added in that order, for the columns [start, end) of the row-major g (m, n)."""
    mod, fn, e = compiler.function("column_sums", 2, width)
    g, out, start, end = fn.args
    b = e.b

    # Row by row, as NumPy: the running sums of the block stay in the L1 cache, every load
    # of g is contiguous, and the additions of different columns do not wait on each other.
    def first(at, mask):  # NumPy starts from 0.0 (a column of -0.0 sums to +0.0), adds row 0
        e.store(b.fadd(e.zero, e.load(g, at, mask)), out, at, mask)

    e.elementwise(start, end, first)

    def add_row(i, _):
        row = e.mul(i, n)

        def add(at, mask):
            total = b.fadd(e.load(out, at, mask), e.load(g, b.add(row, at), mask))
            e.store(total, out, at, mask)

        e.elementwise(start, end, add)

    e.loop(1, m, add_row)
    b.ret_void()
    return mod
