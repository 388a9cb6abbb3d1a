"""Keyword aliases and names that client PyTorch code uses, checked against torch 2.13."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import deepgrad

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4, 5))


def _both(a=A, requires_grad=False):
    return (
        deepgrad.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


def _same(d, t, atol=1e-6):
    if isinstance(t, tuple):
        for x, y in zip(d, t):
            _same(x, y, atol)
        return
    t = t.detach()
    assert tuple(d.shape) == tuple(t.shape)
    assert str(d.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(d.detach()._data), t.numpy(), atol=atol)


REDUCTIONS = ["sum", "mean", "std", "var", "amax", "amin", "logsumexp", "prod"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("spelling", ["method", "function"])
def test_axis_and_keepdims_aliases(name, spelling):
    d, t = _both()
    for kwargs in ({"axis": 1}, {"axis": 1, "keepdims": True}, {"dim": 2, "keepdims": True}):
        if spelling == "method":
            _same(getattr(d, name)(**kwargs), getattr(t, name)(**kwargs))
        else:
            _same(getattr(deepgrad, name)(d, **kwargs), getattr(torch, name)(t, **kwargs))


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin", "all", "any"])
def test_axis_aliases_of_indexing_reductions(name):
    d, t = _both()
    if name in ("all", "any"):
        d, t = d > 0, t > 0
    for kwargs in ({"axis": 1}, {"axis": -1, "keepdims": True}):
        _same(getattr(d, name)(**kwargs), getattr(t, name)(**kwargs))
        _same(getattr(deepgrad, name)(d, **kwargs), getattr(torch, name)(t, **kwargs))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "cumsum", "cumprod"])
def test_axis_on_dim_ops(name):
    d, t = _both(requires_grad=True)
    out_d, out_t = getattr(d, name)(axis=1), getattr(t, name)(axis=1)
    _same(out_d, out_t)
    w = RNG.standard_normal(A.shape)
    (out_d * deepgrad.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    _same(d.grad, t.grad)


def test_both_dim_and_axis_is_an_error():
    d, _ = _both()
    with pytest.raises(TypeError):
        d.sum(dim=0, axis=1)


@pytest.mark.parametrize("name", ["rand", "randn", "zeros", "ones", "empty"])
def test_size_keyword_on_factories(name):
    d = getattr(deepgrad, name)(size=(2, 4))
    t = getattr(torch, name)(size=(2, 4))
    assert tuple(d.shape) == tuple(t.shape) and str(d.dtype)[-7:] == str(t.dtype)[-7:]
    s = getattr(deepgrad, name)(size=(), requires_grad=True)
    assert s.shape == () and s.requires_grad
    with pytest.raises(TypeError):
        getattr(deepgrad, name)(2, size=(2,))


def test_size_keyword_on_full_randint_normal():
    assert deepgrad.full(size=(2, 3), fill_value=1.5).shape == torch.full((2, 3), 1.5).shape
    assert deepgrad.randint(0, 5, size=(4,)).dtype == deepgrad.int64
    for r in (deepgrad.randint(3, size=(50,)), deepgrad.randint(3, (50,))):
        assert r.shape == (50,) and set(r.tolist()) <= {0, 1, 2}
    assert deepgrad.normal(0.0, 1.0, size=(3, 2)).shape == (3, 2)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "matmul", "maximum", "pow"])
def test_out_keyword_on_binary_functions(name):
    a = RNG.standard_normal((3, 3)).astype(np.float32)
    b = (RNG.random((3, 3)) + 0.5).astype(np.float32)
    out_d, out_t = deepgrad.empty(3, 3), torch.empty(3, 3)
    r_d = getattr(deepgrad, name)(deepgrad.tensor(a), deepgrad.tensor(b), out=out_d)
    getattr(torch, name)(torch.tensor(a), torch.tensor(b), out=out_t)
    assert r_d is out_d
    _same(out_d, out_t)


def test_out_is_resized_and_refuses_autograd_and_unsafe_casts():
    out = deepgrad.empty(2, 2)
    deepgrad.matmul(deepgrad.ones(3, 4), deepgrad.ones(4, 3), out=out)
    np.testing.assert_array_equal(out._data, np.full((3, 3), 4.0, np.float32))
    with pytest.raises(RuntimeError, match="can't be cast"):
        deepgrad.add(deepgrad.ones(3), deepgrad.ones(3), out=deepgrad.empty(3, dtype=deepgrad.long))
    x = deepgrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        deepgrad.mul(x, x, out=deepgrad.empty(3))


def test_cat_and_stack_accept_axis_and_out():
    a = np.arange(6.0).reshape(2, 3)
    _same(deepgrad.cat([deepgrad.tensor(a)] * 2, axis=1), torch.cat([torch.tensor(a)] * 2, axis=1))
    out = deepgrad.empty(0, dtype=deepgrad.float64)
    deepgrad.stack([deepgrad.tensor(a)] * 2, axis=0, out=out)
    _same(out, torch.stack([torch.tensor(a)] * 2))


def test_legacy_tensor_types():
    assert deepgrad.FloatTensor(2, 3).shape == torch.FloatTensor(2, 3).shape
    _same(deepgrad.FloatTensor([1, 2]), torch.FloatTensor([1, 2]))
    _same(deepgrad.LongTensor([1, 2]), torch.LongTensor([1, 2]))
    _same(deepgrad.DoubleTensor([[1.5]]), torch.DoubleTensor([[1.5]]))
    _same(deepgrad.BoolTensor([True, False]), torch.BoolTensor([True, False]))
    _same(deepgrad.IntTensor([3]), torch.IntTensor([3]))
    for legacy in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"):
        for dt in ("float32", "float64", "int64", "int32", "bool"):
            d = deepgrad.zeros(2, dtype=getattr(deepgrad, dt))
            t = torch.zeros(2, dtype=getattr(torch, dt))
            assert isinstance(d, getattr(deepgrad, legacy)) == isinstance(t, getattr(torch, legacy))
    assert type(deepgrad.FloatTensor([1.0])) is deepgrad.Tensor


def test_type_with_legacy_types_and_names():
    a = np.array([1.7, -2.2, 3.0])
    d, t = deepgrad.tensor(a), torch.tensor(a)
    for target in ("FloatTensor", "LongTensor", "IntTensor", "DoubleTensor", "BoolTensor"):
        _same(d.type(getattr(deepgrad, target)), t.type(getattr(torch, target)))
        _same(d.type(f"torch.{target}"), t.type(f"torch.{target}"))
        assert d.type(getattr(deepgrad, target)).type() == f"deepgrad.{target}"
        assert t.type(getattr(torch, target)).type() == f"torch.{target}"
    _same(d.type(deepgrad.int32), t.type(torch.int32))


def test_legacy_tensor_constructor_with_sizes():
    for args in ((2, 3), (3,), ([3],), (), ((2, 3),), ([[1, 2]],)):
        d, t = deepgrad.Tensor(*args), torch.Tensor(*args)
        assert tuple(d.shape) == tuple(t.shape) and d.dtype == deepgrad.float32
        if t.numel() and args and isinstance(args[0], (list, tuple)):
            _same(d, t)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_ops_with_zeros_match_torch(name):
    a = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5]])
    d, t = _both(a, requires_grad=True)
    for dim in (0, 1):
        out_d, out_t = getattr(deepgrad, name)(d, dim), getattr(torch, name)(t, dim)
        _same(out_d, out_t)
        out_d.sum().backward()
        out_t.sum().backward()
        _same(d.grad, t.grad)
        d.grad, t.grad = None, None
    _same(
        deepgrad.cumsum(deepgrad.tensor([True, True]), 0),
        torch.cumsum(torch.tensor([True, True]), 0),
    )


def test_prod_gradient_with_zeros_matches_torch():
    a = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
    for dim in (None, 0, 1):
        d, t = _both(a, requires_grad=True)
        out_d = d.prod() if dim is None else d.prod(dim)
        out_t = t.prod() if dim is None else t.prod(dim)
        _same(out_d, out_t)
        out_d.sum().backward()
        out_t.sum().backward()
        _same(d.grad, t.grad)


@pytest.mark.parametrize("name", ["sinh", "cosh"])
def test_hyperbolic_functions_and_gradients(name):
    d, t = _both(requires_grad=True)
    out_d, out_t = getattr(deepgrad, name)(d), getattr(torch, name)(t)
    _same(out_d, out_t)
    out_d.sum().backward()
    out_t.sum().backward()
    _same(d.grad, t.grad)
    assert deepgrad.autograd.gradcheck(
        getattr(deepgrad, name), (deepgrad.tensor(A[0], requires_grad=True),)
    )


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    xs, ys, zs = np.arange(3.0), np.arange(4.0) * 2, np.arange(2.0) - 1
    d = deepgrad.meshgrid(
        deepgrad.tensor(xs), deepgrad.tensor(ys), deepgrad.tensor(zs), indexing=indexing
    )
    t = torch.meshgrid(torch.tensor(xs), torch.tensor(ys), torch.tensor(zs), indexing=indexing)
    _same(d, t)
    x, y = deepgrad.tensor(xs, requires_grad=True), deepgrad.tensor(ys, requires_grad=True)
    gx, gy = deepgrad.meshgrid([x, y], indexing=indexing)
    (gx * gy).sum().backward()
    tx, ty = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    hx, hy = torch.meshgrid([tx, ty], indexing=indexing)
    (hx * hy).sum().backward()
    _same(x.grad, tx.grad)
    _same(y.grad, ty.grad)


def test_mv():
    m, v = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    _same(
        deepgrad.mv(deepgrad.tensor(m), deepgrad.tensor(v)),
        torch.mv(torch.tensor(m), torch.tensor(v)),
    )
    with pytest.raises(RuntimeError, match="mv"):
        deepgrad.mv(deepgrad.tensor(m), deepgrad.tensor(m))


def test_compile_returns_the_model_and_notes_once(capsys):
    import deepgrad as dg

    dg._compile_noted = False
    model = object()
    assert dg.compile(model) is model
    assert dg.compile(model, mode="max-autotune") is model
    err = capsys.readouterr().err
    assert err.count("torch.compile") == 1

    @dg.compile
    def f(x):
        return x + 1

    assert f(1) == 2


def test_missing_names_say_pytorch_has_them():
    for name in ("lerp", "kron"):
        assert hasattr(torch, name)
        with pytest.raises(AttributeError, match=f"PyTorch has `{name}`; deepgrad does not"):
            getattr(deepgrad, name)
        with pytest.raises(AttributeError, match=f"PyTorch has `{name}`; deepgrad does not"):
            getattr(deepgrad.ones(2), name)


def test_typos_get_a_close_match_suggestion():
    with pytest.raises(AttributeError, match="Did you mean: 'zeros'"):
        deepgrad.zeroz  # noqa: B018
    with pytest.raises(AttributeError):
        deepgrad.ones(2).summ  # noqa: B018
    # Python adds the hint when it prints the error (Tensor has no __getattr__, see tensor.py):
    # check what a user sees
    run = subprocess.run(
        [sys.executable, "-c", "import deepgrad; deepgrad.ones(2).summ"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert "Did you mean: 'sum'?" in run.stderr
    assert "lerp" not in dir(deepgrad.ones(2)) and "sum" in dir(deepgrad.ones(2))
    assert not hasattr(deepgrad.ones(2), "__nonexistent__")


@pytest.mark.parametrize(
    "name, feature",
    [
        ("complex64", "complex"),
        ("sparse_coo_tensor", "sparse"),
        ("quantize_per_tensor", "quantis"),
        ("jit", "TorchScript"),
        ("fx", "fx"),
    ],
)
def test_out_of_scope_features_raise_not_implemented(name, feature):
    with pytest.raises(NotImplementedError, match=feature):
        getattr(deepgrad, name)


def test_torch_names_file_matches_installed_torch():
    import importlib.util
    from pathlib import Path

    from deepgrad._compat import torch_names

    tool = Path(__file__).resolve().parents[2] / "tools" / "torch_names.py"
    spec = importlib.util.spec_from_file_location("torch_names_tool", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = torch_names()
    assert set(names["torch"]) == set(module.torch_public_names())
    assert set(names["Tensor"]) == {n for n in dir(torch.Tensor) if not n.startswith("_")}


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.squeeze(axis=1),
        lambda lib, x: lib.squeeze(x, axis=1),
        lambda lib, x: x.unsqueeze(axis=0),
        lambda lib, x: lib.unsqueeze(x, axis=-1),
        lambda lib, x: x.chunk(2, axis=2)[1],
        lambda lib, x: x.unbind(axis=2)[1],
        lambda lib, x: x.select(axis=2, index=1),
    ],
)
def test_axis_on_shape_methods(call):
    a = RNG.standard_normal((3, 1, 4))
    _same(call(deepgrad, deepgrad.tensor(a)), call(torch, torch.tensor(a)))
