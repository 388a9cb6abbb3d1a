"""Max pooling in one pass, compiled for this CPU (see ``jit.py``), for float32 batch-innermost
inputs (the layout of deepgrad's convolution outputs).

NumPy's max pooling (``ops/conv.py``) makes kh*kw passes over strided views, each comparing,
updating the running maximum and recording which offset won: on the course CNN its forward
and backward took a fifth of a training step. These kernels read each input once:

* ``forward``: per vector of 8 images, y = max over the window and arg = the window offset
  (row-major) of the first maximum; a later element wins only if it is greater, or NaN (a NaN
  propagates), which is PyTorch's CPU rule.
* ``backward`` for windows that tile the input (kernel = stride, no padding or dilation, the
  input an exact multiple): every input element is written once, dx = dy where its offset
  won, else 0. Overlapping windows use the NumPy code.
"""

from __future__ import annotations

import numpy as np

from deepgrad.ops import jit
from deepgrad.ops.jit import VEC


def usable(x, geo) -> bool:
    """True when ``forward`` can pool ``x`` (N, C, H, W) with ``_PoolGeometry`` ``geo``."""
    n = x.shape[0]
    return (
        type(x) is np.ndarray
        and x.dtype == np.float32
        and n % VEC == 0
        and x.transpose(1, 2, 3, 0).flags.c_contiguous
        and not geo.padded
        and geo.kh * geo.kw < 256
        and jit.available()
    )


def _shape(geo, c, n):
    return (c, geo.h, geo.w, n, geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.oh, geo.ow)


def forward(x_cnhw, geo):
    """(y, arg) of max pooling x (C, H, W, N): both (C, OH, OW, N), arg as uint8 offsets."""
    c, _, _, n = x_cnhw.shape
    shape = _shape(geo, c, n)
    kernel = jit.kernel("max_pool", shape, _forward_ir, 3)
    out = np.empty((c, geo.oh, geo.ow, n), np.float32)
    arg = np.empty((c, geo.oh, geo.ow, n), np.uint8)
    jit.run_split(kernel, (x_cnhw.ctypes.data, out.ctypes.data, arg.ctypes.data), c * geo.oh)
    return out, arg


def backward(grad_cnhw, arg, geo):
    """dx (C, H, W, N) of tiling windows from dy and arg (C, OH, OW, N)."""
    c, _, _, n = grad_cnhw.shape
    shape = _shape(geo, c, n)
    kernel = jit.kernel("max_pool_grad", shape, _backward_ir, 3)
    gx = np.empty((c, geo.h, geo.w, n), np.float32)
    args = (grad_cnhw.ctypes.data, arg.ctypes.data, gx.ctypes.data)
    jit.run_split(kernel, args, c * geo.oh)
    return gx


def _windows(name, c, h, w, n, kh, kw, sh, sw, oh, ow, window):
    """Module ``name``(a, b, out, t0, t1) calling window(pointers, o_at, at) for every vector
    of images of the output rows t = ci * OH + i in [t0, t1): o_at its offset in the output,
    at the offset of its window's first element in the input."""
    mod, fn, e = jit.function(name, 3)
    t0, t1 = fn.args[3:]
    b = e.b

    def row(t, _):
        ci, i = b.sdiv(t, e.const(oh)), b.srem(t, e.const(oh))

        def vector(j, nb):
            image = e.mul(nb, VEC)
            o_at = e.add(e.mul(ci, oh * ow * n), e.mul(i, ow * n), e.mul(j, n), image)
            at = e.add(e.mul(ci, h * w * n), e.mul(i, sh * w * n), e.mul(j, sw * n), image)
            window(e, fn.args[:3], o_at, at)

        e.loop(0, ow, lambda j, _: e.loop(0, n // VEC, lambda nb, _: vector(j, nb)))

    e.loop(t0, t1, row)
    b.ret_void()
    return mod


def _forward_ir(c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool(x, out, arg, t0, t1)."""

    def window(e, args, o_at, at):
        x, out, arg = args
        b, ir = e.b, e.ir
        i32v = ir.VectorType(ir.IntType(32), VEC)
        best = e.load(x, at)
        won = ir.Constant(i32v, [0] * VEC)
        for k in range(1, kh * kw):
            p, q = divmod(k, kw)
            v = e.load(x, e.add(at, (p * dh * w + q * dw) * n))
            take = b.or_(b.fcmp_ordered(">", v, best), b.fcmp_unordered("uno", v, v))
            best = b.select(take, v, best)
            won = b.select(take, ir.Constant(i32v, [k] * VEC), won)
        e.store(best, out, o_at)
        e.store_bytes(b.trunc(won, ir.VectorType(ir.IntType(8), VEC)), arg, o_at)

    return _windows("max_pool", c, h, w, n, kh, kw, sh, sw, oh, ow, window)


def _backward_ir(c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool_grad(dy, arg, dx, t0, t1), for windows that tile the input."""

    def window(e, args, o_at, at):
        dy, arg, dx = args
        b, ir = e.b, e.ir
        g = e.load(dy, o_at)
        won = e.load_bytes(arg, o_at)
        for k in range(kh * kw):
            p, q = divmod(k, kw)
            hit = b.icmp_unsigned(
                "==", won, ir.Constant(ir.VectorType(ir.IntType(8), VEC), [k] * VEC)
            )
            e.store(b.select(hit, g, e.zero), dx, e.add(at, (p * w + q) * n))

    return _windows("max_pool_grad", c, h, w, n, kh, kw, sh, sw, oh, ow, window)
