"""The registry of ops: every ``Op`` subclass of deepgrad is exercised by at least one entry,
each with its PyTorch counterpart and (mostly) a NumPy reference. ``test_ops.py`` is the only
driver: it loops over ``OPS``, so an op is tested the moment it is registered, and
``test_every_op_subclass_is_registered`` fails for an ``Op`` subclass no entry declares.

Each entry draws its own inputs with hypothesis (``sample``), then the same callables run on
deepgrad tensors (``dg``), torch tensors (``th``) and NumPy arrays (``ref``). Besides the
entry's ``dtypes``, the drivers run every entry on mixed dtypes (``mixed``), on special values
(NaN, +-inf, -0.0 put into the drawn floats) and on an empty tensor (``empty``), forward and
backward against PyTorch. ``marks`` holds, per sample kind, the reason an entry differs from
PyTorch there: a skip where deepgrad differs on purpose, a strict xfail for a known bug.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import numpy as np
import torch
from hypothesis import strategies as st

import deepgrad
import deepgrad.nn.functional as F
from deepgrad.autograd.function import _CustomNode
from deepgrad.nn.modules.sync_batchnorm import SyncBatchNormOp
from deepgrad.ops import activation as A
from deepgrad.ops import conv as C
from deepgrad.ops import elementwise as E
from deepgrad.ops import extra_math as X
from deepgrad.ops import linalg as LA
from deepgrad.ops import loss as L
from deepgrad.ops import normalization as N
from deepgrad.ops import pool as P
from deepgrad.ops import reduce as R
from deepgrad.ops import scan as S
from deepgrad.ops import shape as SH
from deepgrad.ops.transfer import ToDevice

TF = torch.nn.functional


FLOATS = (np.float64, np.float32)


@dataclass
class OpSpec:
    name: str
    torch_name: str
    dg: Callable
    th: Callable
    ref: Callable | None  # None: PyTorch is the only oracle (test_matches_torch)
    sample: Callable  # draw -> (list of arrays: float64 values, int64 indices, bool masks; kwargs)
    #: the ``Op`` subclasses this entry exercises; each must appear in the entry's graph
    ops: tuple = ()
    differentiable: bool = True
    # inputs whose gradient is checked (by position); None means all float inputs
    grad_inputs: tuple | None = None
    tags: set = field(default_factory=set)
    #: the dtypes the float inputs are run in, all inputs alike
    dtypes: tuple = FLOATS
    #: dtype combinations for the float inputs (input i gets combo[i % len(combo)]); None: two
    #: floats of different widths and an int64 among floats, or an int64 input for one input
    mixed: tuple | None = None
    #: one sample (arrays, kwargs) with an empty tensor; None: the sampler's, if it has one
    empty: tuple | None = None
    #: sample kind ("float32", "mixed", "special", "empty", "gradcheck") -> pytest mark
    marks: dict = field(default_factory=dict)
    #: the special values put into the samples; fewer where PyTorch's own answer at one of
    #: them depends on its code path (the entry's comment says which and what deepgrad does)
    specials: tuple = (np.nan, np.inf, -np.inf, -0.0)

    def __post_init__(self):
        if self.empty is None:
            self.empty = getattr(self.sample, "empty", None)


def mark_differs(reason: str):
    """deepgrad differs from PyTorch here on purpose (the reason says why): not compared."""
    import pytest

    return pytest.mark.skip(reason=f"differs from torch on purpose: {reason}")


def mark_bug(reason: str):
    """A known bug, not yet fixed: the test must fail (strict), so a fix is noticed."""
    import pytest

    return pytest.mark.xfail(strict=True, reason=f"known bug: {reason}")


def _values(draw, shape, domain="real"):
    n = int(np.prod(shape)) if shape else 1
    # no subnormals: not what these samples test, and prod's backward divides by x
    elems = st.floats(-3, 3, allow_nan=False, allow_subnormal=False, width=64)
    flat = np.array(draw(st.lists(elems, min_size=n, max_size=n)), dtype=np.float64)
    # ... nor values that become subnormal in float32 (1e-300 is normal in float64 only)
    flat[np.abs(flat) < 1e-6] = 0.0
    a = flat.reshape(shape)
    if domain == "positive":
        a = np.abs(a) + 0.5
    elif domain == "away_from_zero":  # kinks (relu, abs) are not differentiable at 0
        a = np.where(np.abs(a) < 0.1, a + np.sign(a + 1e-9) * 0.2, a)
    elif domain == "shifted":  # off the values "distinct" draws: no ties between two inputs
        a = a + 0.00537
    elif domain == "unit":  # inside (-1, 1), where asin is differentiable
        a = a / 3.5
    elif domain == "above_minus_one":  # log1p's domain, away from its pole
        a = np.abs(a) - 0.5
    elif domain == "off_jumps":  # sign/floor/ceil/round: a quarter away from every jump
        a = np.floor(a) + 0.3
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

    sample.empty = ([np.zeros((0, 3))], {})
    return sample


def binary(domain_a="real", domain_b="real"):
    def sample(draw):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
        a, b = shapes.input_shapes
        return [_values(draw, a, domain_a), _values(draw, b, domain_b)], {}

    sample.empty = ([np.zeros((0, 3)), np.ones((1, 3))], {})
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

    sample.empty = ([np.zeros((0, 3))], {"dim": 1, "keepdim": False})
    return sample


def along_dim(domain="real"):
    def sample(draw):
        shape = draw(SHAPE_ND)
        return [_values(draw, shape, domain)], {
            "dim": draw(st.integers(-len(shape), len(shape) - 1))
        }

    sample.empty = ([np.zeros((0, 3))], {"dim": 1})
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


def strided_sample(draw):
    """A transpose of two sides of length >= 2: never C-contiguous, so contiguous() copies."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4))
    return [_values(draw, shape)], {"d0": 0, "d1": -1}


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


