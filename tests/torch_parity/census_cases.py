"""Sample programs for the API census: one small program per census name, run with torch and
with deepgrad by test_census.py.

Each program takes the library as ``t`` (``torch`` or ``deepgrad``) and returns plain results:
tensors, numbers, shapes, dtypes, or tuples and dicts of them. Inputs come from NumPy with fixed
seeds, so both libraries see the same numbers. Where a name is differentiable the program also
returns the gradients of a weighted sum of its output. Where a name draws random numbers the
program returns properties both libraries must share (shape, dtype, range), since the two random
generators differ. Programs pass the keyword arguments the census found for the name, with the
spellings it found (``axis=``, ``keepdims=``, ``size=``...).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile

import numpy as np

CASES: dict = {}


def case(*names):
    """Register a sample program for one or more census names."""

    def register(fn):
        for name in names:
            assert name not in CASES, f"two cases for {name}"
            CASES[name] = fn
        return fn

    return register


def arr(*shape, seed=0, lo=-1.0, hi=1.0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def leaf(t, *shape, seed=0, lo=-1.0, hi=1.0):
    return t.tensor(arr(*shape, seed=seed, lo=lo, hi=hi), requires_grad=True)


def grads(out, *leaves):
    """``out`` and the gradients of sum(w * out) for fixed weights w with respect to ``leaves``."""
    if not out.requires_grad:
        return out
    t = sys.modules[type(out).__module__.split(".")[0]]  # torch or deepgrad
    (out * t.tensor(arr(*out.shape, seed=99), dtype=out.dtype)).sum().backward()
    return (out.detach(), tuple(leaf.grad for leaf in leaves))


def fill(t, module, seed=1):
    """Give a module's parameters the same fixed values in both libraries."""
    with t.no_grad():
        for i, (_, p) in enumerate(sorted(module.named_parameters(), key=lambda kv: kv[0])):
            p.copy_(t.tensor(arr(*p.shape, seed=seed + i, lo=-0.5, hi=0.5)))
    return module


def layer(t, module, *shape, seed=0, lo=-1.0, hi=1.0):
    """Run a layer with fixed parameters on a fixed input: output, input and parameter grads."""
    fill(t, module)
    x = leaf(t, *shape, seed=seed, lo=lo, hi=hi)
    out = module(x)
    params = [p for _, p in sorted(module.named_parameters(), key=lambda kv: kv[0])]
    return grads(out, x, *params)


def unary(fn, lo=-1.0, hi=1.0):
    def program(t):
        x = leaf(t, 2, 3, lo=lo, hi=hi)
        return grads(fn(t, x), x)

    return program


# ---- tensors: creation ---------------------------------------------------------------------


@case("torch.tensor")
def _(t):
    a = t.tensor([[1, 2], [3, 4]])
    b = t.tensor([1.5, 2.5], dtype=t.float64, requires_grad=True, device="cpu")
    return a, b.detach(), b.requires_grad, t.tensor(3.0), t.tensor([True, False])


@case("torch.Tensor")
def _(t):
    x = t.Tensor([[1, 2], [3, 4]])
    return x, isinstance(x, t.Tensor), isinstance(t.ones(2), t.Tensor)


@case("torch.FloatTensor", "torch.LongTensor")
def _(t):
    return t.FloatTensor([1, 2]), t.LongTensor([3, 4]), t.FloatTensor(2, 3).shape


@case("torch.from_numpy")
def _(t):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = t.from_numpy(a)
    a[0, 0] = 10.0  # shares memory
    return x, t.from_numpy(np.arange(3))


@case("torch.zeros", "torch.ones", "torch.empty")
def _(t):
    z = t.zeros(2, 3, requires_grad=True)
    o = t.ones(size=(2,), dtype=t.int64, device="cpu")
    e = t.empty(2, 3)
    return (
        z.detach(),
        z.requires_grad,
        t.zeros(size=(1, 2)),
        o,
        t.ones(3, requires_grad=True).detach(),
        e.shape,
        e.dtype,
    )


@case("torch.zeros_like", "torch.ones_like", "torch.empty_like", "torch.full")
def _(t):
    x = t.tensor(arr(2, 3))
    full = t.full((2, 2), 7, dtype=t.float32, device="cpu", requires_grad=True)
    return (
        t.zeros_like(input=x),
        t.ones_like(x),
        t.empty_like(x).shape,
        full.detach(),
        full.requires_grad,
        t.full((2,), 3),
    )


@case("torch.arange", "torch.range")
def _(t):
    return (
        t.arange(5),
        t.arange(1, 4, 0.5),
        t.arange(start=0, end=3, step=1, dtype=t.float32),
        t.arange(4, dtype=t.float32, requires_grad=True).detach(),
        t.range(1, 4),
    )


@case("torch.linspace")
def _(t):
    x = t.linspace(-1, 1, steps=5, dtype=t.float64, device="cpu", requires_grad=True)
    return x.detach(), x.requires_grad, t.linspace(0, 1, 4)


@case("torch.eye")
def _(t):
    return t.eye(3), t.eye(2, 3), t.eye(2, requires_grad=True).requires_grad


@case("torch.rand")
def _(t):
    out = t.empty(2, 2)
    r = t.rand(size=(3, 4), device="cpu", requires_grad=True, dtype=t.float64)
    t.rand(2, 2, out=out)
    in_range = bool(((r >= 0) & (r < 1)).all()) and bool(((out >= 0) & (out < 1)).all())
    return r.shape, r.dtype, r.requires_grad, in_range, t.rand(3).dtype


