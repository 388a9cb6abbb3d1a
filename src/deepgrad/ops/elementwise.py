"""Elementwise primitives and their derivatives, read like a table of derivatives.

Gradients follow PyTorch's conventions at the kinks: relu'(0) = 0, |x|'(0) = 0, clamp passes
the gradient where min <= x <= max, and maximum/minimum split it evenly on ties.
"""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.autograd.op import Op
from deepgrad.backend import array_module
from deepgrad.device import backend_of
from deepgrad.ops.special import erf


class Add(Op):
    def forward(ctx, a, b):
        return a + b

    def backward(ctx, g):  # d(a+b) = da + db: the add gate distributes the gradient
        return g, g


class Sub(Op):
    def forward(ctx, a, b):
        return a - b

    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Op):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return a * b

    def backward(ctx, g):  # the mul gate swaps its inputs
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Op):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return a / b

    def backward(ctx, g):  # d(a/b) = da/b - a db/b^2
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (g / b if need_a else None), (-g * a / (b * b) if need_b else None)


class Neg(Op):
    def forward(ctx, a):
        return -a

    def backward(ctx, g):
        return -g


def _power(a, p):
    """a ** p as PyTorch's pow kernel computes it: p = 0.5 is sqrt(a) and p = -0.5 is
    1 / sqrt(a), shortcuts whose values differ from C's pow at -0.0 (sqrt(-0.0) = -0.0, so
    -0.0 ** -0.5 is -inf; pow gives +0 and +inf) and at -inf (NaN; pow gives +inf and +0)."""
    xp = array_module(a)
    if p == 0.5:
        return xp.sqrt(a)
    if p == -0.5:
        return 1 / xp.sqrt(a)
    return a**p


class PowScalar(Op):
    """x ** p for a constant exponent p."""

    def forward(ctx, a, exponent):
        ctx.saved = (a,)
        ctx.exponent = exponent
        return _power(a, exponent)

    def backward(ctx, g):  # d x^p = p x^(p-1); PyTorch gives 0 for p == 0, even at NaN and inf
        (a,) = ctx.saved
        p = ctx.exponent
        if p == 0:
            return array_module(g).zeros_like(g)
        if p == 2:
            return g * (2 * a)
        return g * (p * _power(a, p - 1))


def integer_power(a, b):
    """PyTorch's a ** b on integers, where NumPy refuses negative exponents: for b < 0 it is
    1 where a == 1, -1 or 1 where a == -1 (b odd or even), and 0 elsewhere (1 / a truncated)."""
    xp = array_module(a)
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** xp.where(negative, 0, b)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b % 2), 0))
    return xp.where(negative, inverse, out).astype(out.dtype, copy=False)


class Pow(Op):
    """a ** b with both operands tensors (integers: ``integer_power``)."""

    def forward(ctx, a, b):
        out = integer_power(a, b) if a.dtype.kind in "iu" else a**b
        ctx.saved = (a, b, out)
        return out

    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = array_module(a)
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:  # b a^(b-1), zero where b == 0 (as PyTorch)
            ga = xp.where(b == 0, 0, g * b * a ** (b - 1))
        if need_b:  # a^b log a, zero where a == 0 and b >= 0 (as PyTorch)
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = xp.where((a == 0) & (b >= 0), 0, g * out * xp.log(a))
        return ga, gb


class Exp(Op):
    def forward(ctx, a):
        out = array_module(a).exp(a)
        ctx.saved = (out,)
        return out

    def backward(ctx, g):  # d e^x = e^x
        (out,) = ctx.saved
        return g * out


class Log(Op):
    def forward(ctx, a):
        ctx.saved = (a,)
        return array_module(a).log(a)

    def backward(ctx, g):  # d log x = 1/x
        (a,) = ctx.saved
        return g / a


class Sqrt(Op):
    def forward(ctx, a):
        out = array_module(a).sqrt(a)
        ctx.saved = (out,)
        return out

    def backward(ctx, g):  # d sqrt(x) = 1 / (2 sqrt(x))
        (out,) = ctx.saved
        return g / (2 * out)


def _pointwise(f, df):
    """``forward`` and ``backward`` of an elementwise op y = f(x) whose derivative is a function
    of x: forward saves x, backward returns g f'(x). ``f`` and ``df`` take ``(xp, x)``, ``xp``
    being the array module that owns x (NumPy, or CuPy on a GPU)."""

    def forward(ctx, a):
        ctx.saved = (a,)
        return f(array_module(a), a)

    def backward(ctx, g):
        (a,) = ctx.saved
        return g * df(array_module(a), a)

    return forward, backward


def sign_array(x):
    """-1, 0 or 1 by the sign of x, as PyTorch's sign: 0 at NaN (NumPy's sign is NaN there, but
    PyTorch computes (0 < x) - (x < 0), and so does ONNX's Sign), and +0 at -0.0."""
    xp = array_module(x)
    sign = xp.sign(x)
    return xp.where(xp.isnan(x), 0, sign) if x.dtype.kind == "f" else sign


class Abs(Op):  # d|x| = sign(x): 0 at 0 and, as PyTorch's sgn, at NaN
    forward, backward = _pointwise(lambda xp, x: xp.abs(x), lambda xp, x: sign_array(x))


class Sin(Op):  # d sin x = cos x
    forward, backward = _pointwise(lambda xp, x: xp.sin(x), lambda xp, x: xp.cos(x))


class Cos(Op):  # d cos x = -sin x
    forward, backward = _pointwise(lambda xp, x: xp.cos(x), lambda xp, x: -xp.sin(x))


class Sinh(Op):  # d sinh x = cosh x
    forward, backward = _pointwise(lambda xp, x: xp.sinh(x), lambda xp, x: xp.cosh(x))


