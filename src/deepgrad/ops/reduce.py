"""Reductions: sum, norm, mean, var, max/min, logsumexp, and the softmax family.

``dim`` is normalised by the Tensor layer to a tuple of non-negative axes (or ``None`` for
all). Backward expands the upstream gradient back over the reduced axes.
"""

from __future__ import annotations

import math

import numpy as np

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module
from deepgrad.ops.elementwise import sign_array


def max_keepdims(a, axis):
    """``a.max(axis=axis, keepdims=True)``: the shift of softmax, log-softmax and
    cross-entropy. NumPy reduces short rows one at a time (7 us for the course's 128 x 10
    logits, 54 at 1000 x 10); with the last axis first, in a copy, the rows are reduced
    together, as elementwise maxima (1.8 and 5.3 us). The maximum is exact in any order and a
    NaN gives NaN either way; only a row whose maximum is both 0.0 and -0.0 may get the other
    zero."""
    if (
        type(a) is np.ndarray
        and a.ndim >= 2
        and axis in (-1, a.ndim - 1)
        and a.shape[-1] < 128
        and a.size >= 16 * a.shape[-1] > 0
    ):
        last_first = a.T if a.ndim == 2 else a.transpose((a.ndim - 1, *range(a.ndim - 1)))
        return np.maximum.reduce(np.ascontiguousarray(last_first), axis=0)[..., None]
    return a.max(axis=axis, keepdims=True)