@case("torch.randn", "torch.rand_like", "torch.randn_like", "torch.normal")
def _(t):
    n = t.randn(size=(), requires_grad=True, dtype=t.float32, device="cpu")
    rl = t.rand_like(t.ones(2, 3), dtype=t.float64)
    nl = t.randn_like(t.ones(2, 3))
    m = t.normal(0, 0.01, size=(3, 2), requires_grad=True)
    m2 = t.normal(mean=t.zeros(4), std=t.ones(4))
    return (
        n.shape,
        n.requires_grad,
        rl.dtype,
        rl.shape,
        nl.shape,
        nl.dtype,
        m.shape,
        m.requires_grad,
        bool(m.abs().max() < 0.1),
        m2.shape,
        t.randn(2, 3).dtype,
    )


@case("torch.randperm")
def _(t):
    p = t.randperm(10)
    return p.dtype, p.sort()[0]


@case("torch.manual_seed", "torch.random.manual_seed")
def _(t):
    t.manual_seed(seed=3)
    a = t.rand(4)
    t.random.manual_seed(3)
    b = t.rand(4)
    return bool((a == b).all())


@case("torch.cuda.manual_seed", "torch.cuda.manual_seed_all")
def _(t):
    t.cuda.manual_seed(0)
    t.cuda.manual_seed_all(0)
    return t.cuda.is_available()


# ---- dtypes ----------------------------------------------------------------------------------


@case(
    "torch.float",
    "torch.float32",
    "torch.float64",
    "torch.float16",
    "torch.long",
    "torch.int64",
    "torch.int32",
    "torch.int16",
    "torch.int8",
)
def _(t):
    names = [t.float, t.float32, t.float64, t.float16, t.long, t.int64, t.int32, t.int16, t.int8]
    return tuple((d, t.ones(2, dtype=d)) for d in names)


@case("Tensor.type")
def _(t):
    x = t.tensor([1.7, -2.2])
    names = x.type(), t.tensor([1]).type(), x.double().type(), t.tensor([True]).type()
    # the module prefix names the library ("torch.FloatTensor" / "deepgrad.FloatTensor")
    return tuple(n.split(".", 1)[1] for n in names), x.type(t.int32), x.type(t.float64)


@case("Tensor.float", "Tensor.double", "Tensor.long", "Tensor.int", "Tensor.byte")
def _(t):
    x = t.tensor([1.7, -2.2, 3.0])
    return x.double(), x.long(), x.int(), x.abs().byte(), t.tensor([1, 2]).float()


@case("Tensor.to")
def _(t):
    x = leaf(t, 2, 2)
    y = x.to(device="cpu", dtype=t.float64)
    return grads(y * 2, x), x.to("cpu").dtype, x.to(t.int64).detach(), t.ones(2).to(x).dtype


@case("Tensor.dtype", "Tensor.shape", "Tensor.ndim", "Tensor.dim")
def _(t):
    x = t.ones(2, 3, 4)
    return x.dtype, x.shape, x.ndim, x.dim(), x.shape[1]


@case("Tensor.size", "Tensor.numel", "Tensor.nelement")
def _(t):
    x = t.ones(2, 3, 4)
    return x.size(), x.size(1), x.size(-1), x.numel(), x.nelement()


# ---- tensors: conversion and values ----------------------------------------------------------


@case("Tensor.item", "Tensor.tolist", "Tensor.numpy")
def _(t):
    x = t.tensor([[1.5, 2.0], [3.0, 4.0]])
    return x[0, 0].item(), x.sum().item(), x.tolist(), x.numpy(), t.tensor([3]).item()


@case("Tensor.data", "Tensor.detach", "Tensor.clone")
def _(t):
    x = leaf(t, 3)
    d = x.data
    d2 = x.detach()
    c = x.clone()
    out = grads(c * 3, x)
    return out, d.requires_grad, d2.requires_grad, d, x.data.shape


@case("Tensor.requires_grad", "Tensor.requires_grad_", "Tensor.grad", "Tensor.grad_fn")
def _(t):
    x = t.ones(2)
    before = x.requires_grad
    x.requires_grad_()
    y = (x * 3).sum()
    leaf_fn = x.grad_fn is None
    y.backward()
    return before, x.requires_grad, x.grad, leaf_fn, y.grad_fn is not None, y.requires_grad


@case("Tensor.backward")
def _(t):
    x = leaf(t, 3)
    y = x * x
    y.backward(gradient=t.ones(3), retain_graph=True)
    y.sum().backward()
    z = (x**3).sum()
    z.backward()
    return x.grad


@case("torch.autograd.Variable")
def _(t):
    v = t.autograd.Variable(t.tensor([1.0, 2.0]), requires_grad=True)
    (v * v).sum().backward()
    return v.grad


@case("torch.is_tensor")
def _(t):
    return t.is_tensor(t.ones(1)), t.is_tensor([1.0])


@case("torch.isclose")
def _(t):
    a = t.tensor([1.0, 2.0, 3.0])
    return t.isclose(a, a + 1e-6), t.isclose(a, a + 0.1, atol=0.2, rtol=0.0)


# ---- tensors: shape --------------------------------------------------------------------------


@case("Tensor.view", "Tensor.view_as", "Tensor.reshape")
def _(t):
    x = leaf(t, 2, 6)
    y = x.view(3, 4).view(-1, 2)
    z = x.reshape(4, 3).view_as(t.ones(6, 2))
    return grads(y * 2 + z, x)


@case("Tensor.unsqueeze", "Tensor.squeeze", "torch.unsqueeze")
def _(t):
    x = leaf(t, 3, 1)
    y = x.unsqueeze(dim=0).unsqueeze(2).squeeze()
    return grads(t.unsqueeze(y, dim=1) * 2, x), x.squeeze(1).shape, x.unsqueeze(-1).shape


@case("Tensor.squeeze_", "Tensor.unsqueeze_", "Tensor.resize_")
def _(t):
    x = t.tensor(arr(2, 1, 3))
    x.squeeze_()
    s1 = x.shape
    x.unsqueeze_(0)
    y = t.tensor(arr(2, 6))
    y.resize_(3, 4)
    return s1, x.shape, y


