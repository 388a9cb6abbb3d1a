"""Float32 matrix products on Intel's MKL, where it is installed and the CPU is Intel's.

Why: on the 2-core AVX-512 host of issue 16, NumPy's OpenBLAS (SkylakeX kernels) multiplied
the course MLP's 128-row matrices at 196-258 GFLOP/s and MKL 2026.2 at 285-349 GFLOP/s
(PyTorch's products on the same shapes: 333-361), and the products are most of an MLP step.
So ``matmul`` hands 2-D float32 products of at least ``MIN_WORK`` multiply-adds to MKL's
``cblas_sgemm``; smaller ones stay on NumPy, whose call is cheaper there: in the course MLP's
training loop OpenBLAS ran the 128x256 by 256x10 products in 10-27 us and MKL in 22-35 us.
From about half a million multiply-adds MKL wins, partly because OpenBLAS starts its second
thread for them and wakes it from sleep each time (the softmax regression's 128x784 by
784x10 product: 99 us in the loop on OpenBLAS, 60 us on MKL, 44 us run back to back).

When it is used (otherwise ``matmul`` returns None and the op runs ``a @ b``):

- the ``mkl`` wheel is installed (``pip install deepgrad[fast]`` on x86-64 Linux) and
  ``libgomp`` (GCC's OpenMP runtime, which MKL's GNU threading layer needs) can be loaded;
- the CPU is an Intel one (``GenuineIntel``): the speed-up was measured there; on AMD CPUs
  it has not been, so they keep OpenBLAS. ``DEEPGRAD_BLAS=mkl`` uses MKL on any x86 CPU,
  ``DEEPGRAD_BLAS=numpy`` never;
- both operands are float32 NumPy matrices laid out row- or column-major (a transposed view
  such as ``weight.T`` needs no copy), in the process that loaded MKL (a forked child keeps
  NumPy: GCC's OpenMP runtime cannot run parallel regions after a fork).

Threads: MKL runs on ``threads.num_threads()`` threads (so ``OMP_NUM_THREADS=1`` in the test
suite gives one), through GCC's OpenMP runtime rather than Intel's (``MKL_THREADING_LAYER``
is respected when set): the same team of threads as the compiled kernels (``openmp.py``),
loaded with a short spin. Results equal NumPy's to float32 rounding, not bit for bit: the two
libraries add the k products in different orders (tests/kernels/test_kernels_products.py
checks the error against float64 is no larger than NumPy's).
"""

from __future__ import annotations

import ctypes
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from deepgrad.kernels import openmp, threads

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


def _load() -> None:
    choice = os.environ.get("DEEPGRAD_BLAS", "").lower()
    if choice == "numpy" or os.environ.get("DEEPGRAD_JIT") == "0":
        _state["error"] = "turned off (DEEPGRAD_BLAS=numpy or DEEPGRAD_JIT=0)"
        return
    if choice != "mkl" and not _intel_cpu():
        _state["error"] = "not an Intel CPU (DEEPGRAD_BLAS=mkl uses MKL anyway)"
        return
    path = _find_mkl_rt()
    if path is None:
        _state["error"] = "the mkl package is not installed"
        return
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
        return
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


def active() -> bool:
    """True when float32 products of this process run on MKL."""
    if not _state:
        _load()
    return "sgemm" in _state and _state["pid"] == os.getpid()


def describe() -> str:
    """The BLAS the large float32 products use, for reports."""
    if active():
        version = metadata.version("mkl")
        return f"MKL {version} (products of at least {MIN_WORK} multiply-adds; NumPy's below)"
    return f"NumPy's BLAS ({_state.get('error', 'MKL not used in this process')})"


def _operand(x):
    """(transpose flag, leading dimension) of a float32 matrix for row-major sgemm, or None."""
    if x.flags.c_contiguous:
        return _NO_TRANS, max(1, x.shape[1])
    if x.flags.f_contiguous:
        return _TRANS, max(1, x.shape[0])
    return None


def matmul(a, b, bias=None):
    """a @ b (+ bias, a float32 vector of b's columns) for 2-D float32 NumPy arrays by MKL, or
    None (see the module docstring). With a bias the output starts as the bias and sgemm adds
    the product to it (beta = 1), as PyTorch's ``addmm`` does: one pass fewer over the output."""
    # The size first: most products of a small model stop here, and cheaply (W4 calls this
    # five times a step).
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2:
        return None
    m, k = a.shape
    n = b.shape[1]
    if m * n * k < MIN_WORK or k != b.shape[0] or a.dtype != np.float32 or b.dtype != np.float32:
        return None
    if bias is not None and (
        type(bias) is not np.ndarray or bias.dtype != np.float32 or bias.shape != (n,)
    ):
        return None
    if not active():
        return None
    ta, tb = _operand(a), _operand(b)
    if ta is None or tb is None:
        return None
    wanted = threads.num_threads()
    if _state["threads"] != wanted:
        _state["lib"].MKL_Set_Num_Threads(wanted)
        _state["threads"] = wanted
    out = np.empty((m, n), np.float32)
    if bias is not None:
        out[...] = bias
    _state["sgemm"](
        _ROW_MAJOR, ta[0], tb[0], m, n, k, 1.0, a.ctypes.data, ta[1], b.ctypes.data, tb[1],
        0.0 if bias is None else 1.0, out.ctypes.data, n,
    )  # fmt: skip
    return out
