"""Speed: compiled CPU kernels, fused optimiser steps, and thread, BLAS and allocator control.

Every op keeps its NumPy reference in ``deepgrad.ops`` (or ``deepgrad.optim``); where a
kernel can do the same work faster, the op calls one dispatch function below, which returns
the result, or None (False for the optimiser steps) when the kernels do not apply (no
llvmlite, a CPU without AVX2+FMA, ``DEEPGRAD_JIT=0``, another dtype or device, a layout the
kernel does not handle). The op then runs its reference. Each kernel is tested against the
reference it replaces, special values included (``tests/kernels/``).

Files: ``compiler.py`` (LLVM IR to machine code, and the vector width chosen for this CPU),
``threads.py`` (how the work is cut among threads), ``openmp.py`` (the OpenMP team that
runs the shares), ``conv.py``, ``pool.py``, ``relu.py``, ``gather.py``,
``optim_steps.py`` (the kernels), ``products.py`` (float32 matrix products on MKL where it
is installed and the CPU is Intel's, else ``openblas_team.py``: NumPy's OpenBLAS, one sgemm a
thread of the team, with ``column_sums.py`` for a Linear's bias gradient), ``pointers.py``
(an array's data address, read cheaply), ``blas_threads.py`` and ``allocator.py`` (the two
process-wide settings, each documented where it is made).
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler
from deepgrad.kernels import conv as _conv
from deepgrad.kernels import gather as _gather
from deepgrad.kernels import openmp as _openmp
from deepgrad.kernels import optim_steps as _optim
from deepgrad.kernels import pool as _pool
from deepgrad.kernels import products as _products
from deepgrad.kernels import relu as _relu


def available() -> bool:
    """True when compiled kernels run in this process."""
    return compiler.available()


def describe() -> dict:
    """The kernels' target for reports: ``{"isa": "avx512" | "avx2" | "numpy", ...,
    "products": the BLAS of the large float32 products, "threads": who runs the kernels'
    shares}``."""
    return {
        **compiler.describe(),
        "products": _products.describe(),
        "threads": _openmp.describe(),
    }


# ------------------------------------------------------------------------ matrix products
def matmul(a, b, bias=None):
    """a @ b (+ bias) of two float32 NumPy matrices on the OpenMP team (MKL, or NumPy's
    OpenBLAS one sgemm a thread: ``products.backend``), or None: neither used here, another
    dtype or layout, fewer than ``products.MIN_WORK`` multiply-adds."""
    return _products.matmul(a, b, bias)


def linear_grads(g, x, w, need_x: bool, need_b: bool):
    """A Linear's gradients ``(g @ w or None, g.T @ x, g.sum(axis=0) or None)`` at once on the
    team (the two products side by side, the bias's sums after them), or None: the caller
    computes them in turn (``products.linear_grads``)."""
    return _products.linear_grads(g, x, w, need_x, need_b)


def linear_relu(x, weight, bias):
    """relu(x @ weight.T + bias), each thread's block multiplied and rectified in one go
    (``products.linear_relu``), or None."""
    return _products.linear_relu(x, weight, bias)


# ---------------------------------------------------------------------------- indexing
def take_rows(x, index):
    """``x[index]`` for a 1-D int64 index into a large float32 NumPy array (a batch picked
    from a data set), copied on all threads, or None (``gather.take_rows``)."""
    return _gather.take_rows(x, index)


# ------------------------------------------------------------------------------------ ReLU
def relu_forward(x):
    """relu(x) by the kernel, or None: large float32 NumPy arrays in one contiguous block."""
    return _relu.forward(x) if _relu.usable(x) else None


def relu_forward_inplace(x) -> bool:
    """x = relu(x) in x's memory by the kernel; False (x untouched) when the kernel does not
    apply: the caller then runs the reference in place."""
    return _relu.usable(x, least=_relu.INPLACE_MIN) and _relu.forward_inplace(x)


def relu_backward(g, y):
    """dx of relu from g and the output y by the kernel, or None (see ``relu_forward``)."""
    return _relu.backward(g, y) if _relu.usable(g, backward=True) else None


# ----------------------------------------------------------------------------- convolution
def conv2d(x, weight, bias, stride, padding, dilation, groups):
    """(y (N, O, OH, OW) stored batch-innermost, the padded input the weight gradient reads)
    by the direct kernels, or None: float32 NumPy arrays, no groups, kernels up to 32 wide.
    ``padding`` is (top, bottom, left, right)."""
    if not _conv.usable(x, weight, groups, weight.shape[3]):
        return None
    n, _, h, w = x.shape
    _, _, kh, kw = weight.shape
    pt, pb, pl, pr = padding
    (sh, sw), (dh, dw) = stride, dilation
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    xbuf = _conv.pad_input(x.transpose(1, 2, 3, 0), padding)
    out = _conv.forward(xbuf, weight, bias, n, (oh, ow), stride, dilation)
    return out.transpose(3, 0, 1, 2), xbuf


def conv2d_weight_grad(xbuf, grad_cnhw, kernel_hw, stride, dilation):
    """dW (O, C, kh, kw) from ``conv2d``'s padded input and dY stored (O, OH, OW, N)."""
    return _conv.weight_grad(xbuf, grad_cnhw, kernel_hw, stride, dilation)


def conv2d_input_grad(grad_cnhw, flipped, pads, n, hw, dilation):
    """dx (C, H, W, N) of a stride-1 convolution, as the forward kernel run on dY padded by
    ``pads`` with the ``flipped`` kernel (C, O, kh, kw)."""
    return _conv.input_grad(grad_cnhw, flipped, pads, n, hw, dilation)


# --------------------------------------------------------------------------------- pooling
def max_pool2d(x, geo):
    """(y, arg) of max pooling x (N, C, H, W) by the one-pass kernel, both (N, C, OH, OW)
    stored batch-innermost, arg the uint8 window offset of each maximum; or None: float32
    NumPy input stored batch-innermost, no padding. ``geo`` is ``ops/pool.py``'s
    ``PoolGeometry``."""
    if not _pool.usable(x, geo):
        return None
    out, arg = _pool.forward(x.transpose(1, 2, 3, 0), geo)
    return out.transpose(3, 0, 1, 2), arg.transpose(3, 0, 1, 2)


def max_pool2d_backward(grad, arg, geo):
    """dx (N, C, H, W) from dy and ``max_pool2d``'s arg, or None: windows that tile the
    input, float32 NumPy dy."""
    if not (geo.tiles and type(grad) is np.ndarray and grad.dtype == np.float32):
        return None
    g = np.ascontiguousarray(grad.transpose(1, 2, 3, 0))
    return _pool.backward(g, arg.transpose(1, 2, 3, 0), geo).transpose(3, 0, 1, 2)


# ---------------------------------------------------------------------- optimiser steps
def optimizer_step(algorithm: str, flags: tuple, arrays: list, scalars: list) -> bool:
    """One fused, multi-threaded update of a parameter group by ``algorithm`` ("sgd",
    "adam", "rmsprop", "adagrad"; ``optim_steps.py`` lists the flags and scalars of each).
    ``arrays`` holds, per parameter, its float32 arrays (parameter first, then gradient and
    state), ``scalars`` its hyper-parameters. False (nothing changed) when the kernels do not
    apply; the optimiser then runs its reference step."""
    if not _optim.usable(arrays):
        return False
    if arrays:  # (a group whose parameters have no gradients yet: nothing to do)
        _optim.step(algorithm, flags, arrays, scalars)
    return True
