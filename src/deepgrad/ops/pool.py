"""Pooling primitives, forward and backward side by side, on strided views of the input.

* **Max pooling** keeps, per output, the offset of the first maximum of its window in
  row-major order (PyTorch's CPU rule on ties; a NaN wins and propagates) and routes the
  gradient there: dx = 0 + dy at that element (so -0.0 becomes +0.0, as PyTorch adds into
  zeros), exactly 0 elsewhere (even where dy is inf or NaN).
* **Average pooling** divides each window's sum by PyTorch's divisor (``count_include_pad``,
  ``ceil_mode``, ``divisor_override``).
* **Adaptive average pooling** sums each of PyTorch's adaptive windows on its own (they may
  overlap), then divides by its rows and columns.

Outputs keep their input's memory order (deepgrad's convolutions store the batch innermost),
so the next layer reads them without a transposing copy. float32 max pooling runs a compiled
one-pass kernel where it can (``kernels.max_pool2d``); the NumPy code here is the reference
it is tested against.
"""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.autograd.op import Op
from deepgrad.backend import array_module
from deepgrad.ops.conv import scratch


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


def scratch_like(xp, slot, a, dtype):
    """A scratch array (see ``scratch``) with a's shape and memory order."""
    layout = _layout(a)
    flat = scratch(xp, slot, a.size, dtype)
    return flat.reshape([a.shape[i] for i in layout]).transpose(np.argsort(layout))


class PoolGeometry:
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

    def real_offsets(self):
        """(kh*kw, OH, OW) booleans: True where offset k of window (i, j) reads an element of
        the input, False where it reads the padding (or the ceil_mode overhang)."""

        def real(out, k, s, d, pad, size):  # (k, out): offset p of window i inside the input
            at = np.arange(k)[:, None] * d + np.arange(out)[None, :] * s - pad
            return (at >= 0) & (at < size)

        rows = real(self.oh, self.kh, self.sh, self.dh, self.ph, self.h)
        cols = real(self.ow, self.kw, self.sw, self.dw, self.pw, self.w)
        both = rows[:, None, :, None] & cols[None, :, None, :]
        return both.reshape(self.kh * self.kw, self.oh, self.ow)

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


class MaxPool2d(Op):
    """Max over each window: y = max_{p,q} xpad[n, c, i*sh + p*dh, j*sw + q*dw].

    The gradient goes to the first maximum of each window in row-major order (PyTorch's CPU
    rule on ties). The padding never wins: it is filled with -inf, and a window whose real
    elements are all -inf picks its first real one.
    """

    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        xp = array_module(x)
        geo = PoolGeometry(x, kernel, stride, padding, dilation, ceil_mode)
        ctx.geo = geo
        fast = kernels.max_pool2d(x, geo)
        ctx.jit = fast is not None
        if ctx.jit:  # one compiled pass
            out, arg = fast
            ctx.saved = (arg,)
            return out
        lowest = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        a = geo.pad(x, lowest)
        offsets = geo.offsets()
        out = geo.window(a, 0, 0).copy(order="K")
        arg = xp.zeros_like(out, dtype=xp.uint8 if len(offsets) < 256 else xp.int32)
        beats = scratch_like(xp, "pool", out, xp.bool_)
        floating = x.dtype.kind == "f"
        for k, (p, q) in enumerate(offsets[1:], start=1):
            v = geo.window(a, p, q)
            # v beats the running maximum when greater (strictly, so an earlier maximum wins
            # ties, -0.0 against 0.0 too) or NaN (a NaN propagates): PyTorch's CPU rule
            xp.greater(v, out, out=beats)
            if floating:
                beats |= xp.isnan(v)
            xp.copyto(out, v, where=beats)
            # arg = k where v beats. arg < k so far, so max(arg, k * beats) does it without a
            # masked copy (this overwrites beats).
            if k < 256:
                step = beats.view(xp.uint8)
                step *= k
                xp.maximum(arg, step, out=arg)
            else:
                xp.maximum(arg, beats * k, out=arg)
        if geo.padded:
            _first_real_on_padding(xp, geo, arg)
        ctx.geo = geo
        ctx.saved = (arg,)
        return out

    def backward(ctx, grad):
        (arg,) = ctx.saved
        geo = ctx.geo
        xp = array_module(grad)
        if ctx.jit:
            gx = kernels.max_pool2d_backward(grad, arg, geo)
            if gx is not None:
                return gx
        # dx = dy where the offset won, else exactly 0: a copy under a mask, not a multiply
        # by the mask, so an infinite or NaN dy does not leak into the losing elements
        gx = geo.input_grad(grad, False)
        grad = geo.same_layout(grad)
        mask = scratch_like(xp, "pool", arg, xp.bool_)
        if not geo.tiles:
            part = scratch_like(xp, "pool-grad", grad, grad.dtype)
        for k, (p, q) in enumerate(geo.offsets()):
            xp.equal(arg, k, out=mask)
            if geo.tiles:  # each input pixel is in one window: write, no need to add
                xp.copyto(geo.window(gx, p, q), grad, where=mask)
            else:
                part[...] = 0
                xp.copyto(part, grad, where=mask)
                geo.window(gx, p, q)[...] += part
        if geo.tiles:  # PyTorch adds dy into zeros: 0 + (-0.0) is +0.0, and so it is here
            gx += 0
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