@case("Tensor.transpose", "Tensor.permute", "Tensor.t", "Tensor.T")
def _(t):
    x = leaf(t, 2, 3, 4)
    m = leaf(t, 2, 3, seed=1)
    y = x.transpose(0, 1).permute(2, 0, 1)
    return grads(y.sum(1) + m.t().T.sum() + m.T.sum(), x, m)


@case("torch.flatten", "torch.nn.Flatten")
def _(t):
    x = leaf(t, 2, 3, 4)
    return grads(t.flatten(x) * 1 + t.nn.Flatten()(x).reshape(-1) + x.flatten(1).reshape(-1), x)


@case("torch.cat", "torch.stack")
def _(t):
    a, b = leaf(t, 2, 3), leaf(t, 2, 3, seed=1)
    c = t.cat([a, b], dim=1)
    s = t.stack((a, b), dim=1)
    mixed = t.cat([t.ones(2), t.tensor([1, 2])])
    return grads(c.sum(1) + s.sum((1, 2)) + t.stack([a, b]).sum((0, 2)), a, b), mixed


@case("Tensor.gather", "Tensor.scatter_")
def _(t):
    x = leaf(t, 3, 4)
    idx = t.tensor([[0, 2], [1, 1], [3, 0]])
    g = x.gather(1, idx)
    s = t.zeros(3, 4).scatter_(dim=1, index=idx, value=1.0)
    s2 = t.zeros(3, 4).scatter_(1, idx, t.ones(3, 2) * 5)
    return grads(g, x), s, s2


# ---- tensors: math ---------------------------------------------------------------------------

for _name, _fn, _lo, _hi in [
    ("torch.exp", lambda t, x: t.exp(x), -1, 1),
    ("torch.sin", lambda t, x: t.sin(x), -1, 1),
    ("torch.sigmoid", lambda t, x: t.sigmoid(x), -2, 2),
    ("torch.sqrt", lambda t, x: t.sqrt(x), 0.5, 2),
    ("torch.tanh", lambda t, x: t.tanh(x), -2, 2),
    ("torch.abs", lambda t, x: t.abs(x), -1, 1),
    ("torch.asin", lambda t, x: t.asin(x), -0.9, 0.9),
    ("torch.relu", lambda t, x: t.relu(x), -1, 1),
    ("torch.square", lambda t, x: t.square(x), -1, 1),
    ("torch.sign", lambda t, x: t.sign(x) * x, -1, 1),
    ("torch.round", lambda t, x: t.round(x * 3), -1, 1),
    ("torch.ceil", lambda t, x: t.ceil(x * 3), -1, 1),
    ("torch.floor", lambda t, x: t.floor(x * 3), -1, 1),
    ("torch.pow", lambda t, x: t.pow(x, 3) + t.pow(2.0, x), -1, 1),
    ("Tensor.exp", lambda t, x: x.exp(), -1, 1),
    ("Tensor.abs", lambda t, x: x.abs(), -1, 1),
    ("Tensor.log", lambda t, x: x.log(), 0.5, 2),
    ("Tensor.relu", lambda t, x: x.relu(), -1, 1),
    ("Tensor.sign", lambda t, x: x.sign(), -1, 1),
    ("Tensor.pow", lambda t, x: x.pow(2) + x**3, -1, 1),
    ("Tensor.clip", lambda t, x: x.clip(-0.5, 0.5) + x.clip(min=0), -1, 1),
    ("torch.clamp", lambda t, x: t.clamp(x, min=-0.3, max=0.4) + t.clamp(x, 0), -1, 1),
]:
    case(_name)(unary(_fn, _lo, _hi))


@case("Tensor.ravel", "torch.reshape", "Tensor.repeat", "torch.clone")
def _(t):
    x = leaf(t, 2, 3)
    y = x.ravel() * 2 + t.reshape(x, (6,)) + t.clone(x).ravel()
    return grads(y, x), grads(x.repeat(2, 1) + 0, x)


@case("Tensor.sqrt", "Tensor.clamp", "torch.log1p", "Tensor.var")
def _(t):
    x = leaf(t, 3, 4, lo=0.1, hi=2.0)
    y = x.sqrt() + x.clamp(min=0.5, max=1.5) + t.log1p(x) + x.var(dim=0) + x.var()
    return grads(y, x)


@case("Tensor.ge", "Tensor.type_as", "Tensor.short")
def _(t):
    x = t.tensor([[1.5, -2.0], [0.0, 3.0]])
    return x.ge(0), x.ge(t.ones(2, 2)), x.type_as(t.tensor([1, 2])), x.short()


@case("Tensor.new_tensor", "Tensor.new_empty")
def _(t):
    x = t.ones(2, dtype=t.float64)
    e = x.new_empty((2, 3))
    return x.new_tensor([1, 2]), x.new_tensor([1.5], dtype=t.float32), e.shape, e.dtype


@case("torch.randint")
def _(t):
    r = t.randint(0, 5, size=(200,))
    r2 = t.randint(3, (2, 2))
    return r.dtype, r.shape, bool(((r >= 0) & (r < 5)).all()), r2.shape, bool((r2 < 3).all())


@case("torch.sin_", "Tensor.exp_", "Tensor.clamp_")
def _(t):
    x = t.tensor(arr(3))
    t.sin_(x)
    y = t.tensor(arr(3, seed=1))
    y.exp_()
    z = t.tensor(arr(3, seed=2))
    z.clamp_(min=0)
    return x, y, z


@case("torch.mul", "torch.multiply", "Tensor.mul", "Tensor.eq", "torch.eq", "torch.maximum")
def _(t):
    a, b = leaf(t, 2, 3), leaf(t, 2, 3, seed=1)
    out = t.empty(2, 3)
    t.mul(a.detach(), b.detach(), out=out)
    y = t.mul(a, b) + t.multiply(a, 2) + a.mul(b) + t.maximum(a, b)
    return grads(y, a, b), out, a.eq(a), t.eq(a, b), (a > 0).eq(b > 0)