def with_p(sample, ps):
    """A reduction's sample with a norm order ``p`` drawn from ``ps``."""

    def draw_p(draw):
        arrays, kwargs = sample(draw)
        return arrays, {**kwargs, "p": draw(st.sampled_from(ps))}

    draw_p.empty = (sample.empty[0], {**sample.empty[1], "p": ps[0]})
    return draw_p


def _ref_norm(a, p, dim, keepdim):
    if math.isinf(p):
        return np.abs(a).max(axis=dim, keepdims=keepdim)
    return (np.abs(a) ** p).sum(axis=dim, keepdims=keepdim) ** (1 / p)


def _sig(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- samplers of the nn primitives
def _erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def same_shape(domain_a="real", domain_b="real"):
    """Two inputs of one shape (a loss's input and target)."""

    def sample(draw):
        shape = draw(SHAPE)
        return [_values(draw, shape, domain_a), _values(draw, shape, domain_b)], {
            "reduction": draw(st.sampled_from(["mean", "sum", "none"]))
        }

    sample.empty = ([np.zeros((0, 3)), np.zeros((0, 3))], {"reduction": "sum"})
    return sample


def l1_sample(draw):  # input and target never equal: |x - y| has a kink there
    shape = draw(SHAPE)
    y = _values(draw, shape)
    return [y + _values(draw, shape, "away_from_zero"), y], {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]))
    }


l1_sample.empty = same_shape().empty


def probabilities_sample(draw):  # BCE: probabilities in (0.05, 0.95), targets in [0, 1]
    shape = draw(SHAPE)
    x = 0.05 + 0.9 * _sig(_values(draw, shape))
    return [x, _sig(_values(draw, shape))], {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]))
    }


probabilities_sample.empty = same_shape().empty


def classes_sample(log_probs=False):
    """(N, C) or (N, C, d) scores and int64 class indices (cross-entropy, NLL)."""

    def sample(draw):
        n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
        extra = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
        z = _values(draw, (n, c) + extra)
        if log_probs:
            z = np.log(_ref_softmax(z, 1))
        t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        t = np.broadcast_to(t.reshape((n,) + (1,) * len(extra)), (n,) + extra).copy()
        kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
        if not log_probs:
            kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1]))
        return [z, t.astype(np.int64)], kwargs

    sample.empty = ([np.zeros((0, 3)), np.zeros((0,), np.int64)], {"reduction": "sum"})
    return sample


def class_probabilities_sample(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    return [_values(draw, (n, c)), _ref_softmax(_values(draw, (n, c)), 1)], {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]))
    }


def margin_sample(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), np.int64)
    # margin 0.937: the hinge's kink (x_t - x_j = margin) is never met by drawn values
    return [_values(draw, (n, c), "distinct"), t], {
        "p": draw(st.sampled_from([1, 2])),
        "margin": 0.937,
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
    }


