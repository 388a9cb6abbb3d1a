"""Convolution and pooling primitives, forward and backward side by side.

Convolution (really cross-correlation, as in every framework)::

    y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]

is computed as matrix products ("im2col"): the input is copied once into a zero-padded buffer;
for each of the kh*kw kernel offsets a strided view of that buffer (no copy) holds the pixels
every output position sees at that offset, and those views are copied side by side into a
column matrix ``cols`` of shape (C*kh*kw, positions). Then

    forward   Y     = W (O, C*kh*kw) @ cols
    backward  dW    = dY @ cols^T
              dcols = W^T @ dY, then "col2im": add each offset's block of dcols back into the
                      padded input gradient (kh*kw strided slice-adds, never a loop over pixels)

Groups split C and O into ``groups`` blocks and turn each product into a batched one.

On a CPU the copies cost about as much as the products, so two choices keep them cheap:

* **Batch innermost.** The padded buffer is laid out (C, H, W, N): the batch index varies
  fastest. Every window view then moves runs of at least N contiguous numbers (OW*N when the
  stride is 1), whatever the stride or dilation, and the product's output comes out as
  (O, OH, OW, N) with no transposition. The output tensor has PyTorch's shape (N, O, OH, OW)
  but keeps that memory order (like PyTorch's ``channels_last``, only with the batch last);
  elementwise ops and pooling preserve it, so the next convolution reads it without a copy.
* **Chunks that fit in cache.** Output rows are processed a few at a time, so each chunk's
  column matrix (about ``_CHUNK_BYTES``) is still in cache when the product reads it, and the
  buffer is reused. Backward rebuilds each chunk's columns instead of keeping a large matrix
  alive between forward and backward.

Pooling works on the same kind of strided views: max pooling keeps, per output, the index of
the first maximum of its window in row-major order (PyTorch's CPU rule on ties) and routes the
gradient there; average pooling divides by PyTorch's divisor (``count_include_pad``,
``ceil_mode``, ``divisor_override``).
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.function import Function
from deepgrad.backend import array_module

#: Bytes of one chunk's column matrix: about what stays in cache while the product reads it.
#: On the Fashion-MNIST CNN, 2-8 MiB are all close; far larger chunks fall out of cache and far
#: smaller ones make the products inefficient.
_CHUNK_BYTES = 4 << 20


def batch_last(x):
    """The (C, H, W, N) view of an (N, C, H, W) array: contiguous for our conv outputs."""
    return x.transpose(1, 2, 3, 0)


class _ConvGeometry:
    """Every size and stride the convolution needs, computed once per call."""

    def __init__(self, x_shape, w_shape, stride, padding, dilation, groups, itemsize):
        n, c, h, w = x_shape
        o, cg, kh, kw = w_shape
        sh, sw = stride
        pt, pb, pl, pr = padding
        dh, dw = dilation
        self.n, self.c, self.h, self.w, self.o = n, c, h, w, o
        self.kh, self.kw, self.sh, self.sw, self.dh, self.dw = kh, kw, sh, sw, dh, dw
        self.pt, self.pl, self.groups = pt, pl, groups
        self.hp, self.wp = h + pt + pb, w + pl + pr
        self.oh = (self.hp - dh * (kh - 1) - 1) // sh + 1
        self.ow = (self.wp - dw * (kw - 1) - 1) // sw + 1
        self.k = cg * kh * kw  # rows of ``cols`` per group
        self.row = self.ow * n  # columns of ``cols`` per output row
        row_bytes = c * kh * kw * self.row * itemsize
        self.rows = max(1, min(self.oh, _CHUNK_BYTES // max(1, row_bytes)))

    def pad(self, x):
        """x (N, C, H, W) -> zero-padded buffer (C, Hp, Wp, N)."""
        xp = array_module(x)
        buf = xp.zeros((self.c, self.hp, self.wp, self.n), dtype=x.dtype)
        self.interior(buf)[...] = batch_last(x)
        return buf

    def interior(self, buf):
        """The (C, H, W, N) view of the real pixels inside a padded buffer."""
        return buf[:, self.pt : self.pt + self.h, self.pl : self.pl + self.w]

    def windows(self, buf):
        """View (C, kh, kw, OH, OW, N) of a padded buffer: [c, p, q] holds the pixels that
        kernel offset (p, q) multiplies, at every output position. No copy, just strides."""
        xp = array_module(buf)
        sc, sy, sx, sn = buf.strides
        shape = (self.c, self.kh, self.kw, self.oh, self.ow, self.n)
        strides = (sc, self.dh * sy, self.dw * sx, self.sh * sy, self.sw * sx, sn)
        return xp.lib.stride_tricks.as_strided(buf, shape, strides, writeable=True)

    def im2col(self, win, r0, r1, out):
        """Copy output rows r0 .. r1-1 into columns (groups, k, (r1-r0)*OW*N)."""
        cols = out[: self.c * self.kh * self.kw * (r1 - r0) * self.row]
        blocks = cols.reshape(self.c, self.kh, self.kw, r1 - r0, self.ow, self.n)
        for p in range(self.kh):
            for q in range(self.kw):
                blocks[:, p, q] = win[:, p, q, r0:r1]
        return cols.reshape(self.groups, self.k, (r1 - r0) * self.row)

    def col2im(self, cols, dwin, r0, r1):
        """Add columns (groups, k, (r1-r0)*OW*N) back into the padded gradient buffer. One
        slice-add per kernel offset: windows of different offsets overlap, so they cannot be
        added in a single operation."""
        blocks = cols.reshape(self.c, self.kh, self.kw, r1 - r0, self.ow, self.n)
        for p in range(self.kh):
            for q in range(self.kw):
                dwin[:, p, q, r0:r1] += blocks[:, p, q]


class Conv2d(Function):
    """2-D convolution of x (N, C, H, W) with w (O, C/groups, kh, kw) and an optional bias (O,).

    ``padding`` is (top, bottom, left, right); ``stride`` and ``dilation`` are pairs. The
    output is stored batch-innermost (see the module docstring).
    """

    def forward(ctx, x, weight, bias=None, *, stride, padding, dilation, groups):
        xp = array_module(x)
        geo = _ConvGeometry(x.shape, weight.shape, stride, padding, dilation, groups, x.itemsize)
        ctx.geo = geo
        buf = geo.pad(x)
        g, o, oh, step = groups, geo.o, geo.oh, geo.rows
        w3 = weight.reshape(g, o // g, geo.k)
        out = xp.empty((g, o // g, oh * geo.row), dtype=x.dtype)
        cols = xp.empty(g * geo.k * step * geo.row, dtype=x.dtype)
        win = geo.windows(buf)
        for r0 in range(0, oh, step):
            r1 = min(r0 + step, oh)
            xp.matmul(w3, geo.im2col(win, r0, r1, cols), out=out[:, :, r0 * geo.row : r1 * geo.row])
        out = out.reshape(o, oh, geo.ow, geo.n)
        if bias is not None:
            out += bias.reshape(o, 1, 1, 1)
        need = ctx.needs_input_grad
        if need:
            # keep only what backward reads: the padded input for dW, the weight for dx
            ctx.saved = (buf if need[1] else None, weight if need[0] else None)
        return out.transpose(3, 0, 1, 2)

    def backward(ctx, grad):
        geo = ctx.geo
        buf, weight = ctx.saved
        need = ctx.needs_input_grad
        xp = array_module(grad)
        g, o, oh, step = geo.groups, geo.o, geo.oh, geo.rows
        gq = xp.ascontiguousarray(batch_last(grad))  # (O, OH, OW, N), a no-op for our layout
        g3 = gq.reshape(g, o // g, oh * geo.row)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gq.reshape(o, -1).sum(axis=1)
        if need[1]:
            gw = xp.zeros((g, o // g, geo.k), dtype=grad.dtype)
            part = xp.empty_like(gw)
            cols = xp.empty(g * geo.k * step * geo.row, dtype=grad.dtype)
            win = geo.windows(buf)
        if need[0]:
            dbuf = xp.zeros((geo.c, geo.hp, geo.wp, geo.n), dtype=grad.dtype)
            wt = weight.reshape(g, o // g, geo.k).transpose(0, 2, 1)
            dcols = xp.empty((g, geo.k, step * geo.row), dtype=grad.dtype)
            dwin = geo.windows(dbuf)
        for r0 in range(0, oh, step):
            r1 = min(r0 + step, oh)
            gchunk = g3[:, :, r0 * geo.row : r1 * geo.row]
            if need[1]:
                xp.matmul(gchunk, geo.im2col(win, r0, r1, cols).transpose(0, 2, 1), out=part)
                gw += part
            if need[0]:
                d = dcols[:, :, : (r1 - r0) * geo.row]
                xp.matmul(wt, gchunk, out=d)
                geo.col2im(d, dwin, r0, r1)
        if need[0]:
            gx = geo.interior(dbuf).transpose(3, 0, 1, 2)
        if gw is not None:
            gw = gw.reshape(o, geo.k // (geo.kh * geo.kw), geo.kh, geo.kw)
        return gx, gw, gb


# ------------------------------------------------------------------------------------- pooling
def pool_output_size(size, kernel, stride, pad, dilation, ceil_mode):
    """PyTorch's pooled length: floor (or ceil) of the window count, with the rule that the last
    window must start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _layout(a):
    """a's axes from outermost to innermost in memory (our conv outputs: C, H, W, N)."""
    return tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])))


