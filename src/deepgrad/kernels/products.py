"""Float32 matrix products on the OpenMP team: Intel's MKL on Intel CPUs, NumPy's own
OpenBLAS one sgemm a thread elsewhere.

Why: on the 2-core AVX-512 host of issue 16, NumPy's OpenBLAS (SkylakeX kernels) multiplied
the course MLP's 128-row matrices at 196-258 GFLOP/s and MKL 2026.2 at 285-349 GFLOP/s
(PyTorch's products on the same shapes: 333-361), and the products are most of an MLP step.
So ``matmul`` hands 2-D float32 products of at least ``MIN_WORK`` multiply-adds to MKL's
``cblas_sgemm``; smaller ones stay on NumPy, whose call is cheaper there: in the course MLP's
training loop OpenBLAS ran the 128x256 by 256x10 products in 10-27 us and MKL in 22-35 us.
From about half a million multiply-adds MKL wins, partly because OpenBLAS starts its second
thread for them and wakes it from sleep each time (the softmax regression's 128x784 by
784x10 product: 99 us in the loop on OpenBLAS, 60 us on MKL, 44 us run back to back).
On other CPUs (an AMD EPYC, Zen 5) MKL was slower than OpenBLAS (the first layer's product
503 against 369 us), but OpenBLAS's own threads cost the wake-ups and fought the kernels'
team for the cores: there the same products run as NumPy's OpenBLAS on the team, each thread
one single-threaded sgemm on its block (``openblas_team.py``).

Which (``backend``; otherwise ``matmul`` returns None and the op runs ``a @ b``):

- ``"mkl"``: the ``mkl`` wheel is installed (``pip install deepgrad[fast]`` on x86-64 Linux),
  ``libgomp`` (GCC's OpenMP runtime, which MKL's GNU threading layer needs) can be loaded and
  the CPU is an Intel one (``GenuineIntel``), or ``DEEPGRAD_BLAS=mkl`` on any x86 CPU;
- ``"openblas"``: otherwise, where NumPy's BLAS is an OpenBLAS exporting ``cblas_sgemm`` and
  its thread control, the kernels compile and the OpenMP team runs (``DEEPGRAD_BLAS=openblas``
  chooses it on Intel CPUs too); it needs at least two threads;
- ``DEEPGRAD_BLAS=numpy`` (or ``DEEPGRAD_JIT=0``): neither;
- either way both operands are float32 NumPy matrices laid out row- or column-major (a
  transposed view such as ``weight.T`` needs no copy), in the process that loaded them (a
  forked child keeps NumPy: GCC's OpenMP runtime cannot run parallel regions after a fork).

Threads: MKL runs on ``threads.num_threads()`` threads (so ``OMP_NUM_THREADS=1`` in the test
suite gives one), through GCC's OpenMP runtime rather than Intel's (``MKL_THREADING_LAYER``
is respected when set): the same team of threads as the compiled kernels (``openmp.py``),
loaded with the spin for products on the team (``openmp.spin_count``). Results equal NumPy's
to float32 rounding, not bit for bit: the libraries (or the blocks) add the k products in
different orders (tests/kernels/test_kernels_products.py and test_kernels_openblas_team.py
check the error against float64 is no larger than NumPy's).
"""

from __future__ import annotations

import ctypes
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from deepgrad.kernels import compiler, openblas_team, openmp, threads
from deepgrad.kernels import relu as relu_kernels
from deepgrad.kernels.pointers import address

#: Products with fewer multiply-adds (m n k) stay on NumPy (see the module docstring).
MIN_WORK = 1 << 19

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_GNU_THREADING = 3
_state: dict = {}  # "sgemm", "pid", "threads" once loaded; "error" when MKL is not used


def _intel_cpu() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return "GenuineIntel" in line
    except OSError:
        pass
    return False


def _find_mkl_rt() -> Path | None:
    try:
        files = metadata.files("mkl") or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name.startswith("libmkl_rt.so"):
            path = Path(f.locate()).resolve()
            if path.exists():
                return path
    return None