@case("torch.bitwise_xor")
def _(t):
    return t.bitwise_xor(t.tensor([1, 2, 3]), t.tensor([3, 3, 3])), t.bitwise_xor(
        t.tensor([True, False]), t.tensor([True, True])
    )


@case(
    "Tensor.add_",
    "Tensor.sub_",
    "Tensor.mul_",
    "Tensor.div_",
    "Tensor.zero_",
    "Tensor.fill_",
    "Tensor.copy_",
    "Tensor.addcmul_",
    "Tensor.addcdiv_",
)
def _(t):
    x = t.tensor(arr(2, 3))
    x.add_(1).sub_(t.ones(2, 3) * 0.5).mul_(2).div_(3)
    x.add_(t.ones(2, 3), alpha=2)
    y = t.zeros(2).fill_(4.0)
    z = t.ones(3)
    z.zero_()
    c = t.empty(2, 3)
    c.copy_(x)
    a = t.ones(3)
    a.addcmul_(t.tensor([1.0, 2, 3]), t.tensor([2.0, 2, 2]), value=0.5)
    a.addcdiv_(t.tensor([1.0, 2, 3]), t.tensor([2.0, 4, 8]), value=-1)
    return x, y, z, c, a


@case("torch.mm", "torch.matmul", "Tensor.mm", "Tensor.matmul", "torch.linalg.matmul")
def _(t):
    a, b = leaf(t, 2, 3), leaf(t, 3, 4, seed=1)
    v = leaf(t, 3, seed=2)
    out = t.empty(2, 4)
    t.matmul(a.detach(), b.detach(), out=out)
    y = t.mm(a, b) + t.matmul(a, b) + a.mm(b) + a.matmul(b) + t.linalg.matmul(a, b)
    return grads(y, a, b), grads(t.matmul(a, v), v), out


@case("torch.mv", "torch.dot", "Tensor.bmm")
def _(t):
    m, v, w = leaf(t, 2, 3), leaf(t, 3, seed=1), leaf(t, 3, seed=2)
    a, b = leaf(t, 2, 2, 3, seed=3), leaf(t, 2, 3, 2, seed=4)
    return grads(t.mv(m, v) * t.dot(v, w), m, v, w), grads(a.bmm(b), a, b)


@case("torch.linalg.cross")
def _(t):
    a, b = leaf(t, 2, 3), leaf(t, 2, 3, seed=1)
    return grads(t.linalg.cross(a, b), a, b)


@case("torch.det")
def _(t):
    a = leaf(t, 3, 3)
    return grads(t.det(a).reshape(1), a)


@case("torch.cdist")
def _(t):
    a, b = leaf(t, 4, 3), leaf(t, 2, 3, seed=1)
    return grads(t.cdist(a, b), a, b)


# ---- reductions ------------------------------------------------------------------------------


@case("Tensor.sum", "torch.sum")
def _(t):
    x = leaf(t, 2, 3)
    y = x.sum(dim=1) + x.sum(axis=1) + x.sum(1, keepdims=True).squeeze(1) + t.sum(x, 1) + t.sum(x)
    return grads(y, x), t.tensor([[1, 2], [3, 4]]).sum(0)


@case("Tensor.mean", "torch.mean")
def _(t):
    x = leaf(t, 2, 3)
    y = x.mean(dim=1) + x.mean(axis=1) + x.mean(1, keepdim=True).squeeze(1) + t.mean(x, 1)
    return grads(y + x.mean(), x)


@case("Tensor.std", "torch.std", "torch.std_mean")
def _(t):
    x = leaf(t, 3, 4)
    s, m = t.std_mean(x, dim=0)
    return grads(x.std(axis=0) + t.std(x, 0) + x.std() + s + m, x)


@case("torch.prod")
def _(t):
    x = leaf(t, 2, 3, lo=0.5, hi=1.5)
    return grads(t.prod(x, 1) + t.prod(x), x)


@case("Tensor.cumsum")
def _(t):
    x = leaf(t, 2, 3)
    return grads(x.cumsum(dim=1) + x.cumsum(axis=0), x)


@case("Tensor.norm", "torch.norm")
def _(t):
    x = leaf(t, 2, 3)
    y = x.norm(dim=1) + x.norm(p=1, dim=1, keepdim=True).squeeze(1) + t.norm(x)
    return grads(y, x)


@case("torch.max", "Tensor.max", "torch.min", "Tensor.min")
def _(t):
    x = leaf(t, 3, 4)
    vals, idx = t.max(x, 1)
    mvals, midx = x.min(dim=0)
    kv = x.max(1, keepdim=True)
    y = vals + t.max(x) + x.max() + t.min(x, 1)[0] + x.min() + kv.values.squeeze(1)
    return grads(y, x), idx, midx, t.max(x, t.zeros(3, 4)).detach(), kv.indices


@case("torch.argmax", "Tensor.argmax", "torch.argmin", "Tensor.argmin")
def _(t):
    x = t.tensor(arr(3, 4))
    return (
        t.argmax(x, dim=1),
        x.argmax(dim=1),
        x.argmax(1, keepdim=True),
        x.argmax(),
        t.argmin(x),
        x.argmin(0),
    )


@case("Tensor.topk", "torch.topk")
def _(t):
    x = leaf(t, 3, 5)
    v, i = x.topk(2, dim=1)
    v2, i2 = t.topk(x, 3)
    return grads(v, x), i, i2, v2.detach()


@case("torch.unique")
def _(t):
    x = t.tensor([3, 1, 2, 3, 1])
    u, inv = t.unique(x, return_inverse=True)
    u2, counts = t.unique(x, return_counts=True)
    return t.unique(x), u, inv, counts, t.unique(t.tensor([2.0, 1.0, 2.0]))


