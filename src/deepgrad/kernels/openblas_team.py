"""NumPy's OpenBLAS on deepgrad's OpenMP team: each thread runs one single-threaded sgemm on
its share of the output.

Why: where MKL is not used (``products.py``: CPUs other than Intel's), NumPy's OpenBLAS
multiplies with a worker thread of its own, beside the OpenMP team that runs deepgrad's
kernels. Two pools on two cores cost twice. OpenBLAS puts its worker to sleep after each
product (``blas_threads.py``), and waking it cost about 100 us per step of the course MLP
(5 products; measured with the worker left spinning instead, when the optimiser's kernel then
lost 60 us to it); a team thread spinning on the core the worker needs made each product wait
for it (``openmp.spin_count``). With the products on the team there is one pool again, as
with MKL on Intel: on a 2-core AMD EPYC (Zen 5) the course MLP's hand-written step
(``benchmarks/w1_floor.py``) went from 0.568-0.591 s an epoch to 0.523-0.533.

How: the output is cut into one block of rows or of columns per thread (``by_rows`` chooses,
from measurements), and each thread calls OpenBLAS's ``cblas_sgemm`` for its block from a
compiled kernel. OpenBLAS is told to use one thread for the duration
(``openblas_set_num_threads(1)``, then its previous count again: 0.4 us), so the calls run
where they are made. A block multiplies the same numbers in the same order as a
whole product cut the same way, but OpenBLAS's own split of a whole product may differ, so
results equal NumPy's to float32 rounding, not always bit for bit (as MKL's do).

Used when ``find()`` finds NumPy's OpenBLAS with the functions it needs, the OpenMP team is
active (``openmp.active``) and the kernels compile (``compiler.available``).
"""

from __future__ import annotations

import ctypes

import numpy as np

from deepgrad.kernels import column_sums, compiler, threads
from deepgrad.kernels.pointers import address
from deepgrad.kernels.relu import rectified

_ROW_MAJOR, _NO_TRANS = 101, 111  # CBLAS's values, as in products.py
#: (sgemm, set threads, get threads, integer bits) as NumPy's wheels (``scipy_`` prefix,
#: 64-bit integers) and other OpenBLAS builds export them.
_NAMES = (
    ("scipy_cblas_sgemm64_", "scipy_openblas_set_num_threads64_",
     "scipy_openblas_get_num_threads64_", 64),
    ("cblas_sgemm64_", "openblas_set_num_threads64_", "openblas_get_num_threads64_", 64),
    ("scipy_cblas_sgemm", "scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads",
     32),
    ("cblas_sgemm", "openblas_set_num_threads", "openblas_get_num_threads", 32),
)  # fmt: skip
_found: list = []  # [None] or [(sgemm address, set threads, get threads, integer bits)]


def find():
    """NumPy's OpenBLAS as ``(sgemm address, set_threads, get_threads, integer bits)``, or
    None: another BLAS, or a build without these functions. Looked up once."""
    if not _found:
        _found.append(_find())
    return _found[0]


def _find():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    # NumPy's own copy first, should another library have loaded OpenBLAS too
    for path in sorted((p for p in paths if p.startswith("/")), key=lambda p: "numpy" not in p):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sgemm, set_name, get_name, bits in _NAMES:
            if all(hasattr(lib, name) for name in (sgemm, set_name, get_name)):
                set_threads, get_threads = getattr(lib, set_name), getattr(lib, get_name)
                set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
                get_threads.argtypes, get_threads.restype = [], ctypes.c_int
                at = ctypes.cast(getattr(lib, sgemm), ctypes.c_void_p).value
                return at, set_threads, get_threads, bits
    return None


