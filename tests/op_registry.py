"""The registry of primitive and composed tensor ops, each with its NumPy reference and PyTorch
counterpart. ``test_ops.py`` loops over it, so an op is tested the moment it is registered.

Each entry draws its own inputs with hypothesis (``sample``), then the same callables run on
deepgrad tensors (``dg``), torch tensors (``th``) and NumPy arrays (``ref``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import numpy as np
import torch
from hypothesis import strategies as st

import deepgrad


@dataclass
class OpSpec:
    name: str
    torch_name: str
    dg: Callable
    th: Callable
    ref: Callable
    sample: Callable  # draw -> (list of float64 arrays, kwargs)
    differentiable: bool = True
    # inputs whose gradient is checked (by position); None means all float inputs
    grad_inputs: tuple | None = None
    tags: set = field(default_factory=set)


def _values(draw, shape, domain="real"):
    n = int(np.prod(shape)) if shape else 1
    elems = st.floats(-3, 3, allow_nan=False, width=64)
    flat = np.array(draw(st.lists(elems, min_size=n, max_size=n)), dtype=np.float64)
    a = flat.reshape(shape)
    if domain == "positive":
        a = np.abs(a) + 0.5
    elif domain == "away_from_zero":  # kinks (relu, abs) are not differentiable at 0
        a = np.where(np.abs(a) < 0.1, a + np.sign(a + 1e-9) * 0.2, a)
    elif domain == "distinct":  # ties make max/min gradients ambiguous for finite differences
        # keep the drawn order but space the values at least 0.01 apart (a fixed offset per
        # position could turn two different draws into a tie)
        flat = a.reshape(-1).copy()
        order = np.argsort(flat, kind="stable")
        flat[order] = np.sort(flat) + np.arange(flat.size) * 1e-2
        a = flat.reshape(shape)
    return a


SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SHAPE_ND = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def unary(domain="real"):
    def sample(draw):
        return [_values(draw, draw(SHAPE), domain)], {}

    return sample


def binary(domain_a="real", domain_b="real"):
    def sample(draw):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
        a, b = shapes.input_shapes
        return [_values(draw, a, domain_a), _values(draw, b, domain_b)], {}

    return sample


def reduction(domain="real", multi=True, min_side=1):
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4)

    def sample(draw):
        shape = draw(shapes)
        nd = len(shape)
        if multi and draw(st.booleans()):
            dims = draw(
                st.lists(
                    st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd
                )
            )
            dim = tuple(dims)
        else:
            dim = draw(st.integers(-nd, nd - 1))
        return [_values(draw, shape, domain)], {"dim": dim, "keepdim": draw(st.booleans())}

    return sample


def along_dim(domain="real"):
    def sample(draw):
        shape = draw(SHAPE_ND)
        return [_values(draw, shape, domain)], {
            "dim": draw(st.integers(-len(shape), len(shape) - 1))
        }

    return sample


def _np_axis(dim):
    return dim if not isinstance(dim, list) else tuple(dim)


def matmul_sample(draw):
    kind = draw(st.sampled_from(["1x1", "1x2", "2x1", "2x2", "batched", "bcast", "3x1", "1x3"]))
    m, k, n, b = (draw(st.integers(1, 4)) for _ in range(4))
    shapes = {
        "1x1": [(k,), (k,)],
        "1x2": [(k,), (k, n)],
        "2x1": [(m, k), (k,)],
        "2x2": [(m, k), (k, n)],
        "batched": [(b, m, k), (b, k, n)],
        "bcast": [(b, 1, m, k), (2, k, n)],
        "3x1": [(b, m, k), (k,)],
        "1x3": [(k,), (b, k, n)],
    }[kind]
    return [_values(draw, s) for s in shapes], {}


def reshape_sample(draw):
    shape = draw(SHAPE_ND)
    return [_values(draw, shape)], {"shape": (-1,) + (1,) * draw(st.integers(0, 2))}


def permute_sample(draw):
    shape = draw(SHAPE_ND)
    perm = draw(st.permutations(range(len(shape))))
    return [_values(draw, shape)], {"dims": tuple(perm)}


def transpose_sample(draw):
    shape = draw(SHAPE_ND)
    nd = len(shape)
    return [_values(draw, shape)], {
        "d0": draw(st.integers(-nd, nd - 1)),
        "d1": draw(st.integers(-nd, nd - 1)),
    }


def expand_sample(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    target = tuple(s if s != 1 else draw(st.integers(1, 3)) for s in shape)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    return [_values(draw, shape)], {"size": lead + target}


def cat_sample(draw):
    shape = list(draw(SHAPE_ND))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[dim] = draw(st.integers(1, 3))
        arrays.append(_values(draw, tuple(s)))
    return arrays, {"dim": dim}


def stack_sample(draw):
    shape = draw(SHAPE)
    k = draw(st.integers(1, 3))
    return [_values(draw, shape) for _ in range(k)], {
        "dim": draw(st.integers(-len(shape) - 1, len(shape)))
    }


def index_basic_sample(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4))
    key = draw(st.sampled_from(["int", "slice", "none_ellipsis", "neg_step", "mixed"]))
    return [_values(draw, shape)], {"key": key}


BASIC_KEYS = {
    "int": lambda a: a[1],
    "slice": lambda a: a[:, 1:],
    "none_ellipsis": lambda a: a[None, ..., 0],
    "neg_step": lambda a: a[::-1],  # torch has no negative steps; flip instead (see th)
    "mixed": lambda a: a[-1, :1],
}


def index_adv_sample(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    x = _values(draw, (n, c))
    rows = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)))
    cols = np.array(draw(st.lists(st.integers(0, c - 1), min_size=len(rows), max_size=len(rows))))
    return [x], {"rows": rows, "cols": cols}


def where_sample(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
    c, a, b = shapes.input_shapes
    cond = _values(draw, c) > 0
    return [cond, _values(draw, a), _values(draw, b)], {}


def linear_sample(draw):
    n, i, o = (draw(st.integers(1, 5)) for _ in range(3))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    return [_values(draw, lead + (n, i)), _values(draw, (o, i)), _values(draw, (o,))], {}


def _dg_linear(x, w, b):
    from deepgrad.ops.linalg import Linear

    return Linear.apply(x, w, b)


def _ref_softmax(a, dim):
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _ref_lse(a, dim, keepdim):
    m = a.max(axis=dim, keepdims=True)
    out = np.log(np.exp(a - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


def _ref_var(a, dim, keepdim):
    return a.var(axis=dim, keepdims=keepdim, ddof=1)


def _sig(a):
    return 1 / (1 + np.exp(-a))


OPS = [
    # ---------------------------------------------------------------- elementwise
    OpSpec("add", "add", lambda a, b: a + b, lambda a, b: a + b, np.add, binary()),
    OpSpec("sub", "sub", lambda a, b: a - b, lambda a, b: a - b, np.subtract, binary()),
    OpSpec("mul", "mul", lambda a, b: a * b, lambda a, b: a * b, np.multiply, binary()),
    OpSpec(
        "div", "div", lambda a, b: a / b, lambda a, b: a / b, np.divide, binary("real", "positive")
    ),
    OpSpec(
        "pow", "pow", lambda a, b: a**b, lambda a, b: a**b, np.power, binary("positive", "real")
    ),
    OpSpec(
        "maximum",
        "maximum",
        deepgrad.maximum,
        torch.maximum,
        np.maximum,
        binary("distinct", "real"),
    ),
    OpSpec(
        "minimum",
        "minimum",
        deepgrad.minimum,
        torch.minimum,
        np.minimum,
        binary("distinct", "real"),
    ),
    OpSpec("neg", "neg", lambda a: -a, lambda a: -a, np.negative, unary()),
    OpSpec("exp", "exp", deepgrad.exp, torch.exp, np.exp, unary()),
    OpSpec("log", "log", deepgrad.log, torch.log, np.log, unary("positive")),
    OpSpec("sqrt", "sqrt", deepgrad.sqrt, torch.sqrt, np.sqrt, unary("positive")),
    OpSpec(
        "rsqrt", "rsqrt", deepgrad.rsqrt, torch.rsqrt, lambda a: 1 / np.sqrt(a), unary("positive")
    ),
    OpSpec("abs", "abs", deepgrad.abs, torch.abs, np.abs, unary("away_from_zero")),
    OpSpec("sin", "sin", deepgrad.sin, torch.sin, np.sin, unary()),
    OpSpec("cos", "cos", deepgrad.cos, torch.cos, np.cos, unary()),
    OpSpec("erf", "erf", deepgrad.erf, torch.erf, np.vectorize(__import__("math").erf), unary()),
    OpSpec("tanh", "tanh", deepgrad.tanh, torch.tanh, np.tanh, unary()),
    OpSpec("sigmoid", "sigmoid", deepgrad.sigmoid, torch.sigmoid, _sig, unary()),
    OpSpec(
        "relu",
        "relu",
        deepgrad.relu,
        torch.relu,
        lambda a: np.maximum(a, 0),
        unary("away_from_zero"),
    ),
    OpSpec("square", "square", deepgrad.square, torch.square, np.square, unary()),
    OpSpec("pow_scalar", "pow", lambda a: a**3, lambda a: a**3, lambda a: a**3, unary()),
    OpSpec("pow_half", "pow", lambda a: a**0.5, lambda a: a**0.5, np.sqrt, unary("positive")),
    OpSpec("rpow", "pow", lambda a: 2**a, lambda a: 2**a, lambda a: 2.0**a, unary()),
    OpSpec(
        "reciprocal",
        "reciprocal",
        deepgrad.reciprocal,
        torch.reciprocal,
        np.reciprocal,
        unary("positive"),
    ),
    OpSpec(
        "clamp",
        "clamp",
        lambda a: deepgrad.clamp(a, -0.5, 0.7),
        lambda a: torch.clamp(a, -0.5, 0.7),
        lambda a: np.clip(a, -0.5, 0.7),
        unary("distinct"),
    ),
    OpSpec(
        "where", "where", deepgrad.where, torch.where, np.where, where_sample, grad_inputs=(1, 2)
    ),
    # ---------------------------------------------------------------- reductions
    OpSpec("sum_all", "sum", lambda a: a.sum(), lambda a: a.sum(), np.sum, unary()),
    OpSpec(
        "sum",
        "sum",
        lambda a, dim, keepdim: a.sum(dim, keepdim),
        lambda a, dim, keepdim: a.sum(dim, keepdim),
        lambda a, dim, keepdim: a.sum(axis=dim, keepdims=keepdim),
        reduction(),
    ),
    OpSpec(
        "mean",
        "mean",
        lambda a, dim, keepdim: a.mean(dim, keepdim),
        lambda a, dim, keepdim: a.mean(dim, keepdim),
        lambda a, dim, keepdim: a.mean(axis=dim, keepdims=keepdim),
        reduction(),
    ),
    OpSpec("mean_all", "mean", lambda a: a.mean(), lambda a: a.mean(), np.mean, unary()),
    OpSpec(
        "var",
        "var",
        lambda a, dim, keepdim: a.var(dim, keepdim=keepdim),
        lambda a, dim, keepdim: a.var(dim, keepdim=keepdim),
        _ref_var,
        reduction(min_side=2),  # one sample has no unbiased variance
    ),
    OpSpec(
        "std_biased",
        "std",
        lambda a, dim, keepdim: a.std(dim, keepdim=keepdim, correction=0),
        lambda a, dim, keepdim: a.std(dim, keepdim=keepdim, correction=0),
        lambda a, dim, keepdim: a.std(axis=dim, keepdims=keepdim),
        reduction("distinct", min_side=2),
    ),
    OpSpec("max_all", "max", lambda a: a.max(), lambda a: a.max(), np.max, unary("distinct")),
    OpSpec("min_all", "min", lambda a: a.min(), lambda a: a.min(), np.min, unary("distinct")),
    OpSpec(
        "max_dim",
        "max",
        lambda a, dim, keepdim: a.max(dim, keepdim).values,
        lambda a, dim, keepdim: a.max(dim, keepdim).values,
        lambda a, dim, keepdim: a.max(axis=dim, keepdims=keepdim),
        reduction("distinct", multi=False),
    ),
    OpSpec(
        "min_dim",
        "min",
        lambda a, dim, keepdim: a.min(dim, keepdim).values,
        lambda a, dim, keepdim: a.min(dim, keepdim).values,
        lambda a, dim, keepdim: a.min(axis=dim, keepdims=keepdim),
        reduction("distinct", multi=False),
    ),
    OpSpec(
        "amax",
        "amax",
        lambda a, dim, keepdim: a.amax(dim, keepdim),
        lambda a, dim, keepdim: a.amax(dim, keepdim),
        lambda a, dim, keepdim: a.max(axis=dim, keepdims=keepdim),
        reduction("distinct"),
    ),
    OpSpec(
        "logsumexp",
        "logsumexp",
        lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
        lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
        _ref_lse,
        reduction(),
    ),
    OpSpec(
        "softmax",
        "softmax",
        lambda a, dim: deepgrad.softmax(a, dim=dim),
        lambda a, dim: torch.softmax(a, dim=dim),
        _ref_softmax,
        along_dim(),
    ),
    OpSpec(
        "log_softmax",
        "log_softmax",
        lambda a, dim: deepgrad.log_softmax(a, dim=dim),
        lambda a, dim: torch.log_softmax(a, dim=dim),
        lambda a, dim: np.log(_ref_softmax(a, dim)),
        along_dim(),
    ),
    OpSpec(
        "norm",
        "norm",
        lambda a: a.norm(),
        lambda a: a.norm(),
        np.linalg.norm,
        unary("away_from_zero"),
    ),
    # ---------------------------------------------------------------- linear algebra
    OpSpec("matmul", "matmul", lambda a, b: a @ b, lambda a, b: a @ b, np.matmul, matmul_sample),
    OpSpec(
        "linear",
        "nn.functional.linear",
        _dg_linear,
        torch.nn.functional.linear,
        lambda x, w, b: x @ w.T + b,
        linear_sample,
    ),
    # ---------------------------------------------------------------- shape
    OpSpec(
        "reshape",
        "reshape",
        lambda a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
        reshape_sample,
    ),
    OpSpec("flatten", "flatten", lambda a: a.flatten(), lambda a: a.flatten(), np.ravel, unary()),
    OpSpec(
        "unsqueeze_squeeze",
        "unsqueeze",
        lambda a: a.unsqueeze(-1).squeeze(),
        lambda a: a.unsqueeze(-1).squeeze(),
        np.squeeze,
        unary(),
    ),
    OpSpec(
        "permute",
        "permute",
        lambda a, dims: a.permute(*dims),
        lambda a, dims: a.permute(*dims),
        lambda a, dims: a.transpose(dims),
        permute_sample,
    ),
    OpSpec(
        "transpose",
        "transpose",
        lambda a, d0, d1: a.transpose(d0, d1),
        lambda a, d0, d1: a.transpose(d0, d1),
        lambda a, d0, d1: np.swapaxes(a, d0, d1),
        transpose_sample,
    ),
    OpSpec(
        "expand",
        "expand",
        lambda a, size: a.expand(*size),
        lambda a, size: a.expand(*size),
        lambda a, size: np.broadcast_to(a, size),
        expand_sample,
    ),
    OpSpec(
        "cat",
        "cat",
        lambda *xs, dim: deepgrad.cat(xs, dim),
        lambda *xs, dim: torch.cat(xs, dim),
        lambda *xs, dim: np.concatenate(xs, dim),
        cat_sample,
    ),
    OpSpec(
        "stack",
        "stack",
        lambda *xs, dim: deepgrad.stack(xs, dim),
        lambda *xs, dim: torch.stack(xs, dim),
        lambda *xs, dim: np.stack(xs, dim),
        stack_sample,
    ),
    OpSpec(
        "index_basic",
        "__getitem__",
        lambda a, key: BASIC_KEYS[key](a),
        lambda a, key: BASIC_KEYS[key](a) if key != "neg_step" else torch.flip(a, (0,)),
        lambda a, key: BASIC_KEYS[key](a),
        index_basic_sample,
    ),
    OpSpec(
        "index_advanced",
        "__getitem__",
        # repeated rows must accumulate their gradients
        lambda a, rows, cols: a[rows, cols] + a[rows].sum(-1),
        lambda a, rows, cols: (
            a[torch.from_numpy(rows), torch.from_numpy(cols)] + a[torch.from_numpy(rows)].sum(-1)
        ),
        lambda a, rows, cols: a[rows, cols] + a[rows].sum(-1),
        index_adv_sample,
    ),
    OpSpec(
        "contiguous",
        "contiguous",
        # transposed first, so that contiguous() has a strided array to copy
        lambda a, d0, d1: a.transpose(d0, d1).contiguous(),
        lambda a, d0, d1: a.transpose(d0, d1).contiguous(),
        lambda a, d0, d1: np.ascontiguousarray(np.swapaxes(a, d0, d1)),
        transpose_sample,
    ),
]
