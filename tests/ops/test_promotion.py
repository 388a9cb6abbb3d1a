"""One dtype-promotion rule for every op: cat/stack/where promote like ``a + b`` (torch 2.13)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import deepgrad

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


def _pair(dt: str, shape):
    a = (np.arange(int(np.prod(shape))) % 3).reshape(shape)
    return (
        deepgrad.tensor(a.astype(dt)),
        torch.tensor(a.astype(dt)),
    )


def _name(dt) -> str:
    return str(dt).split(".")[-1]


@pytest.mark.parametrize("a_dt, b_dt", list(itertools.product(DTYPES, DTYPES)))
def test_cat_stack_where_add_promote_like_torch(a_dt, b_dt):
    (da, ta), (db, tb) = _pair(a_dt, (2, 3)), _pair(b_dt, (2, 3))
    assert _name(deepgrad.cat([da, db]).dtype) == _name(torch.cat([ta, tb]).dtype)
    assert _name(deepgrad.stack([da, db]).dtype) == _name(torch.stack([ta, tb]).dtype)
    cond_d, cond_t = deepgrad.tensor([True, False, True]), torch.tensor([True, False, True])
    assert _name(deepgrad.where(cond_d, da, db).dtype) == _name(torch.where(cond_t, ta, tb).dtype)
    if "bool" not in (a_dt,) or b_dt != "bool":
        assert _name((da + db).dtype) == _name((ta + tb).dtype)


@pytest.mark.parametrize("a_dt, b_dt", list(itertools.product(DTYPES, DTYPES)))
def test_zero_dim_operands_are_weak(a_dt, b_dt):
    (da, ta), (db, tb) = _pair(a_dt, (3,)), _pair(b_dt, ())
    assert _name((da + db).dtype) == _name((ta + tb).dtype)
    cond_d, cond_t = deepgrad.tensor([True, False, True]), torch.tensor([True, False, True])
    assert _name(deepgrad.where(cond_d, da, db).dtype) == _name(torch.where(cond_t, ta, tb).dtype)
    # stack of two 0-d tensors: both are 0-d, so the plain rule applies
    (za, zta) = _pair(a_dt, ())
    assert _name(deepgrad.stack([za, db]).dtype) == _name(torch.stack([zta, tb]).dtype)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5])
def test_python_scalars_are_weak(dt, scalar):
    d, t = _pair(dt, (3,))
    if dt != "bool" or not isinstance(scalar, bool):
        assert _name((d + scalar).dtype) == _name((t + scalar).dtype)
    cond_d, cond_t = deepgrad.tensor([True, False, True]), torch.tensor([True, False, True])
    assert _name(deepgrad.where(cond_d, d, scalar).dtype) == _name(
        torch.where(cond_t, t, scalar).dtype
    )


def test_cat_float32_with_int64_keeps_float32_and_values():
    a = deepgrad.tensor([1.5, 2.5])
    b = deepgrad.tensor([3, 4])
    out = deepgrad.cat([a, b])
    assert out.dtype == deepgrad.float32
    np.testing.assert_array_equal(out._data, np.array([1.5, 2.5, 3, 4], np.float32))


@pytest.mark.parametrize("dt", ["int64", "int32", "float32", "float64", "uint8"])
@pytest.mark.parametrize("other", [2, 2.5, "tensor_f64_0d", "tensor_f32"])
def test_floordiv_and_mod_promote_like_add(dt, other):
    d, t = _pair(dt, (4,))
    d, t = d + 3, t + 3  # no zero divisors
    if other == "tensor_f64_0d":
        od, ot = (
            deepgrad.tensor(2.5, dtype=deepgrad.float64),
            torch.tensor(2.5, dtype=torch.float64),
        )
    elif other == "tensor_f32":
        od, ot = deepgrad.tensor([1.5, 2.0, 2.5, 3.0]), torch.tensor([1.5, 2.0, 2.5, 3.0])
    else:
        od = ot = other
    for fn in (lambda a, b: a // b, lambda a, b: a % b, lambda a, b: b // a, lambda a, b: b % a):
        rd, rt = fn(d, od), fn(t, ot)
        assert _name(rd.dtype) == _name(rt.dtype)
        np.testing.assert_allclose(rd._data, rt.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dt", ["int64", "float32", "bool"])
@pytest.mark.parametrize("value", [1, 1.5, True])
def test_masked_fill_keeps_the_tensor_dtype(dt, value):
    d, t = _pair(dt, (4,))
    md, mt = deepgrad.tensor([True, False, True, False]), torch.tensor([True, False, True, False])
    rd, rt = d.masked_fill(md, value), t.masked_fill(mt, value)
    assert _name(rd.dtype) == _name(rt.dtype)
    np.testing.assert_array_equal(rd._data, rt.numpy())


@pytest.mark.parametrize("a_dt, b_dt", list(itertools.product(DTYPES, DTYPES)))
def test_result_type_and_promote_types_match_torch(a_dt, b_dt):
    (da, ta), (db, tb) = _pair(a_dt, (2,)), _pair(b_dt, ())
    assert _name(deepgrad.result_type(da, db)) == _name(torch.result_type(ta, tb))
    for scalar in (2, 2.5, True):
        assert _name(deepgrad.result_type(da, scalar)) == _name(torch.result_type(ta, scalar))
    assert _name(deepgrad.promote_types(getattr(deepgrad, a_dt), getattr(deepgrad, b_dt))) == _name(
        torch.promote_types(getattr(torch, a_dt), getattr(torch, b_dt))
    )


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize(
    "bounds", [(-0.5, 0.7), (0, 1), (np.float64(0.5), None), (None, np.int64(1))]
)
def test_clamp_promotes_with_its_bounds_like_torch(dt, bounds):
    """clamp(int64, -0.5, 0.7) is float32, a NumPy float64 bound keeps a float32 tensor float32
    (it is a number, weak, like a Python float), int bounds keep an integer tensor's dtype."""
    a = np.array([[-1, 0, 1], [1, 0, -1]]).astype(dt)  # below, inside and above the bounds
    rd, rt = deepgrad.clamp(deepgrad.tensor(a), *bounds), torch.clamp(torch.tensor(a), *bounds)
    assert _name(rd.dtype) == _name(rt.dtype)
    np.testing.assert_array_equal(rd.numpy(), rt.numpy())