class Cosh(Op):  # d cosh x = sinh x
    forward, backward = _pointwise(lambda xp, x: xp.cosh(x), lambda xp, x: xp.sinh(x))


class Erf(Op):  # d erf(x) = 2/sqrt(pi) exp(-x^2)
    forward, backward = _pointwise(
        lambda xp, x: erf(x), lambda xp, x: 1.1283791670955126 * xp.exp(-x * x)
    )


class Tanh(Op):
    def forward(ctx, a):
        out = array_module(a).tanh(a)
        ctx.saved = (out,)
        return out

    def backward(ctx, g):  # d tanh = 1 - tanh^2
        (out,) = ctx.saved
        return g * (1 - out * out)


def sigmoid_array(a):
    """Logistic function that never overflows: exp is only taken of non-positive numbers."""
    xp = array_module(a)
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Op):
    def forward(ctx, a):
        out = sigmoid_array(a)
        ctx.saved = (out,)
        return out

    def backward(ctx, g):  # d sigma = sigma (1 - sigma)
        (out,) = ctx.saved
        return g * (out * (1 - out))


class ReLU(Op):
    """y = 0 where x < 0, else x; dx = 0 where y <= 0, else g.

    PyTorch's special values, bit for bit: relu(NaN) = NaN and relu(-0.0) = -0.0 (so
    ``maximum(0, x)``, zero first: NumPy's ``maximum(x, 0)`` gives +0.0), and the backward is
    ``threshold_backward``, a choice rather than a product: a NaN output passes its gradient
    and an infinite gradient at a zero output gives 0, not NaN. Large float32 arrays go
    through the one-pass kernels (``kernels.relu_forward``), which compute the same."""

    def forward(ctx, a, inplace=False, rectified=False):
        if rectified:  # a's op already wrote relu into it (``Linear`` with relu=True): record
            out = a
        elif inplace:  # a is the caller's own new array, nothing else reads it (relu_inplace)
            relu_inplace(a)
            out = a
        else:
            out = kernels.relu_forward(a)
            if out is None:
                out = array_module(a).maximum(0, a)
        ctx.saved = (out,)
        return out

    def backward(ctx, g):  # the gradient passes where the output is not <= 0
        (out,) = ctx.saved
        if type(g) is not np.ndarray:  # on a GPU: its backend's one fused kernel
            return backend_of(g).relu_backward(g, out)
        dx = kernels.relu_backward(g, out)
        return _zero_where(out <= 0, g) if dx is None else dx


def relu_inplace(a) -> None:
    """ReLU's forward written into ``a`` itself: the same values as ``ReLU.forward``, without
    a second array. Large float32 arrays by the kernel. For arrays nothing else reads: in
    inference, and in a graph (``ReLU.apply(x, inplace=True)``) only on a new array whose op's
    backward does not need it, such as a Linear's output."""
    if not kernels.relu_forward_inplace(a):
        array_module(a).maximum(0, a, out=a)


def _zero_where(blocked, g):
    """``np.where(blocked, 0, g)`` bit for bit, without ``where``'s branch on every element.

    On a ReLU's mask, about half set at random, that branch mispredicts so often that the
    course MLP's 128 x 512 backward took 230 us; clearing g's bits with an integer mask (0
    where blocked, all ones elsewhere) takes about 19 us."""
    if g.dtype.kind != "f" or g.shape != blocked.shape:
        return np.where(blocked, 0, g)
    bits = np.dtype(f"i{g.dtype.itemsize}")
    mask = blocked.astype(bits)
    mask -= 1  # blocked: 0, passed: -1 (all bits set)
    mask &= g.view(bits)
    return mask.view(g.dtype)


class Clamp(Op):
    def forward(ctx, a, min=None, max=None):
        ctx.saved = (a,)
        ctx.bounds = (min, max)
        return array_module(a).clip(a, min, max)

    def backward(ctx, g):  # passes where min <= x <= max (inclusive, as PyTorch)
        (a,) = ctx.saved
        lo, hi = ctx.bounds
        mask = True
        if lo is not None:
            mask = a >= lo
        if hi is not None:
            mask = mask & (a <= hi)
        return g * mask


def _gates(ctx, g, a, b, a_loses, b_loses):
    """maximum/minimum's input gradients: g, halved where the inputs tie, 0 where an input
    loses. PyTorch's formula, where(a == b, g / 2, g).masked_fill_(loses, 0): where a NaN meets
    anything, nothing compares true, so neither input loses and both get the whole g."""
    xp = array_module(g)
    share = xp.where(a == b, g / 2, g)
    need_a, need_b = ctx.needs_input_grad
    return (xp.where(a_loses, 0, share) if need_a else None), (
        xp.where(b_loses, 0, share) if need_b else None
    )


class Maximum(Op):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return array_module(a).maximum(a, b)

    def backward(ctx, g):  # the max gate routes the gradient to the larger input; ties split
        a, b = ctx.saved
        return _gates(ctx, g, a, b, a < b, b < a)


class Minimum(Op):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return array_module(a).minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved
        return _gates(ctx, g, a, b, a > b, b > a)


class Where(Op):
    def forward(ctx, cond, a, b):
        ctx.saved = (cond,)
        return array_module(a).where(cond, a, b)

    def backward(ctx, g):
        (cond,) = ctx.saved
        _, need_a, need_b = ctx.needs_input_grad
        return None, (g * cond if need_a else None), (g * ~cond if need_b else None)


class Cast(Op):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(ctx, a, dtype):
        ctx.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(ctx, g):
        return g.astype(ctx.in_dtype)
