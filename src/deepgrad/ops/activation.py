"""Activation functions beyond the core's relu/sigmoid/tanh, each with its derivative beside it.

Conventions at the kinks follow PyTorch: leaky_relu'(0) = negative_slope, elu'(0) = alpha,
step'(x) = 0 everywhere (the Heaviside step has no useful gradient).
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module
from deepgrad.ops.elementwise import sigmoid_array
from deepgrad.ops.special import ndtr

_SQRT_2PI_INV = 1 / np.sqrt(2 * np.pi)
_SQRT_2_OVER_PI = np.sqrt(2 / np.pi)


class Step(Op):
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation, as in the course).

    d step / dx = 0 wherever it exists (and undefined at 0), so the gradient is all zeros.
    """

    def forward(ctx, a):
        return (a > 0).astype(a.dtype)

    def backward(ctx, g):
        return array_module(g).zeros_like(g)


class LeakyReLU(Op):
    def forward(ctx, a, negative_slope=0.01):
        pos = a > 0
        ctx.saved = (pos,)
        ctx.slope = negative_slope
        return array_module(a).where(pos, a, a * negative_slope)

    def backward(ctx, g):  # 1 where x > 0, negative_slope elsewhere
        (pos,) = ctx.saved
        return array_module(g).where(pos, g, g * ctx.slope)


class ELU(Op):
    def forward(ctx, a, alpha=1.0):
        xp = array_module(a)
        # PyTorch's branch test is x <= 0 (x > 0 would send NaN to the exponential side), and
        # x itself, not min(x, 0), goes into expm1 there: elu(-0.0) = -0.0 as in PyTorch
        neg_side = a <= 0
        neg = alpha * xp.expm1(xp.where(neg_side, a, 0))
        ctx.saved = (neg_side, neg)
        ctx.alpha = alpha
        return xp.where(neg_side, neg, a)

    def backward(ctx, g):  # alpha e^x = elu(x) + alpha where x <= 0, else 1
        # NaN input: PyTorch's scalar loop passes g (NaN <= 0 is false), as here; its SIMD loop
        # gives NaN, so a NaN in the SIMD-sized blocks of a longer tensor differs from PyTorch
        neg_side, neg = ctx.saved
        return array_module(g).where(neg_side, g * (neg + ctx.alpha), g)


class Softplus(Op):
    """(1/beta) log(1 + exp(beta x)), and x itself where beta x > threshold (as PyTorch)."""

    def forward(ctx, a, beta=1.0, threshold=20.0):
        xp = array_module(a)
        z = a * beta if beta != 1 else a
        soft = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))  # stable log(1 + e^z)
        if beta != 1:
            soft /= beta
        linear = z > threshold
        ctx.saved = (z, linear)
        return xp.where(linear, a, soft)

    def backward(ctx, g):  # sigmoid(beta x), 1 in the linear region
        z, linear = ctx.saved
        return array_module(g).where(linear, g, g * sigmoid_array(z))


class Softsign(Op):
    def forward(ctx, a):
        xp = array_module(a)
        denom = 1 + xp.abs(a)
        out = a / denom
        ctx.saved = (a, denom, out)
        return out

    def backward(ctx, g):  # 1 / (1 + |x|)^2, written as PyTorch's autograd of x / (1 + |x|)
        # computes it: 1/d - (x/d)/d * sign(x). The two forms agree for finite x, but only this
        # one gives NaN at x = +-inf (0 - (inf/inf)/inf), as PyTorch does
        a, denom, out = ctx.saved
        return g / denom - g * (out / denom) * array_module(a).sign(a)


class GELU(Op):
    """x Phi(x) with Phi the standard normal CDF (``approximate='none'``, PyTorch's default),
    or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) with ``approximate='tanh'``."""

    def forward(ctx, a, approximate="none"):
        xp = array_module(a)
        ctx.saved = (a,)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI.astype(a.dtype) * (a + 0.044715 * a * a * a))
            ctx.saved = (a, t)
            return 0.5 * a * (1 + t)
        cdf = ndtr(a)
        ctx.saved = (a, cdf)
        return a * cdf

    def backward(ctx, g):
        xp = array_module(g)
        a, aux = ctx.saved
        if ctx.approximate == "tanh":
            t = aux
            inner = _SQRT_2_OVER_PI.astype(a.dtype) * (1 + 3 * 0.044715 * a * a)
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * inner)
        # d/dx x Phi(x) = Phi(x) + x phi(x), phi the normal density
        pdf = xp.exp(-0.5 * a * a) * _SQRT_2PI_INV.astype(a.dtype)
        return g * (aux + a * pdf)


class SiLU(Op):
    """x sigmoid(x) (also called swish)."""

    def forward(ctx, a):
        s = sigmoid_array(a)
        ctx.saved = (a, s)
        return a * s

    def backward(ctx, g):  # s (1 + x (1 - s))
        a, s = ctx.saved
        return g * (s * (1 + a * (1 - s)))


class Hardtanh(Op):
    def forward(ctx, a, min_val=-1.0, max_val=1.0):
        # PyTorch's test, not (min < x < max): a NaN input is not at an edge, so it passes g
        at_edge = (a <= min_val) | (a >= max_val)
        ctx.saved = (at_edge,)
        return array_module(a).clip(a, min_val, max_val)

    def backward(ctx, g):  # 1 strictly inside (min, max), 0 at and beyond the edges (as PyTorch)
        # where, not a product: a negative g at the edges gives +0.0, as in PyTorch. At NaN, its
        # scalar loop (short tensors, the tail of long ones) passes g, as here; its SIMD loop, 0
        (at_edge,) = ctx.saved
        return array_module(g).where(at_edge, 0, g)