def _alloc(xp, shape, dtype, layout, fill=None):
    """A new array of ``shape`` stored in the memory order ``layout`` (see ``_layout``), so
    pooling keeps its input's memory order instead of forcing a transposing copy."""
    mem_shape = [shape[i] for i in layout]
    if fill is None:
        mem = xp.empty(mem_shape, dtype=dtype)
    else:
        mem = xp.full(mem_shape, fill, dtype=dtype)
    return mem.transpose(np.argsort(layout))


class _PoolGeometry:
    """Sizes of a 2-D pooling, and the padded input it reads (windows are strided slices)."""

    def __init__(self, x, kernel, stride, padding, dilation, ceil_mode):
        n, c, h, w = x.shape
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        self.h, self.w = h, w
        self.layout = _layout(x)
        self.oh = pool_output_size(h, self.kh, self.sh, self.ph, self.dh, ceil_mode)
        self.ow = pool_output_size(w, self.kw, self.sw, self.pw, self.dw, ceil_mode)
        # rows/columns the windows reach, which ceil_mode may take past the right padding
        self.hp = max(h + 2 * self.ph, (self.oh - 1) * self.sh + self.dh * (self.kh - 1) + 1)
        self.wp = max(w + 2 * self.pw, (self.ow - 1) * self.sw + self.dw * (self.kw - 1) + 1)
        self.padded = (self.hp, self.wp) != (h, w)
        # every input pixel in exactly one window: backward can assign instead of add
        self.tiles = (
            (self.kh, self.kw) == (self.sh, self.sw)
            and (self.dh, self.dw) == (1, 1)
            and not self.padded
            and (self.oh * self.sh, self.ow * self.sw) == (h, w)
        )

    def pad(self, x, fill):
        """The input with its padding (and ceil_mode overhang) filled with ``fill``."""
        if not self.padded:
            return x
        n, c = x.shape[:2]
        a = _alloc(array_module(x), (n, c, self.hp, self.wp), x.dtype, self.layout, fill)
        self.crop(a)[...] = x
        return a

    def crop(self, a):
        if not self.padded:
            return a
        return a[:, :, self.ph : self.ph + self.h, self.pw : self.pw + self.w]

    def input_grad(self, grad, tiles):
        """A gradient buffer shaped like the padded input, in the input's memory order; zeroed
        unless the windows tile it (then every element gets written)."""
        shape = grad.shape[:2] + (self.hp, self.wp)
        return _alloc(array_module(grad), shape, grad.dtype, self.layout, None if tiles else 0)

    def same_layout(self, a):
        """``a`` in the input's memory order: one transposing copy here is cheaper than kh*kw
        elementwise passes that mix two memory orders (e.g. a gradient coming from a flatten)."""
        if _layout(a) == self.layout:
            return a
        b = _alloc(array_module(a), a.shape, a.dtype, self.layout)
        b[...] = a
        return b

    def offsets(self):
        return [(p, q) for p in range(self.kh) for q in range(self.kw)]

    def window(self, a, p, q):
        """Strided view (N, C, OH, OW): the element at kernel offset (p, q) of every window."""
        r, c = p * self.dh, q * self.dw
        return a[
            :,
            :,
            r : r + self.sh * (self.oh - 1) + 1 : self.sh,
            c : c + self.sw * (self.ow - 1) + 1 : self.sw,
        ]

    def region(self, i, j):
        """Index of the whole window of output (i, j), for the few-outputs loop."""
        r, c = i * self.sh, j * self.sw
        rows = slice(r, r + self.dh * (self.kh - 1) + 1, self.dh)
        cols = slice(c, c + self.dw * (self.kw - 1) + 1, self.dw)
        return (slice(None), slice(None), rows, cols)