def kl_sample(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    log_target = draw(st.booleans())
    t = _values(draw, (n, c)) if log_target else _values(draw, (n, c), "positive")
    return [_values(draw, (n, c)), t], {
        "reduction": draw(st.sampled_from(["mean", "sum", "none", "batchmean"])),
        "log_target": log_target,
    }


def image_sample(min_side=1, domain="real"):
    """(N, C, H, W) images."""

    def sample(draw):
        shape = tuple(draw(st.integers(1, 2)) for _ in range(2))
        shape += tuple(draw(st.integers(min_side, 5)) for _ in range(2))
        return [_values(draw, shape, domain)], {}

    return sample


def conv_sample(draw):
    n, c_in, c_out = (draw(st.integers(1, 2)) for _ in range(3))
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = c_in * groups, c_out * groups
    k, stride, pad, dil = (draw(st.integers(1, 3)), draw(st.integers(1, 2)),
                           draw(st.integers(0, 1)), draw(st.integers(1, 2)))  # fmt: skip
    side = max(draw(st.integers(1, 5)), dil * (k - 1) + 1 - 2 * pad)
    x = _values(draw, (n, c_in, side, side + 1))
    arrays = [x, _values(draw, (c_out, c_in // groups, k, k))]
    if draw(st.booleans()):
        arrays.append(_values(draw, (c_out,)))
    return arrays, {"stride": stride, "padding": pad, "dilation": dil, "groups": groups}


conv_sample.empty = ([np.zeros((0, 1, 3, 3)), np.ones((2, 1, 2, 2))], {})


def max_pool_sample(draw):
    k = draw(st.integers(1, 3))
    x = image_sample(min_side=3, domain="distinct")(draw)[0][0]
    return [x], {
        "kernel_size": k,
        "stride": draw(st.integers(1, 2)),
        "padding": draw(st.integers(0, k // 2)),
        "dilation": draw(st.integers(1, 2)) if k == 2 else 1,  # the window fits a 3 x 3 image
        "ceil_mode": draw(st.booleans()),
    }


def avg_pool_sample(draw):
    k = draw(st.integers(1, 3))
    x = image_sample(min_side=3)(draw)[0][0]
    return [x], {
        "kernel_size": k,
        "stride": draw(st.integers(1, 2)),
        "padding": draw(st.integers(0, k // 2)),
        "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()),
    }


def adaptive_pool_sample(draw):
    """Sizes that do not tile the input (tiling ones are plain average pooling: avg_pool2d)."""
    x = image_sample(min_side=3)(draw)[0][0]
    h, w = x.shape[2:]
    size = (draw(st.sampled_from([s for s in range(2, h) if h % s])),
            draw(st.integers(1, w)))  # fmt: skip
    return [x], {"output_size": size}


def batch_norm_sample(draw):
    # at least 3 per channel: with 2, each output is +-1 whatever the input, so the input's
    # gradient is float32 rounding noise around zero, which no two implementations share
    n, c = draw(st.integers(3, 4)), draw(st.integers(1, 3))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    arrays = [_values(draw, (n, c) + extra, "distinct")]  # distinct: a variance above zero
    if draw(st.booleans()):
        arrays += [_values(draw, (c,)), _values(draw, (c,))]
    return arrays, {}


batch_norm_sample.empty = ([np.zeros((2, 3, 0))], {})  # no values per channel: an error


def batch_norm_eval_sample(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return [_values(draw, (n, c, 2)), _values(draw, (c,)), _values(draw, (c,), "positive"),
            _values(draw, (c,)), _values(draw, (c,))], {}  # fmt: skip


def _ref_batch_norm(x, weight=None, bias=None, mean=None, var=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape) + bias.reshape(shape)
    return out


def _sync_batch_norm(x, *affine):
    from mpi4py import MPI

    # one rank: the statistics of the global batch are those of the local one
    return SyncBatchNormOp.apply(x, *affine, eps=1e-5, comm=MPI.COMM_SELF)


def square_matrix_sample(draw):
    """A well-conditioned square matrix: the identity scaled up plus a small drawn part."""
    n = draw(st.integers(1, 4))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    return [np.eye(n) * 2 + 0.1 * _values(draw, lead + (n, n))], {}


square_matrix_sample.empty = ([np.zeros((0, 2, 2))], {})


def distinct_singular_values_sample(draw):
    """(m, n) with singular values near k, k-1, ..., 1: the drawn part (entries of at most
    0.09) moves each by less than 0.5, so they stay distinct and nonzero."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = min(m, n)
    base = np.zeros((m, n))
    base[range(k), range(k)] = np.arange(k, 0, -1)
    return [base + 0.03 * _values(draw, (m, n))], {}


def _dg_svd(a):  # U and V enter squared: their columns' signs are arbitrary
    u, s, v = deepgrad.svd(a)
    return deepgrad.cat([(u * u).flatten(), s, (v * v).flatten()])


def _th_svd(a):
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    v = vh.mT
    return torch.cat([(u * u).flatten(), s, (v * v).flatten()])


def _ref_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([(u * u).ravel(), s, (vh.T * vh.T).ravel()])


def _other_float(t, lib):
    """The other float width (a cast that always records a node)."""
    return t.to(lib.float32 if t.dtype == lib.float64 else lib.float64)


class _Cube(deepgrad.autograd.Function):
    """A user's custom function (the registry's stand-in for every ``Function`` subclass)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


def prod_sample(draw):
    shape = draw(SHAPE_ND)
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return [_values(draw, shape)], {"dim": dim, "keepdim": draw(st.booleans())}


prod_sample.empty = ([np.zeros((0, 3))], {"dim": 1, "keepdim": False})


def _dg_prod(a, dim, keepdim):
    return a.prod() if dim is None else a.prod(dim, keepdim)


def _ref_prod(a, dim, keepdim):
    return np.prod(a) if dim is None else np.prod(a, axis=dim, keepdims=keepdim)


def _reduced(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](loss)


OPS = [
    # ---------------------------------------------------------------- elementwise
    OpSpec("add", "add", lambda a, b: a + b, lambda a, b: a + b, np.add, binary(), ops=(E.Add,)),
    OpSpec(
        "sub", "sub", lambda a, b: a - b, lambda a, b: a - b, np.subtract, binary(), ops=(E.Sub,)
    ),
    OpSpec(
        "mul", "mul", lambda a, b: a * b, lambda a, b: a * b, np.multiply, binary(), ops=(E.Mul,)
    ),
    OpSpec(
        "div",
        "div",
        lambda a, b: a / b,
        lambda a, b: a / b,
        np.divide,
        binary("real", "positive"),
        ops=(E.Div,),
    ),
    OpSpec(
        "pow",
        "pow",
        lambda a, b: a**b,
        lambda a, b: a**b,
        np.power,
        binary("positive", "real"),
        ops=(E.Pow,),
    ),
    OpSpec(
        "maximum",
        "maximum",
        deepgrad.maximum,
        torch.maximum,
        np.maximum,
        binary("distinct", "shifted"),
        ops=(E.Maximum,),
    ),
    OpSpec(
        "minimum",
        "minimum",
        deepgrad.minimum,
        torch.minimum,
        np.minimum,
        binary("distinct", "shifted"),
        ops=(E.Minimum,),
    ),
    OpSpec("neg", "neg", lambda a: -a, lambda a: -a, np.negative, unary(), ops=(E.Neg,)),
    OpSpec("exp", "exp", deepgrad.exp, torch.exp, np.exp, unary(), ops=(E.Exp,)),
    OpSpec("log", "log", deepgrad.log, torch.log, np.log, unary("positive"), ops=(E.Log,)),
    OpSpec("sqrt", "sqrt", deepgrad.sqrt, torch.sqrt, np.sqrt, unary("positive"), ops=(E.Sqrt,)),
    OpSpec(
        "rsqrt",
        "rsqrt",
        deepgrad.rsqrt,
        torch.rsqrt,
        lambda a: 1 / np.sqrt(a),
        unary("positive"),
        ops=(
            E.Sqrt,
            E.Div,
        ),
    ),
    OpSpec(
        "abs",
        "abs",
        deepgrad.abs,
        torch.abs,
        np.abs,
        unary("away_from_zero"),
        ops=(E.Abs,),
    ),
    OpSpec("sin", "sin", deepgrad.sin, torch.sin, np.sin, unary(), ops=(E.Sin,)),
    OpSpec("cos", "cos", deepgrad.cos, torch.cos, np.cos, unary(), ops=(E.Cos,)),
    OpSpec(
        "erf",
        "erf",
        deepgrad.erf,
        torch.erf,
        np.vectorize(__import__("math").erf),
        unary(),
        ops=(E.Erf,),
    ),
    OpSpec("tanh", "tanh", deepgrad.tanh, torch.tanh, np.tanh, unary(), ops=(E.Tanh,)),
    OpSpec("sigmoid", "sigmoid", deepgrad.sigmoid, torch.sigmoid, _sig, unary(), ops=(E.Sigmoid,)),
    OpSpec(
        "relu",
        "relu",
        deepgrad.relu,
        torch.relu,
        lambda a: np.maximum(a, 0),
        unary("away_from_zero"),
        ops=(E.ReLU,),
    ),
    OpSpec(
        "square", "square", deepgrad.square, torch.square, np.square, unary(), ops=(E.PowScalar,)
    ),
    OpSpec(
        "pow_scalar",
        "pow",
        lambda a: a**3,
        lambda a: a**3,
        lambda a: a**3,
        unary(),
        ops=(E.PowScalar,),
    ),
    OpSpec(
        "pow_half",
        "pow",
        lambda a: a**0.5,
        lambda a: a**0.5,
        np.sqrt,
        unary("positive"),
        ops=(E.PowScalar,),
    ),
    OpSpec(
        "rpow",
        "pow",
        lambda a: 2**a,
        lambda a: 2**a,
        lambda a: 2.0**a,
        unary(),
        ops=(E.Pow,),
    ),
    OpSpec(
        "reciprocal",
        "reciprocal",
        deepgrad.reciprocal,
        torch.reciprocal,
        np.reciprocal,
        unary("positive"),
        ops=(E.Div,),
    ),
    OpSpec(
        "clamp",
        "clamp",
        lambda a: deepgrad.clamp(a, -0.5, 0.7),
        lambda a: torch.clamp(a, -0.5, 0.7),
        lambda a: np.clip(a, -0.5, 0.7),
        unary("distinct"),
        ops=(E.Clamp,),
    ),
    OpSpec(
        "where",
        "where",
        deepgrad.where,
        torch.where,
        np.where,
        where_sample,
        grad_inputs=(1, 2),
        ops=(E.Where,),
    ),
    # ---------------------------------------------------------------- reductions
    OpSpec("sum_all", "sum", lambda a: a.sum(), lambda a: a.sum(), np.sum, unary(), ops=(R.Sum,)),
    OpSpec(
        "sum",
        "sum",
        lambda a, dim, keepdim: a.sum(dim, keepdim),
        lambda a, dim, keepdim: a.sum(dim, keepdim),
        lambda a, dim, keepdim: a.sum(axis=dim, keepdims=keepdim),
        reduction(),
        ops=(R.Sum,),
    ),
    OpSpec(
        "mean",
        "mean",
        lambda a, dim, keepdim: a.mean(dim, keepdim),
        lambda a, dim, keepdim: a.mean(dim, keepdim),
        lambda a, dim, keepdim: a.mean(axis=dim, keepdims=keepdim),
        reduction(),
        ops=(R.Mean,),
    ),
    OpSpec(
        "mean_all", "mean", lambda a: a.mean(), lambda a: a.mean(), np.mean, unary(), ops=(R.Mean,)
    ),
    OpSpec(
        "var",
        "var",
        lambda a, dim, keepdim: a.var(dim, keepdim=keepdim),
        lambda a, dim, keepdim: a.var(dim, keepdim=keepdim),
        _ref_var,
        reduction(min_side=2),  # one sample has no unbiased variance,
        ops=(R.Var,),
    ),
    OpSpec(
        "std_biased",
        "std",
        lambda a, dim, keepdim: a.std(dim, keepdim=keepdim, correction=0),
        lambda a, dim, keepdim: a.std(dim, keepdim=keepdim, correction=0),
        lambda a, dim, keepdim: a.std(axis=dim, keepdims=keepdim),
        reduction("distinct", min_side=2),
        ops=(
            R.Var,
            E.Sqrt,
        ),
    ),
    OpSpec(
        "max_all",
        "max",
        lambda a: a.max(),
        lambda a: a.max(),
        np.max,
        unary("distinct"),
        ops=(R.MaxAll,),
    ),
    OpSpec(
        "min_all",
        "min",
        lambda a: a.min(),
        lambda a: a.min(),
        np.min,
        unary("distinct"),
        ops=(R.MaxAll,),
    ),
    OpSpec(
        "max_dim",
        "max",
        lambda a, dim, keepdim: a.max(dim, keepdim).values,
        lambda a, dim, keepdim: a.max(dim, keepdim).values,
        lambda a, dim, keepdim: a.max(axis=dim, keepdims=keepdim),
        reduction("distinct", multi=False),
        ops=(R.MaxDim,),
    ),
    OpSpec(
        "min_dim",
        "min",
        lambda a, dim, keepdim: a.min(dim, keepdim).values,
        lambda a, dim, keepdim: a.min(dim, keepdim).values,
        lambda a, dim, keepdim: a.min(axis=dim, keepdims=keepdim),
        reduction("distinct", multi=False),
        ops=(R.MaxDim,),
    ),
    OpSpec(
        "amax",
        "amax",
        lambda a, dim, keepdim: a.amax(dim, keepdim),
        lambda a, dim, keepdim: a.amax(dim, keepdim),
        lambda a, dim, keepdim: a.max(axis=dim, keepdims=keepdim),
        reduction("distinct"),
        ops=(R.AMax,),
    ),
    OpSpec(
        "logsumexp",
        "logsumexp",
        lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
        lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
        _ref_lse,
        reduction(),
        ops=(R.LogSumExp,),
    ),
    OpSpec(
        "softmax",
        "softmax",
        lambda a, dim: deepgrad.softmax(a, dim=dim),
        lambda a, dim: torch.softmax(a, dim=dim),
        _ref_softmax,
        along_dim(),
        ops=(R.Softmax,),
    ),
    OpSpec(
        "log_softmax",
        "log_softmax",
        lambda a, dim: deepgrad.log_softmax(a, dim=dim),
        lambda a, dim: torch.log_softmax(a, dim=dim),
        lambda a, dim: np.log(_ref_softmax(a, dim)),
        along_dim(),
        ops=(R.LogSoftmax,),
    ),
    OpSpec(
        "norm",
        "norm",
        lambda a: a.norm(),
        lambda a: a.norm(),
        np.linalg.norm,
        unary("away_from_zero"),
        ops=(R.Norm,),
    ),
    OpSpec(  # |x| has a kink at 0, and so has (sum |x|^p)^(1/p) for p < 2
        "norm_p",
        "norm",
        lambda a, **kw: a.norm(**kw),
        lambda a, **kw: a.norm(**kw),
        _ref_norm,
        with_p(reduction("away_from_zero"), (2, 1, 3, 0.5, 1.5)),
        ops=(R.Norm,),
    ),
    OpSpec(  # max |x|: distinct values, as ties make its gradient ambiguous
        "norm_inf",
        "norm",
        lambda a, **kw: a.norm(**kw),
        lambda a, **kw: a.norm(**kw),
        _ref_norm,
        with_p(reduction("distinct"), (math.inf,)),
        ops=(R.Norm,),
    ),
    # ---------------------------------------------------------------- linear algebra
    OpSpec(
        "matmul",
        "matmul",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        np.matmul,
        matmul_sample,
        ops=(LA.MatMul,),
    ),
    OpSpec(
        "linear",
        "nn.functional.linear",
        _dg_linear,
        torch.nn.functional.linear,
        lambda x, w, b: x @ w.T + b,
        linear_sample,
        ops=(LA.Linear,),
    ),
    # ---------------------------------------------------------------- shape
    OpSpec(
        "reshape",
        "reshape",
        lambda a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
        reshape_sample,
        ops=(SH.Reshape,),
    ),
    OpSpec(
        "flatten",
        "flatten",
        lambda a: a.flatten(),
        lambda a: a.flatten(),
        np.ravel,
        unary(),
        ops=(SH.Reshape,),
    ),
    OpSpec(
        "unsqueeze_squeeze",
        "unsqueeze",
        lambda a: a.unsqueeze(-1).squeeze(),
        lambda a: a.unsqueeze(-1).squeeze(),
        np.squeeze,
        unary(),
        ops=(SH.Reshape,),
    ),
    OpSpec(
        "permute",
        "permute",
        lambda a, dims: a.permute(*dims),
        lambda a, dims: a.permute(*dims),
        lambda a, dims: a.transpose(dims),
        permute_sample,
        ops=(SH.Permute,),
    ),
    OpSpec(
        "transpose",
        "transpose",
        lambda a, d0, d1: a.transpose(d0, d1),
        lambda a, d0, d1: a.transpose(d0, d1),
        lambda a, d0, d1: np.swapaxes(a, d0, d1),
        transpose_sample,
        ops=(SH.Permute,),
    ),
    OpSpec(
        "expand",
        "expand",
        lambda a, size: a.expand(*size),
        lambda a, size: a.expand(*size),
        lambda a, size: np.broadcast_to(a, size),
        expand_sample,
        ops=(SH.Expand,),
    ),
    OpSpec(
        "cat",
        "cat",
        lambda *xs, dim: deepgrad.cat(xs, dim),
        lambda *xs, dim: torch.cat(xs, dim),
        lambda *xs, dim: np.concatenate(xs, dim),
        cat_sample,
        ops=(SH.Cat,),
    ),
    OpSpec(
        "stack",
        "stack",
        lambda *xs, dim: deepgrad.stack(xs, dim),
        lambda *xs, dim: torch.stack(xs, dim),
        lambda *xs, dim: np.stack(xs, dim),
        stack_sample,
        ops=(SH.Stack,),
    ),
    OpSpec(
        "index_basic",
        "__getitem__",
        lambda a, key: BASIC_KEYS[key](a),
        lambda a, key: BASIC_KEYS[key](a) if key != "neg_step" else torch.flip(a, (0,)),
        lambda a, key: BASIC_KEYS[key](a),
        index_basic_sample,
        ops=(SH.Index,),
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
        ops=(SH.Index,),
    ),
    # ---------------------------------------------------------------- more elementwise
    OpSpec("asin", "asin", deepgrad.asin, torch.asin, np.arcsin, unary("unit"), ops=(X.Asin,)),
    OpSpec(
        "log1p",
        "log1p",
        deepgrad.log1p,
        torch.log1p,
        np.log1p,
        unary("above_minus_one"),
        ops=(X.Log1p,),
    ),
    OpSpec("sinh", "sinh", deepgrad.sinh, torch.sinh, np.sinh, unary(), ops=(E.Sinh,)),
    OpSpec("cosh", "cosh", deepgrad.cosh, torch.cosh, np.cosh, unary(), ops=(E.Cosh,)),
    OpSpec(
        "sign",
        "sign",
        deepgrad.sign,
        torch.sign,
        np.sign,
        unary("off_jumps"),
        ops=(X.PiecewiseConstant,),
    ),
    OpSpec(
        "floor",
        "floor",
        deepgrad.floor,
        torch.floor,
        np.floor,
        unary("off_jumps"),
        ops=(X.PiecewiseConstant,),
    ),
    OpSpec(
        "ceil",
        "ceil",
        deepgrad.ceil,
        torch.ceil,
        np.ceil,
        unary("off_jumps"),
        ops=(X.PiecewiseConstant,),
    ),
    OpSpec(
        "round",
        "round",
        deepgrad.round,
        torch.round,
        np.round,
        unary("off_jumps"),
        ops=(X.PiecewiseConstant,),
    ),
    OpSpec(
        "cast",
        "to",
        lambda a: _other_float(a, deepgrad),
        lambda a: _other_float(a, torch),
        lambda a: a.astype(np.float32 if a.dtype == np.float64 else np.float64),
        unary(),
        ops=(E.Cast,),
        marks={"gradcheck": mark_differs("a cast to float32 rounds away the 1e-6 steps")},
    ),
    OpSpec(
        "to_device",
        "to",
        lambda a: ToDevice.apply(a, device="cpu"),
        lambda a: a.to("cpu", copy=True),
        lambda a: a,
        unary(),
        ops=(ToDevice,),
    ),
    OpSpec(
        "custom_function",
        "autograd.Function",
        _Cube.apply,
        lambda a: a**3,
        lambda a: a**3,
        unary(),
        ops=(_CustomNode,),
    ),
    # ---------------------------------------------------------------- scans and products
    OpSpec(
        "cumsum",
        "cumsum",
        lambda a, dim: a.cumsum(dim),
        lambda a, dim: a.cumsum(dim),
        lambda a, dim: np.cumsum(a, axis=dim),
        along_dim(),
        ops=(S.CumSum,),
    ),
    OpSpec(
        "cumprod",
        "cumprod",
        lambda a, dim: a.cumprod(dim),
        lambda a, dim: a.cumprod(dim),
        lambda a, dim: np.cumprod(a, axis=dim),
        along_dim(),
        ops=(S.CumProd,),
    ),
    OpSpec(
        "prod",
        "prod",
        _dg_prod,
        _dg_prod,
        _ref_prod,
        prod_sample,
        ops=(S.Prod,),
    ),
    # ---------------------------------------------------------------- linear algebra
    OpSpec(
        "det",
        "det",
        deepgrad.det,
        torch.linalg.det,
        np.linalg.det,
        square_matrix_sample,
        ops=(X.Det,),
    ),
    OpSpec(
        "svd",
        "linalg.svd",
        _dg_svd,
        _th_svd,
        _ref_svd,
        distinct_singular_values_sample,
        ops=(X.SVD,),
    ),
    # ---------------------------------------------------------------- activations
    OpSpec(
        "leaky_relu",
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.1),
        lambda x: TF.leaky_relu(x, 0.1),
        lambda x: np.where(x > 0, x, 0.1 * x),
        unary("away_from_zero"),
        ops=(A.LeakyReLU,),
    ),
    OpSpec(
        "elu",
        "elu",
        lambda x: F.elu(x, 0.7),
        lambda x: TF.elu(x, 0.7),
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0))),
        unary("away_from_zero"),
        ops=(A.ELU,),
        # at NaN, torch's elu backward gives g in its scalar loop and NaN in its SIMD loop
        # (blocks of 8 or 16 doubles of a longer tensor): deepgrad gives g, the scalar loop's
        # answer (test_activations_at_nan_follow_torchs_scalar_loop); not compared at NaN here
        specials=(np.inf, -np.inf, -0.0),
    ),
    OpSpec(
        "softplus",
        "softplus",
        lambda x: F.softplus(x, 2.0, 3.0),
        lambda x: TF.softplus(x, 2.0, 3.0),
        lambda x: _softplus(x, 2.0, 3.0),
        unary("away_from_zero"),
        ops=(A.Softplus,),
    ),
    OpSpec(
        "softsign",
        "softsign",
        F.softsign,
        TF.softsign,
        lambda x: x / (1 + np.abs(x)),
        unary("away_from_zero"),
        ops=(A.Softsign,),
    ),
    OpSpec(
        "gelu",
        "gelu",
        F.gelu,
        TF.gelu,
        lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2))),
        unary(),
        ops=(A.GELU,),
    ),
    OpSpec(
        "gelu_tanh",
        "gelu",
        lambda x: F.gelu(x, "tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        unary(),
        ops=(A.GELU,),
    ),
    OpSpec("silu", "silu", F.silu, TF.silu, lambda x: x * _sig(x), unary(), ops=(A.SiLU,)),
    OpSpec(
        "hardtanh",
        "hardtanh",
        F.hardtanh,
        TF.hardtanh,
        lambda x: np.clip(x, -1, 1),
        unary("away_from_zero"),
        ops=(A.Hardtanh,),
        marks={"mixed-i64_f32": mark_differs("activations compute integer tensors in float")},
        # at NaN, torch's backward passes g in its scalar loop (short tensors, the tail of long
        # ones) and gives 0 in its vector loop: deepgrad passes g, the scalar loop's answer
        # (test_activations_at_nan_follow_torchs_scalar_loop); not compared at NaN here
        specials=(np.inf, -np.inf, -0.0),
    ),
    OpSpec(
        "step",
        "heaviside",
        F.step,
        lambda x: (x > 0).to(x.dtype) + 0 * x,  # torch.heaviside has no derivative
        lambda x: (x > 0).astype(x.dtype),
        unary("away_from_zero"),
        ops=(A.Step,),
        marks={
            "special": mark_differs(
                "the torch stand-in (x > 0) + 0 * x is NaN at inf; step is 0 or 1"
            ),
            "mixed-i64_f32": mark_differs("step of an integer tensor is float (F.step floats it)"),
        },
    ),
    # ---------------------------------------------------------------- convolution and pooling
    OpSpec(
        "conv2d",
        "nn.functional.conv2d",
        F.conv2d,
        TF.conv2d,
        None,
        conv_sample,
        ops=(C.Conv2d,),
    ),
    OpSpec(
        "max_pool2d",
        "nn.functional.max_pool2d",
        F.max_pool2d,
        TF.max_pool2d,
        None,
        max_pool_sample,
        ops=(P.MaxPool2d,),
    ),
    OpSpec(
        "avg_pool2d",
        "nn.functional.avg_pool2d",
        F.avg_pool2d,
        TF.avg_pool2d,
        None,
        avg_pool_sample,
        ops=(P.AvgPool2d,),
    ),
    OpSpec(
        "adaptive_avg_pool2d",
        "nn.functional.adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        None,
        adaptive_pool_sample,
        ops=(P.AdaptiveAvgPool2d,),
    ),
    # ---------------------------------------------------------------- normalisation
    OpSpec(
        "batch_norm",
        "nn.functional.batch_norm",
        lambda x, *wb: F.batch_norm(x, None, None, *wb, training=True),
        lambda x, *wb: TF.batch_norm(x, None, None, *wb, training=True),
        _ref_batch_norm,
        batch_norm_sample,
        ops=(N.BatchNorm,),
        tags={"cancels"},
        marks={"empty": mark_differs("no values per channel is an error that says why")},
    ),
    OpSpec(
        "batch_norm_eval",
        "nn.functional.batch_norm",
        lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=False),
        lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b, training=False),
        lambda x, m, v, w, b: _ref_batch_norm(x, w, b, m, v),
        batch_norm_eval_sample,
        ops=(N.BatchNorm,),
        grad_inputs=(0, 3, 4),
    ),
    OpSpec(
        "sync_batch_norm",
        "nn.SyncBatchNorm",
        _sync_batch_norm,
        lambda x, *wb: TF.batch_norm(x, None, None, *wb, training=True),
        _ref_batch_norm,
        batch_norm_sample,
        ops=(SyncBatchNormOp,),
        tags={"cancels"},
    ),
    # ---------------------------------------------------------------- losses
    OpSpec(
        "mse_loss",
        "nn.functional.mse_loss",
        F.mse_loss,
        TF.mse_loss,
        lambda x, y, reduction: _reduced((x - y) ** 2, reduction),
        same_shape(),
        ops=(L.MSELoss,),
    ),
    OpSpec(
        "l1_loss",
        "nn.functional.l1_loss",
        F.l1_loss,
        TF.l1_loss,
        lambda x, y, reduction: _reduced(np.abs(x - y), reduction),
        l1_sample,
        ops=(L.L1Loss,),
    ),
    OpSpec(
        "binary_cross_entropy",
        "nn.functional.binary_cross_entropy",
        F.binary_cross_entropy,
        TF.binary_cross_entropy,
        lambda x, y, reduction: _reduced(-(y * np.log(x) + (1 - y) * np.log1p(-x)), reduction),
        probabilities_sample,
        ops=(L.BinaryCrossEntropy,),
        grad_inputs=(0,),
    ),
    OpSpec(
        "binary_cross_entropy_with_logits",
        "nn.functional.binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        TF.binary_cross_entropy_with_logits,
        lambda z, y, reduction: _reduced((1 - y) * z + np.logaddexp(0, -z), reduction),
        same_shape(),
        ops=(L.BinaryCrossEntropyWithLogits,),
    ),
    OpSpec(
        "cross_entropy",
        "nn.functional.cross_entropy",
        F.cross_entropy,
        TF.cross_entropy,
        None,
        classes_sample(),
        ops=(L.CrossEntropy,),
    ),
    OpSpec(
        "cross_entropy_probs",
        "nn.functional.cross_entropy",
        F.cross_entropy,
        TF.cross_entropy,
        lambda z, q, reduction: _reduced(-(q * np.log(_ref_softmax(z, 1))).sum(1), reduction),
        class_probabilities_sample,
        ops=(L.CrossEntropy,),
    ),
    OpSpec(
        "nll_loss",
        "nn.functional.nll_loss",
        F.nll_loss,
        TF.nll_loss,
        None,
        classes_sample(log_probs=True),
        ops=(L.NLLLoss,),
    ),
    OpSpec(
        "multi_margin_loss",
        "nn.functional.multi_margin_loss",
        F.multi_margin_loss,
        TF.multi_margin_loss,
        None,
        margin_sample,
        ops=(L.MultiMarginLoss,),
    ),
    OpSpec(
        "kl_div",
        "nn.functional.kl_div",
        F.kl_div,
        TF.kl_div,
        None,
        kl_sample,
        ops=(L.KLDivergence,),
    ),
    OpSpec(
        "contiguous",
        "contiguous",
        # transposed first, so that contiguous() has a strided array to copy
        lambda a, d0, d1: a.transpose(d0, d1).contiguous(),
        lambda a, d0, d1: a.transpose(d0, d1).contiguous(),
        lambda a, d0, d1: np.ascontiguousarray(np.swapaxes(a, d0, d1)),
        strided_sample,
        ops=(SH.Permute, SH.Contiguous),
    ),
]