def _choice() -> str:
    return os.environ.get("DEEPGRAD_BLAS", "").lower()


def _turned_off() -> str | None:
    if _choice() == "numpy" or os.environ.get("DEEPGRAD_JIT") == "0":
        return "turned off (DEEPGRAD_BLAS=numpy or DEEPGRAD_JIT=0)"
    return None


def _why_not_mkl() -> str | None:
    """Why this process will not use MKL, judged without loading it; None when it will try."""
    choice = _choice()
    if _turned_off() or choice == "openblas":
        return _turned_off() or "DEEPGRAD_BLAS=openblas"
    if choice != "mkl" and not _intel_cpu():
        return "not an Intel CPU (DEEPGRAD_BLAS=mkl uses MKL anyway)"
    if _find_mkl_rt() is None:
        return "the mkl package is not installed"
    return None


def _why_not_openblas_team() -> str | None:
    """Why NumPy's OpenBLAS will not run on the OpenMP team (``openblas_team.py``); None when
    it will, unless the team itself is not there (``openmp.active``)."""
    if _turned_off() or _choice() == "mkl":
        return _turned_off() or "DEEPGRAD_BLAS=mkl asks for MKL only"
    if os.environ.get("DEEPGRAD_OPENMP") == "0":
        return "no OpenMP team (DEEPGRAD_OPENMP=0)"
    if not compiler.available():
        return "no compiled kernels on this host"
    if openblas_team.find() is None:
        return "NumPy's BLAS is not an OpenBLAS with cblas_sgemm and thread control"
    return None


def mkl_wanted() -> bool:
    """True when ``matmul`` will try MKL (the CPU, ``DEEPGRAD_BLAS`` and the mkl package
    allow it); nothing is loaded to find out (``openmp.spin_count`` asks before loading)."""
    return _why_not_mkl() is None


def on_team_wanted() -> bool:
    """True when the large products will run on the OpenMP team, MKL's or NumPy's OpenBLAS
    (``openmp.spin_count`` asks before the team's runtime loads)."""
    return mkl_wanted() or _why_not_openblas_team() is None


def _load() -> None:
    if _turned_off():
        _state["error"] = _turned_off()
        return
    reason = _why_not_mkl()
    if reason is None and _load_mkl():
        return
    why_not = _why_not_openblas_team()
    if why_not is None:
        _state.update(backend="openblas", pid=os.getpid())
    else:
        _state["error"] = f"{_state.get('error') or reason}; {why_not}"


def _load_mkl() -> bool:
    path = _find_mkl_rt()
    layer = os.environ.get("MKL_THREADING_LAYER")
    try:
        # Loaded here, not when MKL first multiplies (it loads its threading layer lazily):
        # its settings are read at load time (see openmp.load), and a missing runtime is
        # better found now than by MKL's fatal error in the first product.
        if layer is None and openmp.load() is None:
            raise OSError(openmp.load_error())
        lib = ctypes.CDLL(str(path))
        if layer is None:
            lib.MKL_Set_Threading_Layer.argtypes = [ctypes.c_int]
            lib.MKL_Set_Threading_Layer(_GNU_THREADING)
        sgemm = lib.cblas_sgemm
    except (OSError, AttributeError) as exc:
        _state["error"] = f"MKL could not be loaded: {exc}"
        return False
    sgemm.argtypes = [ctypes.c_int] * 6 + [
        ctypes.c_float,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_float,
        ctypes.c_void_p,
        ctypes.c_int,
    ]
    sgemm.restype = None
    lib.MKL_Set_Num_Threads.argtypes = [ctypes.c_int]
    _state.update(lib=lib, sgemm=sgemm, pid=os.getpid(), threads=0, path=str(path))
    _state.update(backend="mkl", sgemm_address=ctypes.cast(sgemm, ctypes.c_void_p).value)
    return True