class MaxPool2d(Function):
    """Max over each window: y = max_{p,q} xpad[n, c, i*sh + p*dh, j*sw + q*dw].

    The gradient goes to the first maximum of each window in row-major order (PyTorch's CPU
    rule on ties). The padding never wins: it is filled with -inf.
    """

    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        xp = array_module(x)
        geo = _PoolGeometry(x, kernel, stride, padding, dilation, ceil_mode)
        lowest = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        a = geo.pad(x, lowest)
        offsets = geo.offsets()
        out = geo.window(a, 0, 0).copy(order="K")
        arg = xp.zeros_like(out, dtype=xp.uint8 if len(offsets) < 256 else xp.int32)
        for k, (p, q) in enumerate(offsets[1:], start=1):
            v = geo.window(a, p, q)
            # arg = k where v beats the running maximum (strictly, so an earlier maximum wins
            # ties). arg < k so far, so max(arg, k * beats) does it without a masked copy.
            beats = (v > out).view(xp.uint8)
            beats *= k if k < 256 else 0
            if k < 256:
                xp.maximum(arg, beats, out=arg)
            else:
                xp.maximum(arg, beats.astype(arg.dtype) * k, out=arg)
            xp.maximum(out, v, out=out)  # also propagates NaN, as PyTorch does
        ctx.geo = geo
        ctx.saved = (arg,)
        return out

    def backward(ctx, grad):
        (arg,) = ctx.saved
        geo = ctx.geo
        xp = array_module(grad)
        gx = geo.input_grad(grad, geo.tiles)
        grad = geo.same_layout(grad)
        for k, (p, q) in enumerate(geo.offsets()):
            if geo.tiles:  # each input pixel is in one window: write, no need to add
                xp.multiply(grad, arg == k, out=geo.window(gx, p, q))
            else:
                geo.window(gx, p, q)[...] += grad * (arg == k)
        return geo.crop(gx)

    @staticmethod
    def indices(ctx):
        """PyTorch's ``return_indices``: each maximum's flat position in its (H, W) plane."""
        (arg,) = ctx.saved
        geo = ctx.geo
        xp = array_module(arg)
        arg = arg.astype(xp.int64)
        rows = xp.arange(geo.oh).reshape(-1, 1) * geo.sh - geo.ph + (arg // geo.kw) * geo.dh
        cols = xp.arange(geo.ow) * geo.sw - geo.pw + (arg % geo.kw) * geo.dw
        return rows * geo.w + cols


class AvgPool2d(Function):
    """Mean over each window: y = sum_{p,q} xpad[n, c, i*sh + p, j*sw + q] / divisor, with
    PyTorch's divisor (see ``avg_pool_divisor``). Backward shares each output's gradient
    equally among the pixels of its window: dx += dy / divisor."""

    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        xp = array_module(x)
        geo = _PoolGeometry(x, kernel, stride, padding, (1, 1), ceil_mode)
        a = geo.pad(x, 0)
        div = avg_pool_divisor(geo, count_include_pad, divisor_override, x.dtype)
        ctx.geo, ctx.div = geo, div
        if geo.oh * geo.ow < geo.kh * geo.kw:  # few, large windows (global pooling): sum each
            out = _alloc(xp, x.shape[:2] + (geo.oh, geo.ow), x.dtype, geo.layout)
            for i in range(geo.oh):
                for j in range(geo.ow):
                    out[:, :, i, j] = a[geo.region(i, j)].sum(axis=(2, 3))
        else:  # many small windows: add the kh*kw strided views
            offsets = geo.offsets()
            out = geo.window(a, *offsets[0]).copy(order="K")
            for p, q in offsets[1:]:
                out += geo.window(a, p, q)
        out /= div
        return out

    def backward(ctx, grad):
        geo = ctx.geo
        share = geo.same_layout(grad) / ctx.div  # each window's gradient, shared by its pixels
        if geo.oh * geo.ow < geo.kh * geo.kw:
            gx = geo.input_grad(grad, False)
            for i in range(geo.oh):
                for j in range(geo.ow):
                    gx[geo.region(i, j)] += share[:, :, i : i + 1, j : j + 1]
        else:
            gx = geo.input_grad(grad, geo.tiles)
            for p, q in geo.offsets():
                if geo.tiles:
                    geo.window(gx, p, q)[...] = share
                else:
                    geo.window(gx, p, q)[...] += share
        return geo.crop(gx)


def avg_pool_divisor(geo, count_include_pad, divisor_override, dtype):
    """PyTorch's divisor per output: the window clipped to the padded input (count_include_pad)
    or to the input itself, or ``divisor_override``. Separable, so an (OH, 1) x (1, OW) product;
    a plain number when it is the same everywhere."""
    if divisor_override:
        return dtype.type(divisor_override)

    def counts(out, k, s, pad, size):
        start = np.arange(out) * s - pad
        end = np.minimum(start + k, size + pad)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        return end - start

    rows = counts(geo.oh, geo.kh, geo.sh, geo.ph, geo.h)
    cols = counts(geo.ow, geo.kw, geo.sw, geo.pw, geo.w)
    if (rows == rows[0]).all() and (cols == cols[0]).all():
        return dtype.type(rows[0] * cols[0])
    return (rows[:, None] * cols[None, :]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """Average over PyTorch's adaptive windows: output row i averages input rows
    floor(i*H/OH) .. ceil((i+1)*H/OH) - 1, likewise for columns. Such windows may overlap and
    differ in size, so this is written with two averaging matrices, y = A_h x A_w^T, and
    backward dx = A_h^T dy A_w. (When the sizes divide evenly, the functional form uses
    AvgPool2d instead, which sums and divides exactly as PyTorch does.)"""

    def forward(ctx, x, output_size):
        xp = array_module(x)
        h, w = x.shape[-2:]
        ah = adaptive_matrix(h, output_size[0], x.dtype)
        aw = adaptive_matrix(w, output_size[1], x.dtype)
        ctx.saved = (ah, aw)
        return xp.einsum("ih,nchw,jw->ncij", ah, x, aw, optimize=True)

    def backward(ctx, grad):
        ah, aw = ctx.saved
        xp = array_module(grad)
        return xp.einsum("ih,ncij,jw->nchw", ah, grad, aw, optimize=True)


def adaptive_matrix(size, out, dtype):
    """(out, size) matrix whose row i averages the inputs of adaptive window i."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m