@case("torch.histc")
def _(t):
    return t.histc(t.tensor([1.0, 2.0, 1.0, 4.0, 2.5]), bins=4, min=0, max=4)


@case("torch.where")
def _(t):
    x, y = leaf(t, 2, 3), leaf(t, 2, 3, seed=1)
    return grads(t.where(x > 0, x, y), x, y), t.where(x > 0, 1.0, 0.0), t.where(x > 0)


# ---- no-grad and grad mode -------------------------------------------------------------------


@case("torch.no_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.is_grad_enabled")
def _(t):
    x = leaf(t, 2)
    with t.no_grad():
        a = x * 2
        inside = t.is_grad_enabled()
    with t.inference_mode():
        b = x * 2
    with t.set_grad_enabled(False):
        c = x * 2
    t.set_grad_enabled(True)

    @t.no_grad()
    def f(v):
        return v * 2

    return (
        a.requires_grad,
        b.requires_grad,
        c.requires_grad,
        f(x).requires_grad,
        inside,
        t.is_grad_enabled(),
    )


@case("torch.autograd.Function")
def _(t):
    class Cube(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    x = leaf(t, 3)
    return grads(Cube.apply(x), x)


@case("torch.autograd.functional.jacobian", "torch.autograd.functional.vjp")
def _(t):
    def f(x):
        return x**2 * 3

    x = t.tensor(arr(3))
    out, vjp = t.autograd.functional.vjp(f, x, v=t.ones(3))
    return t.autograd.functional.jacobian(f, x), out, vjp


# ---- device and accelerator queries ----------------------------------------------------------


@case("torch.cuda.is_available", "torch.cuda.device_count")
def _(t):
    return t.cuda.is_available(), t.cuda.device_count()


@case(
    "torch.backends.mps.is_available",
    "torch.accelerator.is_available",
    "torch.accelerator.current_accelerator",
)
def _(t):
    acc = t.accelerator.current_accelerator()
    return (
        t.backends.mps.is_available(),
        t.accelerator.is_available(),
        acc.type if acc is not None else None,
    )


@case("torch.device", "Tensor.cpu", "Tensor.device")
def _(t):
    d = t.device("cuda" if t.cuda.is_available() else "cpu")
    x = t.ones(2, device=d)
    return d, d.type, x.device, x.cpu().device, t.device("cpu") == x.device


@case("Tensor.cuda")
def _(t):
    try:
        t.ones(2).cuda()
    except Exception:
        return "no GPU"
    return "moved"


@case("torch.set_default_device")
def _(t):
    t.set_default_device("cpu")
    return t.ones(2).device


@case("torch.backends.cudnn.benchmark")
def _(t):
    t.backends.cudnn.benchmark = True
    value = t.backends.cudnn.benchmark
    t.backends.cudnn.benchmark = False
    return value


@case("torch.compile")
def _(t):
    model = fill(t, t.nn.Linear(3, 2))
    compiled = t.compile(model)
    # torch wraps the model (and would spend seconds compiling on the first call); the wrapped
    # module is the model itself, which is what deepgrad returns
    module = getattr(compiled, "_orig_mod", compiled)
    return module(t.tensor(arr(4, 3))), module is model


# ---- modules and containers ------------------------------------------------------------------


@case("torch.nn.Module", "torch.nn", "torch.nn.ModuleList")
def _(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 2)])

        def forward(self, x):
            for block in self.blocks:
                x = t.tanh(block(x))
            return x

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    return layer(t, net, 5, 3), names, len(list(net.parameters())), len(net.blocks)


@case("torch.nn.Sequential", "torch.nn.Identity")
def _(t):
    nn = t.nn
    net = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.ReLU(), nn.Linear(4, 2))
    return layer(t, net, 5, 3), len(net), net[0].weight.shape


@case("torch.nn.Linear")
def _(t):
    return (
        layer(t, t.nn.Linear(in_features=3, out_features=2, bias=True), 4, 3),
        layer(t, t.nn.Linear(3, 2, bias=False), 4, 3),
    )


@case("torch.nn.Parameter")
def _(t):
    p = t.nn.Parameter(t.tensor(arr(2)))
    q = t.nn.Parameter(data=t.ones(2), requires_grad=False)
    return p.requires_grad, q.requires_grad, isinstance(p, t.Tensor), p.detach()


@case("torch.nn.LazyLinear")
def _(t):
    lin = t.nn.LazyLinear(out_features=2)
    # d2l makes the optimiser before the first batch: it must see the filled-in parameters
    opt = t.optim.SGD(lin.parameters(), lr=0.5)
    lin(t.ones(1, 3))
    out = layer(t, lin, 4, 3)
    opt.step()
    return out, lin.in_features, type(lin).__name__, lin.weight.detach(), lin.bias.detach()


@case("torch.nn.LazyConv2d")
def _(t):
    conv = t.nn.LazyConv2d(3, kernel_size=3, padding=1, stride=2, bias=True)
    conv(t.ones(1, 2, 5, 5))
    grouped = t.nn.LazyConv2d(4, kernel_size=3, groups=2)
    grouped(t.ones(1, 2, 5, 5))
    return layer(t, conv, 1, 2, 5, 5), conv.weight.shape, grouped.weight.shape


@case("torch.nn.LazyBatchNorm2d", "torch.nn.LazyBatchNorm1d")
def _(t):
    bn2, bn1 = t.nn.LazyBatchNorm2d(), t.nn.LazyBatchNorm1d()
    bn2(t.ones(2, 3, 2, 2))
    bn1(t.ones(2, 4))
    return layer(t, bn2, 2, 3, 2, 2), layer(t, bn1, 4, 4), bn2.running_mean, bn1.num_features


