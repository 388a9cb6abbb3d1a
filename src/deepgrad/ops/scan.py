"""Running and product reductions: cumsum, cumprod and prod.

``axis`` is normalised by the Tensor layer to a non-negative int (``None`` for ``prod`` over
all elements). The gradients are PyTorch's (``prod_backward``, ``cumprod_backward``): output / x
while no input is zero, so NaN and inf spread as in PyTorch; products of the other inputs, with
no division, once one is zero, so zeros are exact.
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
        return array_module(a).cumsum(a, axis=axis).reshape(a.shape)  # NumPy's 0-d result is 1-d

    def backward(ctx, g):  # x_i feeds every out_j with j >= i: sum the gradient from the end
        return _reverse_cumsum(g, ctx.axis) if g.ndim else g


class CumProd(Op):
    def forward(ctx, a, axis=0):
        out = array_module(a).cumprod(a, axis=axis).reshape(a.shape)
        ctx.axis = axis
        ctx.saved = (a, out)
        return out

    def backward(ctx, g):
        # d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i, computed as PyTorch does so
        # that NaN, inf and zeros give its values
        a, out = ctx.saved
        xp, axis = array_module(a), ctx.axis
        if a.size <= 1 or a.shape[axis] == 1:
            return g
        w = out * g
        zeros_so_far = xp.cumsum(a == 0, axis=axis)
        if not zeros_so_far.any():  # sum_{j >= i} g_j out_j / x_i
            return _reverse_cumsum(w, axis) / a
        # before the first zero: the same formula, on the outputs before that zero
        before = zeros_so_far == 0
        grad = xp.where(
            before, _reverse_cumsum(xp.where(before, w, 0), axis) / xp.where(before, a, 1), 0
        )
        # at the first zero z: out_{z-1} sum_{z <= j < next zero} g_j x_{z+1}...x_j; past it,
        # every product holds that zero, so the gradient is 0
        first_run = zeros_so_far == 1
        first_zero = first_run & (a == 0)
        after_first = first_run & ~first_zero
        weighted = xp.cumprod(xp.where(after_first, a, 1), axis=axis) * xp.where(first_run, g, 0)
        z = xp.argmax(first_run, axis=axis)
        before_z = xp.take_along_axis(out, xp.expand_dims(xp.maximum(z - 1, 0), axis), axis)
        before_z = xp.where(xp.expand_dims(z, axis) == 0, 1, before_z)
        at_zero = weighted.sum(axis=axis, keepdims=True) * before_z
        return xp.where(first_zero, at_zero, grad)


class Prod(Op):
    def forward(ctx, a, axis=None, keepdim=False):
        out = array_module(a).asarray(a.prod(axis=axis, keepdims=keepdim))
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.saved = (a, out)
        return out

    def backward(ctx, g):  # d prod / d x_i = product of the others, PyTorch's way (see top)
        a, out = ctx.saved
        xp = array_module(a)
        if a.ndim == 0:
            return g
        if ctx.axis is not None and not ctx.keepdim:
            g, out = xp.expand_dims(g, ctx.axis), xp.expand_dims(out, ctx.axis)
        zeros = int(xp.count_nonzero(a == 0))
        if zeros == 0:
            return g * (out / a)
        if ctx.axis is not None:
            return g * _exclusive_products(a, ctx.axis)
        if zeros > 1:  # PyTorch returns zeros here, even where another input is inf or NaN
            return xp.zeros_like(a)
        return g * _exclusive_products(a.reshape(-1), 0).reshape(a.shape)