def by_rows(m: int, n: int, k: int, ta: int, tb: int, n_threads: int) -> bool:
    """Whether the team cuts the output of the (m, k) x (k, n) product into blocks of rows
    (each thread reads all of b) rather than of columns (each thread reads all of a).

    Rows, unless one of these holds (each measured on a 2-core AMD EPYC, Zen 5, OpenBLAS 0.3.31
    SkylakeX kernels, all products of models 784-1024 wide at batches 32-512):

    - too few rows for a block each: fewer than 16 a thread, or at most 32 with n >= 256;
    - b is a transposed view (``x @ W.T``, a Linear's forward) and n >= 2m: with rows every
      thread would pack all of the weights, with columns half of them ((m, k, n) =
      (128, 784, 512): 272-327 us by columns against 337-379 by rows);
    - neither operand is transposed and b holds 2**20 numbers or more (4 MiB: larger than a
      core's L2), which every thread would read in full ((128, 1024, 1024): 727 us against 887).

    Why rows otherwise: the weight gradients (``g.T @ x``, k the batch) and the input gradients
    (``g @ W``) of the course MLP ran at about the same speed either way while the host was
    quiet, but by columns they slowed down far more when it was busy (for the course MLP's
    second layer 158 us by columns against 90 by rows), and the MLP's training epoch went from
    0.80 s to 0.69 (same process, epochs alternating; 0.51 either way on a quiet host). The
    old rule, blocks along the longer side, cut those products by columns.
    """
    rows_each = m // max(1, n_threads)
    if rows_each < 16 or (rows_each <= 32 and n >= 256):
        return False
    if tb != _NO_TRANS and n >= 2 * m:
        return False
    if ta == _NO_TRANS and tb == _NO_TRANS and n * k >= 1 << 20:
        return False
    return True


def matmul(a, b, bias, ta: tuple, tb: tuple, n_threads: int, rows: bool | None = None, relu=False):
    """a @ b (+ bias) on ``n_threads`` threads of the team: ``ta``/``tb`` are the operands'
    (transpose flag, leading dimension) for row-major sgemm (``products._operand``).
    ``rows`` forces blocks of rows (True) or of columns (False) instead of ``by_rows``'s
    choice (the tests run both). With ``relu`` each thread rectifies its block right after
    its sgemm, while the block is in its core's cache: the same bits as the product and then
    a ReLU pass (the same cut, ``relu.rectified``'s comparison), without the pass."""
    out, shares, job = _blocks(a, b, bias, ta, tb, n_threads, rows, relu)  # (job: read by calls)
    _run_alone(shares)
    return out