def _expand(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input shape (a view; copied only if stored)."""
    xp = array_module(g)
    if not keepdim and axes is not None:
        g = g.reshape([1 if i in axes else n for i, n in enumerate(in_shape)])
    return xp.broadcast_to(g, in_shape)


class Sum(Op):
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(ctx, g):  # every input contributed once: copy the gradient to each
        return _expand(g, ctx.shape, ctx.axes, ctx.keepdim)


def _norm(xp, a, p, axes, keepdim):
    """The p-norm of a over ``axes``, as torch.linalg.vector_norm defines it for each p."""
    if p == 2:
        return xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
    if p == 0:  # the number of non-zero entries
        count = (a != 0).sum(axis=axes, keepdims=keepdim)
        return count.astype(a.dtype if a.dtype.kind == "f" else np.float64)
    if math.isinf(p):  # the largest |x|, or for -inf the smallest
        extreme = xp.abs(a).max if p > 0 else xp.abs(a).min
        return extreme(axis=axes, keepdims=keepdim)
    if p == 1:
        return xp.abs(a).sum(axis=axes, keepdims=keepdim)
    return (xp.abs(a) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)


class Norm(Op):
    """The p-norm (sum |x|^p)^(1/p) over ``axes`` (None: all): max |x| for p = inf, min |x|
    for -inf, the number of non-zeros for 0. Its gradient is PyTorch's norm_backward, case by
    case, because PyTorch masks what the chain rule leaves undefined: where the norm is 0
    (sqrt'(0) * 0 = inf * 0 would be NaN), and at p = +-inf a NaN result's gradient goes to
    the NaNs (|x| == NaN picks no entry)."""

    def forward(ctx, a, p=2, axes=None, keepdim=False):
        out = _norm(array_module(a), a, p, axes, keepdim)
        ctx.saved = (a, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return out

    def backward(ctx, g):
        a, out = ctx.saved
        xp, p = array_module(a), ctx.p
        if p == 0:  # piecewise constant; PyTorch returns no gradient
            return None
        g = _expand(g, a.shape, ctx.axes, ctx.keepdim)
        norm = _expand(out, a.shape, ctx.axes, ctx.keepdim)
        sign = sign_array(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 1:
                return sign * g
            if p == 2:
                return g * xp.where(norm == 0, 0, a / norm)
            absolute = xp.abs(a)
            if math.isinf(p):  # the extreme entries, and NaNs, share the gradient
                mask = (absolute == norm) | xp.isnan(absolute)
                count = mask.sum(axis=ctx.axes, keepdims=True).astype(g.dtype)
                return sign * ((g / count) * mask)
            if p < 1:
                scaled = sign * xp.where(a == 0, 0, absolute ** (p - 1))
                return scaled * g * norm ** (1 - p)
            scale = xp.where(norm == 0, 0, g / norm ** (p - 1))
            if p < 2:
                return sign * absolute ** (p - 1) * scale
            return a * absolute ** (p - 2) * scale


class Mean(Op):
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        out = a.mean(axis=axes, keepdims=keepdim)
        ctx.count = a.size // max(out.size, 1) if a.size else 0
        return out

    def backward(ctx, g):
        return _expand(g / ctx.count, ctx.shape, ctx.axes, ctx.keepdim)


class Var(Op):
    """Variance with Bessel's ``correction`` (1 by default, as in PyTorch)."""

    def forward(ctx, a, axes=None, keepdim=False, correction=1):
        mean = a.mean(axis=axes, keepdims=True)
        centred = a - mean
        n = a.size // max(mean.size, 1)
        ctx.saved = (centred,)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centred * centred).sum(axis=axes, keepdims=keepdim) / ctx.denom

    def backward(ctx, g):  # d var = 2 (x - mean) / (n - correction)
        (centred,) = ctx.saved
        g = _expand(g, centred.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * centred * (2 / ctx.denom) if ctx.denom else g * centred * np.inf


class MaxAll(Op):
    """max() or min() over every element; ties share the gradient evenly (as PyTorch)."""

    def forward(ctx, a, largest=True):
        out = a.max() if largest else a.min()
        ctx.saved = (a, out)
        return out

    def backward(ctx, g):
        # PyTorch's evenly_distribute_backward: a NaN result came from the NaNs, which share
        # the gradient (a == NaN would pick nothing and divide by 0); zeros elsewhere are +0
        a, out = ctx.saved
        xp = array_module(a)
        mask = xp.isnan(a) if xp.isnan(out) else a == out
        return xp.where(mask, (g / mask.sum()).astype(a.dtype, copy=False), 0)


class AMax(Op):
    """amax/amin over ``axes``: ties share the gradient evenly (as PyTorch)."""

    def forward(ctx, a, axes, keepdim=False, largest=True):
        out = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        ctx.saved = (a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(ctx, g):
        a, out = ctx.saved  # out kept its reduced axes
        if not ctx.keepdim:
            g = g.reshape(out.shape)
        mask = a == out
        return mask * (g / mask.sum(axis=ctx.axes, keepdims=True))


class MaxDim(Op):
    """max(dim)/min(dim): values and indices; the gradient goes to the returned index."""

    def forward(ctx, a, axis, keepdim=False, largest=True):
        xp = array_module(a)
        idx = xp.argmax(a, axis=axis) if largest else xp.argmin(a, axis=axis)
        idx = xp.expand_dims(idx, axis)
        out = xp.take_along_axis(a, idx, axis=axis)
        ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        ctx.indices = idx if keepdim else idx.squeeze(axis)
        ctx.saved = (idx,)
        return out if keepdim else out.squeeze(axis)

    def backward(ctx, g):
        (idx,) = ctx.saved
        xp = array_module(g)
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axis)
        grad = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(grad, idx, g, axis=ctx.axis)
        return grad


class LogSumExp(Op):
    def forward(ctx, a, axes, keepdim=False):
        xp = array_module(a)
        m = a.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows stay -inf instead of nan
        s = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m
        ctx.saved = (a, s)
        ctx.axes, ctx.keepdim = axes, keepdim
        return s if keepdim else s.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(ctx, g):  # d logsumexp = softmax
        a, s = ctx.saved
        if not ctx.keepdim:
            g = g.reshape(s.shape)
        return g * array_module(a).exp(a - s)


class Softmax(Op):
    def forward(ctx, a, axis):
        xp = array_module(a)
        e = xp.exp(a - max_keepdims(a, axis))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.saved = (out,)
        ctx.axis = axis
        return out

    def backward(ctx, g):  # J^T g = y * (g - sum(g * y))
        (y,) = ctx.saved
        return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Op):
    def forward(ctx, a, axis):
        xp = array_module(a)
        shifted = a - max_keepdims(a, axis)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.saved = (out,)
        ctx.axis = axis
        return out

    def backward(ctx, g):  # g - softmax * sum(g)
        (out,) = ctx.saved
        return g - array_module(out).exp(out) * g.sum(axis=ctx.axis, keepdims=True)