def backend() -> str | None:
    """Who multiplies the large float32 products in this process: "mkl", "openblas" (NumPy's
    OpenBLAS on the OpenMP team) or None (NumPy's own call)."""
    if not _state:
        _load()
    if _state.get("pid") != os.getpid():
        return None  # a forked child: GCC's OpenMP runtime cannot serve it
    if _state.get("backend") == "openblas" and not openmp.active():
        return None
    return _state.get("backend")


def active() -> bool:
    """True when the large float32 products of this process run on MKL or on the team."""
    return backend() is not None


def describe() -> str:
    """The BLAS the large float32 products use, for reports."""
    which = backend()
    below = f"products of at least {MIN_WORK} multiply-adds; NumPy's below"
    if which == "mkl":
        return f"MKL {metadata.version('mkl')} ({below})"
    if which == "openblas":
        return f"NumPy's OpenBLAS on deepgrad's OpenMP team ({below})"
    reason = _state.get("error") or openmp.describe()
    return f"NumPy's BLAS ({reason})"


def _operand(x):
    """(transpose flag, leading dimension) of a float32 matrix for row-major sgemm, or None."""
    if x.flags.c_contiguous:
        return _NO_TRANS, max(1, x.shape[1])
    if x.flags.f_contiguous:
        return _TRANS, max(1, x.shape[0])
    return None


