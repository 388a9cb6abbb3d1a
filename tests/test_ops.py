"""Every registered op: forward against NumPy, gradcheck in float64, and forward plus gradients
against PyTorch on hypothesis-drawn shapes (broadcasting included), in float64 and float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepgrad
from conftest import assert_close
from deepgrad.autograd import gradcheck
from op_registry import OPS

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
IDS = [op.name for op in OPS]


def _dg_inputs(arrays, dtype, requires_grad=True):
    return [
        deepgrad.tensor(a.astype(dtype), requires_grad=requires_grad and a.dtype != np.bool_)
        if a.dtype != np.bool_
        else deepgrad.tensor(a)
        for a in arrays
    ]


def _th_inputs(arrays, dtype):
    return [
        torch.tensor(a.astype(dtype), requires_grad=True)
        if a.dtype != np.bool_
        else torch.tensor(a)
        for a in arrays
    ]


@pytest.mark.parametrize("op", OPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_forward_matches_numpy(op, data):
    arrays, kwargs = op.sample(data.draw)
    out = op.dg(*_dg_inputs(arrays, np.float64, requires_grad=False), **kwargs)
    expected = np.asarray(op.ref(*arrays, **kwargs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", [o for o in OPS if o.differentiable], ids=lambda o: o.name)
@settings(max_examples=5, deadline=None, derandomize=True)
@given(data=st.data())
def test_gradcheck(op, data):
    arrays, kwargs = op.sample(data.draw)
    xs = _dg_inputs(arrays, np.float64)
    report = gradcheck(lambda *t: op.dg(*t, **kwargs), xs)
    assert report.passed, str(report)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op", OPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_matches_torch(op, dtype, data):
    arrays, kwargs = op.sample(data.draw)
    xs = _dg_inputs(arrays, dtype)
    ts = _th_inputs(arrays, dtype)
    out = op.dg(*xs, **kwargs)
    expected = op.th(*ts, **kwargs)
    assert_close(out, expected)
    if not op.differentiable:
        return
    upstream = np.random.default_rng(1).standard_normal(expected.shape).astype(dtype)
    out.backward(deepgrad.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    for x, t in zip(xs, ts):
        if t.requires_grad:
            assert_close(x.grad, t.grad)
