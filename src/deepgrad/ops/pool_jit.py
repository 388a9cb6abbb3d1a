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


def _rows(e, t, oh, ow, n, body):
    """Loop over output row t = (c, i) -> body(c, i, j, image) for every vector of images."""
    b = e.b
    ci = b.sdiv(t, e.const(oh))
    i = b.srem(t, e.const(oh))
    e.loop(0, ow, lambda j, _: e.loop(0, n // VEC, lambda nb, _: body(ci, i, j, e.mul(nb, VEC))))


def _forward_ir(c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool(x, out, arg, t0, t1) for output rows t = ci * OH + i in [t0, t1)."""
    mod, fn, e = jit.function("max_pool", 3)
    x, out, arg, t0, t1 = fn.args
    b, ir = e.b, e.ir
    xr, xc = w * n, h * w * n
    i32v = ir.VectorType(ir.IntType(32), VEC)

    def window(ci, i, j, image):
        at = e.add(e.mul(ci, xc), e.mul(i, sh * xr), e.mul(j, sw * n), image)
        best = e.load(x, at)
        won = ir.Constant(i32v, [0] * VEC)
        for k in range(1, kh * kw):
            p, q = divmod(k, kw)
            v = e.load(x, e.add(at, p * dh * xr + q * dw * n))
            take = b.or_(b.fcmp_ordered(">", v, best), b.fcmp_unordered("uno", v, v))
            best = b.select(take, v, best)
            won = b.select(take, ir.Constant(i32v, [k] * VEC), won)
        o_at = e.add(e.mul(ci, oh * ow * n), e.mul(i, ow * n), e.mul(j, n), image)
        e.store(best, out, o_at)
        e.store_bytes(b.trunc(won, ir.VectorType(ir.IntType(8), VEC)), arg, o_at)

    e.loop(t0, t1, lambda t, _: _rows(e, t, oh, ow, n, window))
    b.ret_void()
    return mod


def _backward_ir(c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool_grad(dy, arg, dx, t0, t1) for output rows t = ci * OH + i in [t0, t1)."""
    mod, fn, e = jit.function("max_pool_grad", 3)
    dy, arg, dx, t0, t1 = fn.args
    b, ir = e.b, e.ir
    xr, xc = w * n, h * w * n
    i8v = ir.VectorType(ir.IntType(8), VEC)

    def window(ci, i, j, image):
        o_at = e.add(e.mul(ci, oh * ow * n), e.mul(i, ow * n), e.mul(j, n), image)
        g = e.load(dy, o_at)
        won = e.load_bytes(arg, o_at)
        at = e.add(e.mul(ci, xc), e.mul(i, sh * xr), e.mul(j, sw * n), image)
        for k in range(kh * kw):
            p, q = divmod(k, kw)
            hit = b.icmp_unsigned("==", won, ir.Constant(i8v, [k] * VEC))
            e.store(b.select(hit, g, e.zero), dx, e.add(at, p * xr + q * n))

    e.loop(t0, t1, lambda t, _: _rows(e, t, oh, ow, n, window))
    b.ret_void()
    return mod