@case(
    "torch.nn.modules.activation.ReLU",
    "torch.nn.modules.conv.Conv2d",
    "torch.nn.modules.pixelshuffle.PixelShuffle",
)
def _(t):
    m = t.nn.modules
    return (
        m.activation.ReLU is t.nn.ReLU,
        m.conv.Conv2d is t.nn.Conv2d,
        m.pixelshuffle.PixelShuffle is t.nn.PixelShuffle,
    )


# ---- layers ----------------------------------------------------------------------------------


@case("torch.nn.ReLU", "torch.nn.Sigmoid", "torch.nn.Tanh")
def _(t):
    nn = t.nn
    return tuple(layer(t, m, 2, 3) for m in (nn.ReLU(inplace=False), nn.Sigmoid(), nn.Tanh()))


@case("torch.nn.Softmax", "torch.nn.LogSoftmax")
def _(t):
    return layer(t, t.nn.Softmax(dim=1), 2, 3), layer(t, t.nn.LogSoftmax(dim=1), 2, 3)


@case("torch.nn.Conv2d")
def _(t):
    c = t.nn.Conv2d(
        in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1, bias=False, device="cpu"
    )
    return layer(t, c, 1, 2, 5, 5), layer(t, t.nn.Conv2d(2, 2, 2), 1, 2, 3, 3)


@case("torch.nn.Conv1d")
def _(t):
    c = t.nn.Conv1d(in_channels=2, out_channels=3, kernel_size=3)
    return layer(t, c, 2, 2, 6)


@case("torch.nn.ConvTranspose2d")
def _(t):
    c = t.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
    c2 = t.nn.ConvTranspose2d(2, 1, 2, stride=2, bias=False)
    return layer(t, c, 1, 2, 3, 3), layer(t, c2, 2, 2, 2, 2)


@case("torch.nn.MaxPool2d", "torch.nn.AvgPool2d", "torch.nn.AdaptiveAvgPool2d")
def _(t):
    nn = t.nn
    return (
        layer(t, nn.MaxPool2d(kernel_size=2, stride=2), 1, 2, 4, 4),
        layer(t, nn.MaxPool2d(3, stride=1, padding=1), 1, 1, 4, 4),
        layer(t, nn.AvgPool2d(kernel_size=2, stride=2), 1, 2, 4, 4),
        layer(t, nn.AdaptiveAvgPool2d((1, 1)), 2, 2, 3, 3),
        layer(t, nn.AdaptiveAvgPool2d(1), 1, 2, 4, 4),
    )


@case(
    "torch.nn.functional.max_pool2d",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.avg_pool1d",
)
def _(t):
    F = t.nn.functional
    x = leaf(t, 1, 2, 4, 4)
    s = leaf(t, 1, 2, 6, seed=1)
    y = F.max_pool2d(x, kernel_size=2) + F.max_pool2d(x, 2, 2) + F.avg_pool2d(x, 2)
    return grads(y, x), grads(F.avg_pool1d(s, 2), s)


@case("torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d")
def _(t):
    b1, b2 = t.nn.BatchNorm1d(3), t.nn.BatchNorm2d(2)
    out = layer(t, b1, 4, 3), layer(t, b2, 2, 2, 3, 3)
    b2.eval()
    return out, b1.running_mean, b2.running_var, b2(t.tensor(arr(1, 2, 2, 2)))


@case("torch.nn.InstanceNorm2d")
def _(t):
    return layer(t, t.nn.InstanceNorm2d(2, affine=True), 2, 2, 3, 3), layer(
        t, t.nn.InstanceNorm2d(2), 1, 2, 3, 3
    )


@case("torch.nn.Dropout", "torch.nn.Dropout2d", "torch.nn.functional.dropout")
def _(t):
    x = t.tensor(arr(4, 6, 5, 5, lo=0.5, hi=1.0))
    d, d2 = t.nn.Dropout(p=0.5, inplace=False), t.nn.Dropout2d(0.5)
    y, y2 = d(x), d2(x)
    kept = y != 0
    scaled_ok = bool(((y - x * 2).abs() * kept).max() < 1e-6)
    # Dropout2d drops whole channels: each (sample, channel) plane is all kept or all zero.
    planes = (y2 != 0).float().mean((2, 3))
    whole = bool(((planes == 0) | (planes == 1)).all())
    f = t.nn.functional.dropout(x, p=0.5, training=False)
    d.eval()
    return scaled_ok, whole, bool(kept.any()), bool((~kept).any()), d(x), f


@case("torch.nn.Embedding")
def _(t):
    e = t.nn.Embedding(5, 3)
    fill(t, e)
    idx = t.tensor([[0, 2], [4, 2]])
    out = e(idx)
    (out * t.tensor(arr(2, 2, 3, seed=5))).sum().backward()
    return out.detach(), e.weight.grad


@case("torch.nn.PixelShuffle")
def _(t):
    return layer(t, t.nn.PixelShuffle(2), 1, 8, 2, 3)


@case("torch.nn.ReflectionPad2d")
def _(t):
    return layer(t, t.nn.ReflectionPad2d(2), 1, 2, 3, 4), layer(
        t, t.nn.ReflectionPad2d((1, 0, 2, 1)), 1, 1, 3, 3
    )


@case("torch.nn.functional.interpolate", "torch.nn.functional.upsample")
def _(t):
    F = t.nn.functional
    x = leaf(t, 1, 2, 2, 3)
    return grads(F.interpolate(x, scale_factor=2, mode="nearest"), x), F.upsample(
        x.detach(), scale_factor=2, mode="nearest"
    )


@case("torch.nn.functional.normalize")
def _(t):
    x = leaf(t, 3, 4)
    return grads(t.nn.functional.normalize(x, p=2, dim=1) + t.nn.functional.normalize(x), x)