def _first_real_on_padding(xp, geo, arg):
    """Where a window's winner is its padding, make it the window's first real element.

    That happens when every real element of the window is -inf (for integers, the lowest
    value): they tie with the padding, and on ties the first offset wins. PyTorch never reads
    the padding but starts each window at its first real element, so that element gets the
    gradient (not the padding, where it would be lost) and is the index ``return_indices``
    gives."""
    real = xp.asarray(geo.real_offsets())
    rows, cols = xp.arange(geo.oh)[:, None], xp.arange(geo.ow)
    on_padding = ~real[arg, rows, cols]
    if on_padding.any():
        first = real.argmax(axis=0).astype(arg.dtype)  # (OH, OW)
        xp.copyto(arg, xp.broadcast_to(first, arg.shape), where=on_padding)


class AvgPool2d(Op):
    """Mean over each window: y = sum_{p,q} xpad[n, c, i*sh + p, j*sw + q] / divisor, with
    PyTorch's divisor (see ``avg_pool_divisor``). Backward shares each output's gradient
    equally among the pixels of its window: dx += dy / divisor."""

    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        xp = array_module(x)
        geo = PoolGeometry(x, kernel, stride, padding, (1, 1), ceil_mode)
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
        if out.dtype.kind == "f":
            out /= div
            return out
        # int64, as PyTorch computes it: the integer sum divided, truncated toward zero (floor
        # division, then one up where a negative quotient was inexact)
        quotient = out // div
        return quotient + ((quotient < 0) & (quotient * div != out))

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


class AdaptiveAvgPool2d(Op):
    """Average over PyTorch's adaptive windows: output row i averages input rows
    floor(i*H/OH) .. ceil((i+1)*H/OH) - 1, likewise for columns, as PyTorch computes it:
    y = (sum of the window) / rows / columns. Backward shares dy / rows / columns among the
    pixels of the window. Windows may overlap and differ in size, so each one is summed on
    its own (its rows, then its columns): an averaging matrix would multiply every NaN or
    infinity by the zeros of the windows that do not hold it (0 * NaN is NaN). (When the sizes
    divide evenly, the functional form uses AvgPool2d instead.)"""

    def forward(ctx, x, output_size):
        xp = array_module(x)
        rows = adaptive_windows(x.shape[-2], output_size[0])
        cols = adaptive_windows(x.shape[-1], output_size[1])
        ctx.windows, ctx.hw = (rows, cols), x.shape[-2:]
        by_rows = xp.stack([x[..., a:b, :].sum(axis=-2) for a, b in rows], axis=-2)
        out = xp.stack([by_rows[..., a:b].sum(axis=-1) for a, b in cols], axis=-1)
        return _per_window(out, rows, cols)

    def backward(ctx, grad):
        rows, cols = ctx.windows
        xp = array_module(grad)
        share = _per_window(grad, rows, cols)
        by_rows = xp.zeros(grad.shape[:-1] + ctx.hw[1:], grad.dtype)  # (..., OH, W)
        for j, (a, b) in enumerate(cols):
            by_rows[..., a:b] += share[..., j : j + 1]
        gx = xp.zeros(grad.shape[:-2] + ctx.hw, grad.dtype)
        for i, (a, b) in enumerate(rows):
            gx[..., a:b, :] += by_rows[..., i : i + 1, :]
        return gx

    def averaging_matrices(ctx, dtype):
        """(A_h, A_w) with y = A_h x A_w^T: the pooling as two products, which is how the ONNX
        export writes it (there a NaN or infinity does spread through the zeros)."""

        def matrix(windows, size):
            m = np.zeros((len(windows), size), dtype=dtype)
            for i, (a, b) in enumerate(windows):
                m[i, a:b] = 1.0 / (b - a)
            return m

        return tuple(matrix(w, size) for w, size in zip(ctx.windows, ctx.hw))


def adaptive_windows(size, out):
    """(start, end) of each of the ``out`` adaptive windows over ``size`` inputs."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _per_window(a, rows, cols):
    """a (..., OH, OW) divided by each window's rows, then by its columns (PyTorch's order)."""
    xp = array_module(a)
    heights = xp.asarray([b - s for s, b in rows], dtype=a.dtype)
    widths = xp.asarray([b - s for s, b in cols], dtype=a.dtype)
    return a / heights[:, None] / widths
