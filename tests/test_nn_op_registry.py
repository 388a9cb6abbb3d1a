"""The nn activation primitives in the core's op-registry format (``op_registry.OpSpec``): each
with its NumPy reference and PyTorch counterpart, checked on hypothesis-drawn shapes
(0-d included) for forward vs NumPy, gradcheck, and forward + backward vs PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepgrad
import deepgrad.nn.functional as F
from conftest import assert_close
from deepgrad.autograd import gradcheck
from op_registry import OpSpec, unary

TF = torch.nn.functional
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


NN_OPS = [
    OpSpec("leaky_relu", "leaky_relu", lambda x: F.leaky_relu(x, 0.1),
           lambda x: TF.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
           unary("away_from_zero")),
    OpSpec("elu", "elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7),
           lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0))),
           unary("away_from_zero")),
    OpSpec("softplus", "softplus", lambda x: F.softplus(x, 2.0, 3.0),
           lambda x: TF.softplus(x, 2.0, 3.0), lambda x: _softplus(x, 2.0, 3.0),
           unary("away_from_zero")),
    OpSpec("softsign", "softsign", F.softsign, TF.softsign, lambda x: x / (1 + np.abs(x)),
           unary("away_from_zero")),
    OpSpec("gelu", "gelu", F.gelu, TF.gelu, lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2))),
           unary()),
    OpSpec("gelu_tanh", "gelu", lambda x: F.gelu(x, "tanh"),
           lambda x: TF.gelu(x, approximate="tanh"),
           lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
           unary()),
    OpSpec("silu", "silu", F.silu, TF.silu, lambda x: x * _sigmoid(x), unary()),
    OpSpec("hardtanh", "hardtanh", F.hardtanh, TF.hardtanh, lambda x: np.clip(x, -1, 1),
           unary("away_from_zero")),
    OpSpec("step", "heaviside", F.step,
           lambda x: (x > 0).to(x.dtype) + 0 * x,  # torch.heaviside has no derivative
           lambda x: (x > 0).astype(x.dtype), unary("away_from_zero")),
]  # fmt: skip
IDS = [op.name for op in NN_OPS]
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.parametrize("op", NN_OPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_forward_matches_numpy(op, data):
    arrays, kwargs = op.sample(data.draw)
    out = op.dg(deepgrad.tensor(arrays[0]), **kwargs)
    expected = np.asarray(op.ref(*arrays, **kwargs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", NN_OPS, ids=IDS)
@settings(max_examples=5, deadline=None, derandomize=True)
@given(data=st.data())
def test_gradcheck(op, data):
    arrays, kwargs = op.sample(data.draw)
    x = deepgrad.tensor(arrays[0], requires_grad=True)
    report = gradcheck(lambda t: op.dg(t, **kwargs), (x,))
    assert report.passed, str(report)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op", NN_OPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_matches_torch(op, dtype, data):
    arrays, kwargs = op.sample(data.draw)
    x = deepgrad.tensor(arrays[0].astype(dtype), requires_grad=True)
    t = torch.tensor(arrays[0].astype(dtype), requires_grad=True)
    out, expected = op.dg(x, **kwargs), op.th(t, **kwargs)
    assert_close(out, expected.detach())
    upstream = np.random.default_rng(1).standard_normal(expected.shape).astype(dtype)
    out.backward(deepgrad.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    assert_close(x.grad, t.grad)
