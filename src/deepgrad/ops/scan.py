"""Running and product reductions: cumsum, cumprod and prod.

``axis`` is normalised by the Tensor layer to a non-negative int (``None`` for ``prod`` over
all elements). Products are differentiated without dividing by the input, so zeros are exact.
"""

from __future__ import annotations

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module


def _reverse_cumsum(g, axis):
    xp = array_module(g)
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


def _exclusive_products(a, axis):
    """Product of every element of ``a`` along ``axis`` except the one at each position.

    left[i] = a[0]...a[i-1] and right[i] = a[i+1]...a[n-1], so left * right never divides by a
    (a zero input gets the exact product of the others).
    """
    xp = array_module(a)
    x = xp.moveaxis(a, axis, -1)
    ones = xp.ones_like(x[..., :1])
    left = xp.concatenate([ones, xp.cumprod(x, axis=-1)[..., :-1]], axis=-1)
    flipped = xp.flip(x, -1)
    right = xp.flip(xp.concatenate([ones, xp.cumprod(flipped, axis=-1)[..., :-1]], axis=-1), -1)
    return xp.moveaxis(left * right, -1, axis)


class CumSum(Op):
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        return array_module(a).cumsum(a, axis=axis)

    def backward(ctx, g):  # x_i feeds every out_j with j >= i: sum the gradient from the end
        return _reverse_cumsum(g, ctx.axis)


class CumProd(Op):
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        ctx.saved = (a,)
        return array_module(a).cumprod(a, axis=axis)

    def backward(ctx, g):
        # d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i. Computed per prefix length so
        # zeros are handled exactly: O(n^2) along the axis, fine for the sizes courses use.
        (a,) = ctx.saved
        xp = array_module(a)
        x = xp.moveaxis(a, ctx.axis, -1)
        gm = xp.moveaxis(g, ctx.axis, -1)
        n = x.shape[-1]
        out = xp.zeros_like(x)
        for j in range(n):
            out[..., : j + 1] += gm[..., j : j + 1] * _exclusive_products(x[..., : j + 1], -1)
        return xp.moveaxis(out, -1, ctx.axis)


class Prod(Op):
    def forward(ctx, a, axis=None, keepdim=False):
        ctx.axis, ctx.keepdim, ctx.shape = axis, keepdim, a.shape
        ctx.saved = (a,)
        return array_module(a).asarray(a.prod(axis=axis, keepdims=keepdim))

    def backward(ctx, g):  # d prod / d x_i = product of the others
        (a,) = ctx.saved
        if ctx.axis is None:
            others = _exclusive_products(a.reshape(-1), 0).reshape(a.shape)
            return g * others
        if not ctx.keepdim:
            g = array_module(g).expand_dims(g, ctx.axis)
        return g * _exclusive_products(a, ctx.axis)
