"""Every registered op (``op_registry.OPS``), on hypothesis-drawn shapes (broadcasting included):

- forward against its NumPy reference, and gradcheck in float64;
- forward and gradients against PyTorch in each of the entry's dtypes, with the entry's ``Op``
  classes present in the recorded graph;
- mixed dtypes (float32 with float64, int64 with float32): result dtype, values and gradients
  against PyTorch, which defines the promotion;
- special values (NaN, +-inf, -0.0 in the inputs) and empty tensors, forward and backward,
  against PyTorch (NaN and inf positions equal);

and every ``Op`` subclass in deepgrad is exercised by some entry.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import deepgrad
from conftest import assert_close
from deepgrad.autograd import gradcheck
from deepgrad.autograd.function import _CustomNode
from deepgrad.autograd.graph import topological_order
from deepgrad.autograd.op import Op
from op_registry import OPS

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
# mixed dtypes and special values: fewer draws, and no shrinking (a strict xfail fails on
# purpose, and shrinking its failure would cost minutes)
EXTRA_SETTINGS = settings(SETTINGS, max_examples=8, phases=[Phase.explicit, Phase.generate])
IDS = [op.name for op in OPS]
MIXED = {"f32_f64": (np.float32, np.float64), "i64_f32": (np.int64, np.float32)}
SPECIALS = [np.nan, np.inf, -np.inf, -0.0]


def _params(kind, ops=OPS, values=(None,)):
    """One pytest param per (op, value), carrying the op's mark for this sample kind."""
    return [
        pytest.param(
            op,
            v,
            marks=op.marks.get(f"{kind}-{v}", op.marks.get(kind, ())),
            id=op.name + (f"-{v}" if v else ""),
        )
        for op in ops
        for v in values
    ]


def _needs_grad(op, i, a) -> bool:
    return a.dtype.kind == "f" and (op.grad_inputs is None or i in op.grad_inputs)


def _cast(arrays, dtypes):
    """Float inputs in ``dtypes`` (input i gets dtypes[i % len]); indices and masks unchanged."""
    out, k = [], 0
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(a.astype(dtypes[k % len(dtypes)]))
            k += 1
        else:
            out.append(a)
    return out


def _dg_inputs(op, arrays, requires_grad=True):
    return [
        deepgrad.tensor(a, requires_grad=requires_grad and _needs_grad(op, i, arrays[i]))
        for i, a in enumerate(arrays)
    ]


def _th_inputs(op, arrays):
    return [
        torch.tensor(a, requires_grad=_needs_grad(op, i, arrays[i])) for i, a in enumerate(arrays)
    ]


def _compare_with_torch(op, arrays, kwargs, must_refuse=True):
    """Forward, then backward with one random upstream gradient, in deepgrad and PyTorch.

    Where PyTorch refuses the inputs (an error), deepgrad must refuse them too; with
    ``must_refuse=False`` (mixed dtypes) there is nothing to compare: deepgrad promotes mixed
    inputs where PyTorch asks for one dtype (``matmul``, losses, ``batch_norm``) and computes
    activations of integer tensors in floating point, on purpose."""
    ts = _th_inputs(op, arrays)
    try:
        expected = op.th(*ts, **kwargs)
    except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError) as err:
        if not must_refuse:
            return err
        with pytest.raises(Exception):  # noqa: B017 - any error, as long as it is raised
            op.dg(*_dg_inputs(op, arrays), **kwargs)
        return err
    xs = _dg_inputs(op, arrays)
    out = op.dg(*xs, **kwargs)
    assert_close(out, expected.detach(), atol=_cancel_atol(op, expected.detach()))
    if op.differentiable and expected.requires_grad:
        dtype = expected.detach().numpy().dtype
        upstream = np.random.default_rng(1).standard_normal(expected.shape).astype(dtype)
        out.backward(deepgrad.tensor(upstream))
        expected.backward(torch.from_numpy(upstream))
        for x, t in zip(xs, ts):
            if t.requires_grad:
                assert x.grad is not None or not np.any(t.grad.numpy())
                if x.grad is not None:
                    assert_close(x.grad, t.grad, atol=_cancel_atol(op, t.grad))
    return out


def _cancel_atol(op, grad):
    """None (the default) but for ops tagged "cancels" in float32: batch norm's output and
    input gradient are differences of near-equal terms (x - mean; a gradient that sums to zero
    over the batch), which deepgrad and torch round in different orders (two passes against
    Welford), so the error scales with the whole tensor, not with each entry: 1e-4 of its
    largest value, never below the default."""
    if "cancels" not in op.tags or grad.dtype != torch.float32 or grad.numel() == 0:
        return None
    return max(1e-6, 1e-4 * float(grad.abs().max()))


def _graph_ops(t) -> list:
    return [] if t._ctx is None else topological_order(t._ctx)