def matmuls(products: list, n_threads: int, sums_of=None) -> tuple:
    """``((a @ b for each (a, b, ta, tb) in products), sums)`` on ``n_threads`` threads of the
    team, at once: one product cut among all of them (``by_rows``), or two, the first on
    ``n_threads // 2`` threads and the second on the others. ``sums_of``: a C-ordered float32
    matrix whose column sums (a Linear's bias gradient) the threads add up after their
    products (``column_sums.py``), else ``sums`` is None.

    Why two at once: a Linear's input and weight gradients (``g @ W`` and ``g.T @ x``) do not
    depend on each other. Each product cut in two pays twice for packing the operand both
    halves read; two whole products, one a thread, pay once each. The course MLP's second
    layer (128 x 256 x 512, both gradients) on a 2-core AMD EPYC (Zen 5), caches flushed
    between calls: 172 us for the pair against 197 for the two products one after the other
    (medians of 300). On two threads each product is one single-threaded sgemm, the numbers
    NumPy's single-threaded OpenBLAS gives."""
    if len(products) == 1:
        each = (n_threads,)
    else:
        each = (max(1, n_threads // 2), max(1, n_threads - n_threads // 2))
    outs, shares, jobs = [], [], []
    for (a, b, ta, tb), t in zip(products, each):
        out, blocks, job = _blocks(a, b, None, ta, tb, t, None)
        outs.append(out)
        shares += blocks
        jobs.append(job)
    sums = None
    if sums_of is not None:  # each thread's columns, after its product
        sums, parts = column_sums.calls(sums_of, len(shares))
        for share, part in zip(shares, parts):
            share.extend(part)
    _run_alone(shares)  # (the job arrays the calls read are alive in ``jobs``)
    return tuple(outs), sums


def _blocks(a, b, bias, ta, tb, n_threads: int, rows: bool | None, relu=False):
    """The output of a @ b (+ bias) (holding the bias, if any; rectified with ``relu``), the
    team's calls that compute it, one list per thread, each a block of rows or of columns
    (``by_rows``), and the job array the calls read (the caller keeps it alive until they
    have run)."""
    sgemm, _, _, bits = find()
    (m, k), n = a.shape, b.shape[1]
    if rows is None:
        rows = by_rows(m, n, k, ta[0], tb[0], n_threads)
    out = np.empty((m, n), np.float32)
    if bias is not None:  # the output starts as the bias; sgemm adds the product (beta = 1)
        from deepgrad.kernels.products import _start_as_bias  # here: products imports this

        _start_as_bias(out, bias)
    if rows:  # blocks of rows: a's rows and out's rows move
        a_step = ta[1] if ta[0] == _NO_TRANS else 1
        params, total = (1, m, n, k, ta[0], tb[0], ta[1], tb[1], n, a_step, 0, n), m
    else:  # blocks of columns: b's columns and out's columns move
        b_step = 1 if tb[0] == _NO_TRANS else tb[1]
        params, total = (0, m, n, k, ta[0], tb[0], ta[1], tb[1], n, 0, b_step, 1), n
    job = np.array(params + (0 if bias is None else 1, 1 if relu else 0), np.int64)
    kernel = compiler.kernel("team_sgemm", (bits,), team_sgemm_ir, 5)
    pointers = (sgemm, address(job), address(a), address(b), address(out))
    return out, threads.split(kernel, pointers, total, n_threads), job


def _run_alone(shares) -> None:
    """Run the team's calls, one list per thread, with OpenBLAS told to use one thread, so
    each sgemm runs where it is called."""
    _, set_threads, get_threads, _ = find()
    before = get_threads()
    set_threads(1)
    try:
        threads.run_shares(shares)
    finally:
        set_threads(before)


def team_sgemm_ir(width, bits: int):
    """team_sgemm(sgemm, job, a, b, out, start, end): ``cblas_sgemm`` for the rows (or
    columns) [start, end) of out = a @ b (+ out, with beta = 1), then, if asked, the block
    rectified (ReLU). ``job`` is an int64 array: by rows?, m, n, k, transpose a, transpose b,
    lda, ldb, ldc, the element steps of a, b and out per row (or column) of the block's start,
    beta, relu?. ``bits``: sgemm's integer width."""
    from llvmlite import ir

    mod, fn, e = compiler.function("team_sgemm", 5, width)
    sgemm_at, job, a, b, out, start, end = fn.args
    bld = e.b
    i32, i64, f32 = ir.IntType(32), ir.IntType(64), ir.FloatType()
    int_n = ir.IntType(bits)
    f32p = f32.as_pointer()
    arguments = [i32, i32, i32, int_n, int_n, int_n, f32, f32p, int_n, f32p, int_n, f32, f32p,
                 int_n]  # fmt: skip
    sgemm = bld.bitcast(sgemm_at, ir.FunctionType(ir.VoidType(), arguments).as_pointer())
    words = bld.bitcast(job, i64.as_pointer())
    by_rows, m, n, k, ta, tb, lda, ldb, ldc, a_step, b_step, out_step, beta, relu = (
        bld.load(bld.gep(words, [ir.Constant(i64, i)])) for i in range(14)
    )
    block = bld.sub(end, start)
    rows_cut = bld.icmp_signed("!=", by_rows, ir.Constant(i64, 0))

    def integer(v):
        return v if bits == 64 else bld.trunc(v, int_n)

    with bld.if_then(bld.icmp_signed("<", start, end)):
        bld.call(sgemm, [
            ir.Constant(i32, _ROW_MAJOR), bld.trunc(ta, i32), bld.trunc(tb, i32),
            integer(bld.select(rows_cut, block, m)), integer(bld.select(rows_cut, n, block)),
            integer(k), ir.Constant(f32, 1.0), bld.gep(a, [bld.mul(start, a_step)]),
            integer(lda), bld.gep(b, [bld.mul(start, b_step)]), integer(ldb),
            bld.sitofp(beta, f32), bld.gep(out, [bld.mul(start, out_step)]), integer(ldc),
        ])  # fmt: skip

        def rectify(at, mask):
            e.store(rectified(e, e.load(out, at, mask)), out, at, mask)

        with bld.if_then(bld.icmp_signed("!=", relu, ir.Constant(i64, 0))):
            with bld.if_else(rows_cut) as (rows_block, columns_block):
                with rows_block:  # out's rows [start, end): one run of floats
                    e.elementwise(bld.mul(start, n), bld.mul(end, n), rectify)
                with columns_block:  # columns [start, end) of every row

                    def row(r, _):
                        at = bld.mul(r, n)
                        e.elementwise(bld.add(at, start), bld.add(at, end), rectify)

                    e.loop(0, m, row)
    bld.ret_void()
    return mod