@case(
    "torch.nn.functional.relu",
    "torch.nn.functional.sigmoid",
    "torch.nn.functional.softmax",
    "torch.nn.functional.log_softmax",
    "torch.softmax",
)
def _(t):
    F = t.nn.functional
    x = leaf(t, 2, 3)
    y = (
        F.relu(x)
        + F.sigmoid(x)
        + F.softmax(x, dim=1)
        + F.log_softmax(x, dim=1)
        + t.softmax(x, dim=0)
    )
    return grads(y, x)


# ---- losses ----------------------------------------------------------------------------------


def _loss(t, fn, target):
    x = leaf(t, 4, 3)
    return grads(fn(x, target).reshape(-1), x)


@case("torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy")
def _(t):
    y = t.tensor([0, 2, 1, 2])
    return (
        _loss(t, t.nn.CrossEntropyLoss(), y),
        _loss(t, lambda a, b: t.nn.functional.cross_entropy(a, b, reduction="sum"), y),
        _loss(t, lambda a, b: t.nn.functional.cross_entropy(a, b, reduction="none"), y),
    )


@case("torch.nn.NLLLoss", "torch.nn.functional.nll_loss")
def _(t):
    y = t.tensor([0, 2, 1, 2])
    return (
        _loss(t, lambda a, b: t.nn.NLLLoss()(a.log_softmax(1), b), y),
        _loss(t, lambda a, b: t.nn.NLLLoss(reduction="sum")(a, b), y),
        _loss(t, t.nn.functional.nll_loss, y),
    )


@case("torch.nn.MSELoss", "torch.nn.L1Loss")
def _(t):
    y = t.tensor(arr(4, 3, seed=7))
    return (
        _loss(t, t.nn.MSELoss(), y),
        _loss(t, t.nn.MSELoss(reduction="sum"), y),
        _loss(t, t.nn.L1Loss(), y),
    )


@case("torch.nn.functional.smooth_l1_loss")
def _(t):
    y = t.tensor(arr(4, 3, seed=7))
    return _loss(t, t.nn.functional.smooth_l1_loss, y * 3)


@case("torch.nn.BCELoss", "torch.nn.functional.binary_cross_entropy")
def _(t):
    y = t.tensor(arr(4, 3, seed=7, lo=0, hi=1))
    F = t.nn.functional
    return (
        _loss(t, lambda a, b: t.nn.BCELoss()(t.sigmoid(a), b), y),
        _loss(t, lambda a, b: F.binary_cross_entropy(t.sigmoid(a), b, reduction="sum"), y),
        _loss(t, lambda a, b: F.binary_cross_entropy(t.sigmoid(a), b, size_average=False), y),
    )


@case("torch.nn.BCEWithLogitsLoss", "torch.nn.functional.binary_cross_entropy_with_logits")
def _(t):
    y = t.tensor(arr(4, 3, seed=7, lo=0, hi=1))
    return (
        _loss(t, t.nn.BCEWithLogitsLoss(), y),
        _loss(t, t.nn.functional.binary_cross_entropy_with_logits, y),
    )


@case("torch.nn.CosineEmbeddingLoss")
def _(t):
    a, b = leaf(t, 4, 3), leaf(t, 4, 3, seed=1)
    y = t.tensor([1, -1, 1, -1])
    loss = t.nn.CosineEmbeddingLoss()(a, b, y)
    loss2 = t.nn.CosineEmbeddingLoss(margin=0.2, reduction="none")(a, b, y)
    return grads(loss.reshape(1) + loss2.sum(), a, b)


# ---- init ------------------------------------------------------------------------------------


@case("torch.nn.init.constant_", "torch.nn.init.zeros_", "torch.nn.init.calculate_gain")
def _(t):
    init = t.nn.init
    w = t.nn.Linear(3, 2).weight
    init.constant_(w, 0.25)
    b = t.ones(3)
    init.zeros_(b)
    return w.detach(), b, init.calculate_gain("relu"), init.calculate_gain("tanh")


@case(
    "torch.nn.init.xavier_uniform_",
    "torch.nn.init.uniform_",
    "torch.nn.init.normal_",
    "torch.nn.init.orthogonal_",
    "Tensor.uniform_",
    "Tensor.normal_",
    "Tensor.random_",
)
def _(t):
    init = t.nn.init
    w = t.empty(20, 30)
    init.xavier_uniform_(w)
    bound = (6 / 50) ** 0.5
    u = init.uniform_(t.empty(50), -0.2, 0.2)
    n = init.normal_(t.empty(2000), mean=1.0, std=0.01)
    o = t.empty(4, 6)
    init.orthogonal_(o)
    eye = (o @ o.T - t.eye(4)).abs().max() < 1e-5
    tu = t.empty(100).uniform_(0, 2)
    tn = t.empty(2000).normal_(std=0.5)
    r = t.empty(100).random_(0, 5)
    return (
        bool(w.abs().max() <= bound),
        bool(u.abs().max() <= 0.2),
        bool((n.mean() - 1).abs() < 0.01),
        bool(eye),
        bool((tu >= 0).all() & (tu < 2).all()),
        bool((tn.std() - 0.5).abs() < 0.1),
        bool(((r >= 0) & (r < 5) & (r == r.floor())).all()),
    )


# ---- optimisers and schedulers ---------------------------------------------------------------


def _train(t, make_optimizer, steps=3):
    model = fill(t, t.nn.Linear(3, 2))
    opt = make_optimizer(model.parameters())
    x, y = t.tensor(arr(5, 3, seed=3)), t.tensor(arr(5, 2, seed=4))
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    return model.weight.detach(), model.bias.detach()


