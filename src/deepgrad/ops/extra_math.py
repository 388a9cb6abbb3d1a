"""Primitives the API census added: arcsine, determinant, and piecewise-constant functions."""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op


class Asin(Op):
    def forward(ctx, a):
        ctx.saved = (a,)
        return np.arcsin(a)

    def backward(ctx, g):  # d asin(x) = 1 / sqrt(1 - x^2)
        (a,) = ctx.saved
        return g / np.sqrt(1 - a * a)


class Det(Op):
    def forward(ctx, a):
        d = np.linalg.det(a).astype(a.dtype)
        ctx.saved = (a, d)
        return d

    def backward(ctx, g):  # d det(A) = det(A) A^-T (Jacobi's formula)
        a, d = ctx.saved
        return (g * d)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)


class PiecewiseConstant(Op):
    """sign, floor, ceil, round: flat between jumps, so their gradient is zero, as in PyTorch."""

    def forward(ctx, a, fn):
        return fn(a)

    def backward(ctx, g):
        return np.zeros_like(g)
