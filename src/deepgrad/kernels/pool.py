"""Max pooling in one pass, compiled for this CPU (see ``compiler.py``), for float32
batch-innermost inputs (the layout of deepgrad's convolution outputs).

The NumPy reference (``ops/pool.py``) makes kh*kw passes over strided views, each comparing,
updating the running maximum and recording which offset won: on the course CNN its forward
and backward took a fifth of a training step. These kernels read each input once:

* ``forward``: per vector of images, y = max over the window and arg = the window offset
  (row-major) of the first maximum; a later element wins only if it is greater, or NaN (a NaN
  propagates), which is PyTorch's CPU rule and the reference's.
* ``backward`` for windows that tile the input (kernel = stride, no padding or dilation, the
  input an exact multiple): every input element is written once, dx = 0 + dy where its
  offset won, else 0. Overlapping windows use the reference.

A batch that is not a whole number of vectors has its last images read and written with
masked loads and stores. The results equal the reference bit for bit (only comparisons and
copies: -0.0, infinities and NaN come through unchanged).
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler, threads
from deepgrad.kernels.pointers import address


def usable(x, geo) -> bool:
    """True when ``forward`` can pool ``x`` (N, C, H, W) with the pooling geometry ``geo``
    (``ops/pool.py``'s ``PoolGeometry``)."""
    return (
        type(x) is np.ndarray
        and x.dtype == np.float32
        and x.size > 0
        and x.transpose(1, 2, 3, 0).flags.c_contiguous
        and not geo.padded
        and geo.kh * geo.kw < 256
        and compiler.available()
    )


def _shape(geo, c, n):
    return (c, geo.h, geo.w, n, geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.oh, geo.ow)


def forward(x_cnhw, geo):
    """(y, arg) of max pooling x (C, H, W, N): both (C, OH, OW, N), arg as uint8 offsets."""
    c, _, _, n = x_cnhw.shape
    kernel = compiler.kernel("max_pool", _shape(geo, c, n), forward_ir, 3)
    out = np.empty((c, geo.oh, geo.ow, n), np.float32)
    arg = np.empty((c, geo.oh, geo.ow, n), np.uint8)
    args = (address(x_cnhw), address(out), address(arg))
    threads.run_split(kernel, args, c * geo.oh)
    return out, arg


def backward(grad_cnhw, arg, geo):
    """dx (C, H, W, N) of tiling windows from dy and arg (C, OH, OW, N)."""
    c, _, _, n = grad_cnhw.shape
    kernel = compiler.kernel("max_pool_grad", _shape(geo, c, n), backward_ir, 3)
    gx = np.empty((c, geo.h, geo.w, n), np.float32)
    args = (address(grad_cnhw), address(arg), address(gx))
    threads.run_split(kernel, args, c * geo.oh)
    return gx


def _windows(name, width, c, h, w, n, kh, kw, sh, sw, oh, ow, window):
    """Module ``name``(a, b, out, t0, t1) calling window(e, pointers, o_at, at, mask) for
    every vector of images of the output rows t = ci * OH + i in [t0, t1): o_at its offset in
    the output, at the offset of its window's first element in the input, mask None for a
    whole vector or the lanes of the batch's last partial one."""
    mod, fn, e = compiler.function(name, 3, width)
    t0, t1 = fn.args[3:]
    b = e.b
    whole, tail = divmod(n, width.vec)
    tail_mask = None
    if tail:
        tail_mask = e.ir.Constant(e.ir.VectorType(e.ir.IntType(1), width.vec),
                                  [lane < tail for lane in range(width.vec)])  # fmt: skip

    def row(t, _):
        ci, i = b.sdiv(t, e.const(oh)), b.srem(t, e.const(oh))

        def vector(j, image, mask):
            o_at = e.add(e.mul(ci, oh * ow * n), e.mul(i, ow * n), e.mul(j, n), image)
            at = e.add(e.mul(ci, h * w * n), e.mul(i, sh * w * n), e.mul(j, sw * n), image)
            window(e, fn.args[:3], o_at, at, mask)

        def column(j, _):
            e.loop(0, whole, lambda nb, _: vector(j, e.mul(nb, width.vec), None))
            if tail:
                vector(j, e.const(whole * width.vec), tail_mask)

        e.loop(0, ow, column)

    e.loop(t0, t1, row)
    b.ret_void()
    return mod


def forward_ir(width, c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool(x, out, arg, t0, t1)."""

    def window(e, args, o_at, at, mask):
        x, out, arg = args
        b, ir = e.b, e.ir
        i32v = ir.VectorType(ir.IntType(32), width.vec)
        best = e.load(x, at, mask)
        won = ir.Constant(i32v, [0] * width.vec)
        for k in range(1, kh * kw):
            p, q = divmod(k, kw)
            v = e.load(x, e.add(at, (p * dh * w + q * dw) * n), mask)
            take = b.or_(b.fcmp_ordered(">", v, best), b.fcmp_unordered("uno", v, v))
            best = b.select(take, v, best)
            won = b.select(take, ir.Constant(i32v, [k] * width.vec), won)
        e.store(best, out, o_at, mask)
        e.store_bytes(b.trunc(won, ir.VectorType(ir.IntType(8), width.vec)), arg, o_at, mask)

    return _windows("max_pool", width, c, h, w, n, kh, kw, sh, sw, oh, ow, window)


def backward_ir(width, c, h, w, n, kh, kw, sh, sw, dh, dw, oh, ow):
    """max_pool_grad(dy, arg, dx, t0, t1), for windows that tile the input."""

    def window(e, args, o_at, at, mask):
        dy, arg, dx = args
        b, ir = e.b, e.ir
        g = b.fadd(e.load(dy, o_at, mask), e.zero)  # 0 + dy, as the reference: -0.0 -> +0.0
        won = e.load_bytes(arg, o_at, mask)
        for k in range(kh * kw):
            p, q = divmod(k, kw)
            hit = b.icmp_unsigned(
                "==", won, ir.Constant(ir.VectorType(ir.IntType(8), width.vec), [k] * width.vec)
            )
            e.store(b.select(hit, g, e.zero), dx, e.add(at, (p * w + q) * n), mask)

    return _windows("max_pool_grad", width, c, h, w, n, kh, kw, sh, sw, oh, ow, window)