@pytest.mark.parametrize(("op", "_"), _params("numpy", [o for o in OPS if o.ref is not None]))
@SETTINGS
@given(data=st.data())
def test_forward_matches_numpy(op, _, data):
    arrays, kwargs = op.sample(data.draw)
    out = op.dg(*_dg_inputs(op, arrays, requires_grad=False), **kwargs)
    expected = np.asarray(op.ref(*arrays, **kwargs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("op", "_"), _params("gradcheck", [o for o in OPS if o.differentiable]))
@settings(max_examples=5, deadline=None, derandomize=True)
@given(data=st.data())
def test_gradcheck(op, _, data):
    arrays, kwargs = op.sample(data.draw)
    xs = _dg_inputs(op, arrays)
    report = gradcheck(lambda *t: op.dg(*t, **kwargs), xs)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("op", "dtype"),
    [
        pytest.param(op, d, marks=op.marks.get(np.dtype(d).name, ()), id=f"{op.name}-{d.__name__}")
        for op in OPS
        for d in op.dtypes
    ],
)
@SETTINGS
@given(data=st.data())
def test_matches_torch(op, dtype, data):
    arrays, kwargs = op.sample(data.draw)
    out = _compare_with_torch(op, _cast(arrays, (dtype,)), kwargs)
    # the entry's ops must be in its graph (unless the op returned its input: flatten of 1-d)
    if isinstance(out, deepgrad.Tensor) and op.differentiable and out._ctx is not None:
        nodes = _graph_ops(out)
        for cls in op.ops:
            assert any(isinstance(n, cls) for n in nodes), (
                f"{op.name} declares {cls.__name__}, but its graph holds "
                f"{sorted({type(n).__name__ for n in nodes})}"
            )


@pytest.mark.parametrize(("op", "combo"), _params("mixed", values=tuple(MIXED)))
@EXTRA_SETTINGS
@given(data=st.data())
def test_mixed_dtypes_match_torch(op, combo, data):
    arrays, kwargs = op.sample(data.draw)
    with np.errstate(all="ignore"):  # int64 inputs may divide by zero, as in torch
        _compare_with_torch(op, _cast(arrays, MIXED[combo]), kwargs, must_refuse=False)


def _with_specials(draw, arrays, specials=tuple(SPECIALS)):
    """Each float element kept or replaced by one of ``specials`` (NaN, +inf, -inf, -0.0)."""
    out = []
    for a in arrays:
        if a.dtype.kind == "f" and a.size:
            picks = draw(st.lists(st.sampled_from([*specials, None]), min_size=a.size,
                                  max_size=a.size))  # fmt: skip
            a = np.array([a.flat[j] if p is None else p for j, p in enumerate(picks)]).reshape(
                a.shape
            )
        out.append(a)
    return out


@pytest.mark.parametrize(("op", "_"), _params("special"))
@EXTRA_SETTINGS
@given(data=st.data())
def test_special_values_match_torch(op, _, data):
    arrays, kwargs = op.sample(data.draw)
    with np.errstate(all="ignore"):
        _compare_with_torch(op, _with_specials(data.draw, arrays, op.specials), kwargs)


@pytest.mark.parametrize(("op", "_"), _params("empty", [o for o in OPS if o.empty is not None]))
def test_empty_tensors_match_torch(op, _):
    arrays, kwargs = op.empty
    with np.errstate(all="ignore"):
        _compare_with_torch(op, arrays, kwargs)


def _all_op_subclasses() -> set:
    """Every ``Op`` subclass defined in deepgrad, after importing all of its modules (but the
    ones that need CuPy, when it is not installed)."""
    for module in pkgutil.walk_packages(deepgrad.__path__, "deepgrad."):
        if module.name.endswith("__main__"):  # running it starts an app
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as err:
            if err.name != "cupy":
                raise
    found, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("deepgrad."):  # not the tests' own ops
                found.add(sub)
    return found


def test_every_op_subclass_is_registered():
    """Covered: an ``Op`` class an entry declares (and its graph shows). Also covered:

    - the node class ``<Name>Backward`` that each custom ``autograd.Function`` subclass gets,
      through the entry of their base ``_CustomNode`` (a user's Function stands in for all);
    - a device's variant of an op, whose ``op_name()`` is that op's name (``Conv2dCUDA`` is
      ``Conv2d`` on a GPU; ``tests/cuda/test_cuda.py`` compares the two there).
    """
    declared = {cls for op in OPS for cls in op.ops}
    names = {cls.__name__ for cls in declared}
    missing = sorted(
        f"{cls.__module__}.{cls.__name__}"
        for cls in _all_op_subclasses()
        if cls not in declared
        and not (issubclass(cls, _CustomNode) and _CustomNode in declared)
        and not (cls.op_name() != cls.__name__ and cls.op_name() in names)
    )
    assert not missing, f"Op subclasses no entry of tests/op_registry.py exercises: {missing}"


@pytest.mark.parametrize("name", ["elu", "hardtanh"])
def test_activations_at_nan_follow_torchs_scalar_loop(name):
    """At NaN, torch's elu and hardtanh backward depend on its code path (see their registry
    entries); deepgrad gives the scalar loop's answer, which torch gives for a tensor shorter
    than one vector: the gradient passes."""
    x = np.array([np.nan, 0.5, -3.0])
    g = np.array([2.0, 3.0, 5.0])
    xd = deepgrad.tensor(x, requires_grad=True)
    getattr(deepgrad.nn.functional, name)(xd).backward(deepgrad.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    getattr(torch.nn.functional, name)(xt).backward(torch.tensor(g))
    np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), rtol=1e-15)
    assert xd.grad.numpy()[0] == xt.grad.numpy()[0] == 2.0