@case("torch.optim.SGD", "torch.optim")
def _(t):
    o = t.optim
    return (
        _train(t, lambda p: o.SGD(p, lr=0.1)),
        _train(t, lambda p: o.SGD(params=p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    )


@case("torch.optim.Adam")
def _(t):
    o = t.optim
    return (
        _train(t, lambda p: o.Adam(p, lr=0.01)),
        _train(t, lambda p: o.Adam(params=p, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    )


@case("torch.optim.RMSprop", "torch.optim.Adagrad")
def _(t):
    o = t.optim
    return _train(t, lambda p: o.RMSprop(p, lr=0.01)), _train(t, lambda p: o.Adagrad(p))


@case("torch.optim.Adadelta")
def _(t):
    return _train(t, lambda p: t.optim.Adadelta(p, lr=1.0)), _train(t, t.optim.Adadelta)


@case("torch.optim.Optimizer")
def _(t):
    class SignSGD(t.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        with t.no_grad():
                            p -= group["lr"] * t.sign(p.grad)

    return _train(t, SignSGD)


@case(
    "torch.optim.lr_scheduler.StepLR",
    "torch.optim.lr_scheduler.MultiStepLR",
    "torch.optim.lr_scheduler",
)
def _(t):
    sched = t.optim.lr_scheduler
    lrs = []
    for make in (
        lambda o: sched.StepLR(o, step_size=2, gamma=0.5),
        lambda o: sched.MultiStepLR(o, milestones=[1, 3], gamma=0.1),
    ):
        opt = t.optim.SGD([t.nn.Parameter(t.ones(1))], lr=1.0)
        s = make(opt)
        seq = []
        for _ in range(5):
            opt.step()
            s.step()
            seq.append(opt.param_groups[0]["lr"])
        lrs.append(tuple(seq))
    return tuple(lrs)


# ---- data ------------------------------------------------------------------------------------


@case(
    "torch.utils.data.Dataset",
    "torch.utils.data.dataset.Dataset",
    "torch.utils",
    "torch.utils.data.DataLoader",
    "torch.utils.data.TensorDataset",
)
def _(t):
    data = t.utils.data

    class Squares(data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return t.tensor([float(i)]), i * i

    assert issubclass(Squares, t.utils.data.dataset.Dataset)
    loader = data.DataLoader(dataset=Squares(), batch_size=3, shuffle=False, num_workers=0)
    batches = [(x, y) for x, y in loader]
    ds = data.TensorDataset(t.tensor(arr(6, 2)), t.arange(6))
    shuffled = data.DataLoader(ds, batch_size=4, shuffle=True, pin_memory=False)
    seen = t.cat([y for _, y in shuffled]).sort()[0]
    subset = data.DataLoader(ds, batch_size=2, sampler=data.SubsetRandomSampler([0, 3, 5]))
    picked = t.cat([y for _, y in subset]).sort()[0]
    return batches, len(loader), len(ds), ds[2], seen, [len(y) for _, y in shuffled], picked


@case("torch.utils.data.sampler.SubsetRandomSampler", "torch.utils.data.RandomSampler")
def _(t):
    data = t.utils.data
    s = data.sampler.SubsetRandomSampler([1, 4, 5])
    r = data.RandomSampler(range(6), replacement=True, num_samples=10)
    loader = data.DataLoader(data.TensorDataset(t.arange(8)), batch_size=2, sampler=s)
    got = sorted(int(v) for (b,) in loader for v in b)
    return sorted(s), len(s), len(list(r)), all(0 <= i < 6 for i in r), got


@case("torch.distributions.multinomial.Multinomial", "torch.distributions")
def _(t):
    m = t.distributions.multinomial.Multinomial(10, probs=t.tensor([0.2, 0.3, 0.5]))
    s = m.sample((4,))
    return s.shape, s.dtype, bool((s.sum(1) == 10).all())


# ---- save and load ---------------------------------------------------------------------------


@case("torch.save", "torch.load")
def _(t):
    model = fill(t, t.nn.Linear(3, 2))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.pth")
        t.save(obj=model.state_dict(), f=path)
        state = t.load(f=path, weights_only=True, map_location="cpu")
        t.save({"x": t.arange(3), "n": [1, 2.5, "a", None]}, path)
        other = t.load(path, mmap=False)
        buf = io.BytesIO()
        t.save(t.ones(2), buf)
        buf.seek(0)
        tensor = t.load(buf)
    fresh = t.nn.Linear(3, 2)
    fresh.load_state_dict(state)
    return dict(state), other, tensor, fresh.weight.detach()


@case("torch.serialization.safe_globals")
def _(t):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.pth")
        t.save({"w": t.ones(2)}, path)
        with t.serialization.safe_globals([]):
            return t.load(path, weights_only=True)


# ---- printing --------------------------------------------------------------------------------


@case("torch.set_printoptions")
def _(t):
    t.set_printoptions(precision=2)
    text = str(t.tensor([1.23456, 2.5]))
    t.set_printoptions(precision=4)
    return text.replace("deepgrad", "torch")


@case("torch.functional")
def _(t):
    return t.functional.__name__.split(".")[-1]


@case("torch.bfloat16")
def _(t):
    return t.ones(2, dtype=t.bfloat16).float()


@case("torch.nn.Conv3d")
def _(t):
    c = t.nn.Conv3d(in_channels=1, out_channels=2, kernel_size=2)
    strided = t.nn.Conv3d(2, 3, (3, 2, 2), stride=2, padding=1, bias=False)
    return layer(t, c, 1, 1, 3, 3, 3), layer(t, strided, 2, 2, 4, 5, 3)


@case("torch.svd", "torch.linalg.svd")
def _(t):
    a = leaf(t, 4, 3)
    u, s, v = t.svd(a)
    u2, s2, vh = t.linalg.svd(a, full_matrices=False)
    # the factors' signs are LAPACK's choice; these results do not depend on them
    out = (u * s) @ v.T + (u2 * s2) @ vh + (u @ u.T)[:, :3] * s.sum() + (v @ v.T).sum() * s2[0]
    return grads(out, a), s.detach()