def _operands(a, b):
    """(ta, tb) of two float32 NumPy matrices whose product is large enough for ``matmul``
    (``_operand`` of each), or None. The size first: most products of a small model stop
    here, and cheaply (W4 calls this five times a step)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2:
        return None
    m, k = a.shape
    n = b.shape[1]
    if m * n * k < MIN_WORK or k != b.shape[0] or a.dtype != np.float32 or b.dtype != np.float32:
        return None
    ta, tb = _operand(a), _operand(b)
    return None if ta is None or tb is None else (ta, tb)


def matmul(a, b, bias=None):
    """a @ b (+ bias, a float32 vector of b's columns) for 2-D float32 NumPy arrays by MKL, or
    None (see the module docstring). With a bias the output starts as the bias and sgemm adds
    the product to it (beta = 1), as PyTorch's ``addmm`` does: one pass fewer over the output."""
    layouts = _operands(a, b)
    if layouts is None:
        return None
    m, n = a.shape[0], b.shape[1]
    if bias is not None and (
        type(bias) is not np.ndarray or bias.dtype != np.float32 or bias.shape != (n,)
    ):
        return None
    which = backend()
    if which is None:
        return None
    (ta, tb), k = layouts, a.shape[1]
    wanted = threads.num_threads()
    if which == "openblas":  # on one thread NumPy's own call does the same
        return openblas_team.matmul(a, b, bias, ta, tb, wanted) if wanted > 1 else None
    if _state["threads"] != wanted:
        _state["lib"].MKL_Set_Num_Threads(wanted)
        _state["threads"] = wanted
    out = np.empty((m, n), np.float32)
    if bias is not None:
        _start_as_bias(out, bias)
    _state["sgemm"](
        _ROW_MAJOR, ta[0], tb[0], m, n, k, 1.0, address(a), ta[1], address(b), tb[1],
        0.0 if bias is None else 1.0, address(out), n,
    )  # fmt: skip
    return out


def linear_grads(g, x, w, need_x: bool, need_b: bool):
    """A Linear's gradients from g (m, n), for x (m, k) and w (n, k): ``(g @ w or None,
    g.T @ x, g.sum(axis=0) or None)``, the products and the sums at once on the team
    (``openblas_team.matmuls``: the two products side by side, each thread summing its
    columns of g after its product); None where the products do not run on the team (either
    too small or not float32, one thread, or MKL, whose pairing was not measured): the caller
    then computes them in turn. The bias gradient has NumPy's bits (``column_sums.py``); it is
    None if g is not C-ordered (the caller sums it)."""
    gt = g.T
    weight = _operands(gt, x)  # first: a small model stops here, and cheaply (W4)
    if weight is None or backend() != "openblas":
        return None
    inputs = _operands(g, w) if need_x else None
    if need_x and inputs is None:
        return None
    wanted = threads.num_threads()
    if wanted < 2:
        return None
    products = [(g, w, *inputs), (gt, x, *weight)] if need_x else [(gt, x, *weight)]
    sums_of = g if need_b and g.flags.c_contiguous else None
    outs, sums = openblas_team.matmuls(products, wanted, sums_of)
    return (outs[0] if need_x else None), outs[-1], sums


def _start_as_bias(out, bias) -> None:
    """``out[...] = bias`` for sgemm's beta = 1, by a compiled row fill where kernels run: in
    the course MLP's training step NumPy's broadcast assignment (an iterator, row by row) took
    10-17 us longer for the 128 x 512 output, measured alternating in one process."""
    if compiler.available():
        kernel = compiler.kernel("bias_rows", (out.shape[1],), bias_rows_ir, 2)
        kernel(address(bias), address(out), 0, out.shape[0])
    else:
        out[...] = bias


def _fill_rows(e, bias, y, start, end, n: int) -> None:
    """Emit: rows [start, end) of the row-major y (m, n) set to the vector ``bias`` (n,). Loads
    and stores only, so every bit is copied (NaN payloads and -0.0 included)."""

    def fill(row, _):
        at = e.mul(row, n)
        e.elementwise(
            e.const(0), e.const(n),
            lambda j, mask: e.store(e.load(bias, j, mask), y, e.b.add(at, j), mask),
        )  # fmt: skip

    e.loop(start, end, fill)


def bias_rows_ir(width, n: int):
    """bias_rows(bias, y, start, end): rows [start, end) of y (m, n) set to bias (n,)."""
    mod, fn, e = compiler.function("bias_rows", 2, width)
    bias, y, start, end = fn.args
    _fill_rows(e, bias, y, start, end, n)
    e.b.ret_void()
    return mod


# ---------------------------------------------------------------------- Linear then ReLU
#: Fewest rows a thread takes in ``linear_relu``: MKL's small-matrix paths add in another
#: order (784 -> 512 rows differed from the whole product's below about 50 rows a thread).
MIN_ROWS_PER_THREAD = 256
_same_as_whole: dict = {}  # (m, n, k, bias, threads) -> did the split give the whole's bits


def linear_relu(x, weight, bias):
    """relu(x @ weight.T + bias), or None: each thread of the OpenMP team multiplies its own
    block and then writes the ReLU over it while it is still in its core's cache.

    Where the products run as NumPy's OpenBLAS on the team (``openblas_team.matmul`` with
    ``relu``), every product that ``matmul`` takes, cut as ``matmul`` cuts it: the bits are
    those of ``matmul`` and a ReLU pass, by construction. On the course MLP's training step
    (batch 128, AMD EPYC Zen 5) the two ReLU passes after the products took 10-18 us.

    With MKL, each thread has MKL multiply its own rows (MKL runs on one thread inside a
    parallel region), at least ``MIN_ROWS_PER_THREAD`` each. Run as two steps (the product on
    MKL's threads, then a ReLU pass), each core re-read rows the other had just written: on
    the course MLP's inference (batch 1000) 2.71 against 2.57-2.67 ms for 784 -> 512 and
    0.99-1.01 against 0.94-0.96 ms for 512 -> 256.

    The bits must be those of the two steps (``matmul`` with the bias as the output's start,
    beta = 1, as PyTorch's ``addmm``, then ``relu``). Whether they are depends on how MKL cuts
    the whole product among its threads: by rows, as here, for the course MLP's shapes, but
    not for every shape (784 -> 128 and 3000 -> 64 differed in the last bit in about 40% of
    their elements). So the first product of each shape and thread count runs both ways; if
    the bits differ, that shape keeps the two steps (None from then on).

    Needs OpenBLAS or MKL on the OpenMP team (``openmp.py``; on the Python pool MKL would
    start threads of its own inside each share), at least two threads, float32 C-ordered x
    (m, k) and weight (n, k), and a float32 bias (n,) or None."""
    if (
        type(x) is not np.ndarray
        or type(weight) is not np.ndarray
        or x.ndim != 2
        or weight.ndim != 2
        or x.dtype != np.float32
        or weight.dtype != np.float32
        or not x.flags.c_contiguous
        or not weight.flags.c_contiguous
    ):
        return None
    (m, k), n = x.shape, weight.shape[0]
    if k != weight.shape[1] or m * n * k < MIN_WORK or min(n, k) == 0:
        return None
    if bias is not None and (
        type(bias) is not np.ndarray or bias.dtype != np.float32 or bias.shape != (n,)
    ):
        return None
    if backend() == "openblas":  # the team's blocks, each rectified after its sgemm
        wanted = threads.num_threads()
        if wanted < 2:
            return None
        wt = weight.T
        return openblas_team.matmul(x, wt, bias, _operand(x), _operand(wt), wanted, relu=True)
    shares = min(threads.num_threads(), m // MIN_ROWS_PER_THREAD)
    if shares < 2:
        return None
    key = (m, n, k, bias is not None, shares)
    if _same_as_whole.get(key) is False or not (
        backend() == "mkl" and compiler.available() and openmp.active()
    ):
        return None
    kernel = compiler.kernel("linear_relu", (n, k, bias is not None), linear_relu_ir, 5)
    out = np.empty((m, n), np.float32)
    pointers = (
        _state["sgemm_address"], address(x), address(weight), address(out),
        0 if bias is None else address(bias),
    )  # fmt: skip
    threads.run_split(kernel, pointers, m, shares)
    if key not in _same_as_whole:
        whole = matmul(x, weight.T, bias)
        np.maximum(0, whole, out=whole)
        _same_as_whole[key] = np.array_equal(out, whole, equal_nan=True)
        return whole
    return out


def linear_relu_ir(width, n: int, k: int, has_bias: bool):
    """linear_relu(sgemm, x, w, y, bias, start, end): rows [start, end) of
    y = relu(x w^T + bias), x (m, k) and w (n, k) row-major; ``sgemm`` is the address of
    MKL's ``cblas_sgemm``, called once for the rows."""
    from llvmlite import ir

    mod, fn, e = compiler.function("linear_relu", 5, width)
    sgemm_at, x, w, y, bias, start, end = fn.args
    b, i32, f32 = e.b, e.i32, e.f32
    f32p = f32.as_pointer()
    arguments = [i32] * 6 + [f32, f32p, i32, f32p, i32, f32, f32p, i32]
    sgemm_type = ir.FunctionType(ir.VoidType(), arguments)
    sgemm = b.bitcast(sgemm_at, sgemm_type.as_pointer())

    def c32(v):
        return ir.Constant(i32, v)

    with b.if_then(b.icmp_signed("<", start, end)):
        if has_bias:  # the output starts as the bias; sgemm adds the product (beta = 1)
            _fill_rows(e, bias, y, start, end, n)
        b.call(sgemm, [
            c32(_ROW_MAJOR), c32(_NO_TRANS), c32(_TRANS), b.trunc(b.sub(end, start), i32),
            c32(n), c32(k), ir.Constant(f32, 1.0), b.gep(x, [e.mul(start, k)]), c32(k), w,
            c32(k), ir.Constant(f32, 1.0 if has_bias else 0.0), b.gep(y, [e.mul(start, n)]),
            c32(n),
        ])  # fmt: skip

        def relu(at, mask):
            e.store(relu_kernels.rectified(e, e.load(y, at, mask)), y, at, mask)

        e.elementwise(e.mul(start, n), e.mul(end, n), relu)
    b.ret_void()
    return mod
