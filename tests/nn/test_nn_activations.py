"""Activation modules and functions: forward and backward against PyTorch, gradcheck on the
new primitive ops, and the Step function's zero gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from conftest import assert_close
from deepgrad.autograd import gradcheck
from deepgrad.ops import activation as A
from deepgrad.ops.special import erf, erfc, ndtr

TF = torch.nn.functional

# (name, our module, torch module) -- each pair built from the same arguments
MODULES = [
    ("identity", lambda: nn.Identity(), lambda: torch.nn.Identity()),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    ("tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    ("relu", lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    ("leaky_relu", lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    ("leaky_relu_0.1", lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1)),
    ("elu", lambda: nn.ELU(), lambda: torch.nn.ELU()),
    ("elu_0.5", lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
    ("softsign", lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    ("softplus", lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    ("softplus_beta", lambda: nn.Softplus(2.0, 3.0), lambda: torch.nn.Softplus(2.0, 3.0)),
    ("gelu", lambda: nn.GELU(), lambda: torch.nn.GELU()),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    ("silu", lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 2.0), lambda: torch.nn.Hardtanh(-0.5, 2.0)),
    ("relu6", lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    ("softmax_0", lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    ("log_softmax_last", lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    ("softmin", lambda: nn.Softmin(dim=1), lambda: torch.nn.Softmin(dim=1)),
]

FUNCTIONS = [
    ("relu", F.relu, TF.relu),
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("elu", lambda x: F.elu(x, 1.5), lambda x: TF.elu(x, 1.5)),
    ("gelu", F.gelu, TF.gelu),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
    ("softplus", lambda x: F.softplus(x, 0.5, 5.0), lambda x: TF.softplus(x, 0.5, 5.0)),
    ("softsign", F.softsign, TF.softsign),
    ("silu", F.silu, TF.silu),
    ("relu6", F.relu6, TF.relu6),
    ("hardtanh", F.hardtanh, TF.hardtanh),
    ("softmax", lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    ("log_softmax", lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    ("softmin", lambda x: F.softmin(x, 0), lambda x: TF.softmin(x, 0)),
]

DTYPES = [np.float64, np.float32]


def _inputs(dtype):
    """Values of every magnitude, including the kinks (0, thresholds) and big ones."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 7)) * 3
    x[0, :7] = [0.0, -0.5, 2.0, 6.0, 1.5, -1.0, 1.0]  # kinks: relu, hardtanh, relu6, softplus
    x[1, :4] = [25.0, -25.0, 12.0, -12.0]  # linear regimes, exp overflow regions
    return x.astype(dtype)


def _check(our_fn, their_fn, x):
    xo = deepgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = our_fn(xo), their_fn(xt)
    assert yo.dtype == xo.dtype
    tol = {"rtol": 1e-5, "atol": 1e-6} if x.dtype == np.float32 else {}
    assert_close(yo, yt.detach(), **tol)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xo.grad, xt.grad, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ours,theirs", MODULES, ids=[m[0] for m in MODULES])
def test_activation_module_matches_torch(name, ours, theirs, dtype):
    _check(ours(), theirs(), _inputs(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ours,theirs", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_activation_function_matches_torch(name, ours, theirs, dtype):
    _check(ours, theirs, _inputs(dtype))


# ---------------------------------------------------------------------------- gradcheck
GRADCHECK_OPS = [
    ("leaky_relu", lambda x: A.LeakyReLU.apply(x, negative_slope=0.1)),
    ("elu", lambda x: A.ELU.apply(x, alpha=0.7)),
    ("softplus", lambda x: A.Softplus.apply(x, beta=1.5, threshold=4.0)),
    ("softsign", lambda x: A.Softsign.apply(x)),
    ("gelu", lambda x: A.GELU.apply(x)),
    ("gelu_tanh", lambda x: A.GELU.apply(x, approximate="tanh")),
    ("silu", lambda x: A.SiLU.apply(x)),
    ("hardtanh", lambda x: A.Hardtanh.apply(x, min_val=-1.0, max_val=1.0)),
    ("step", lambda x: A.Step.apply(x)),  # zero, and so are the central differences off 0
]


@pytest.mark.parametrize("name,fn", GRADCHECK_OPS, ids=[g[0] for g in GRADCHECK_OPS])
def test_new_activation_ops_pass_gradcheck(name, fn):
    # away from the kinks, where central differences are well defined
    x = np.random.default_rng(2).uniform(-4, 4, (5, 4))
    x[np.abs(x) < 0.05] += 0.2
    x[np.abs(np.abs(x) - 1) < 0.05] += 0.2
    t = deepgrad.tensor(x, requires_grad=True)
    report = gradcheck(fn, (t,))
    assert report, str(report)


# ---------------------------------------------------------------------------- Step
def test_step_is_heaviside_with_zero_gradient():
    x = deepgrad.tensor([-2.0, -0.0, 0.0, 1e-6, 3.0], requires_grad=True)
    y = nn.Step()(x)
    expected = torch.heaviside(torch.tensor(x._data), torch.tensor(0.0))  # step(0) = 0
    assert_close(y, expected)
    y.sum().backward()
    assert np.array_equal(x.grad._data, np.zeros(5, np.float32))


def test_perceptron_on_step_gets_no_gradient():
    # the reason in Step's docstring, demonstrated: the weights never receive a signal
    perceptron = nn.Sequential(nn.Linear(2, 1), nn.Step())
    x = deepgrad.randn(8, 2)
    y = (x[:, :1] > 0).float()
    loss = nn.MSELoss()(perceptron(x), y)
    loss.backward()
    assert loss.item() > 0
    assert all(np.all(p.grad._data == 0) for p in perceptron.parameters())


# ---------------------------------------------------------------------------- erf, GELU
def test_erf_matches_math_erf_to_float64_precision():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-300, -40.0, 40.0, np.inf, -np.inf]])
    assert np.max(np.abs(erf(x) - np.array([math.erf(v) for v in x]))) < 1e-15
    ref = np.array([math.erfc(v) for v in x])
    rel = np.abs(erfc(x) - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 1e-13  # relative, so also in the far tail where erfc is tiny
    assert np.isnan(erf(np.array([np.nan])))[0]
    assert erf(np.array(0.3)).shape == () and np.isclose(erf(np.array(0.3)), math.erf(0.3))
    assert erfc(np.array([[-2.0], [1.0]])).shape == (2, 1)


def test_ndtr_in_float32_matches_torch():
    x = np.linspace(-12, 12, 1001).astype(np.float32)
    expected = torch.special.ndtr(torch.tensor(x)).numpy()
    assert ndtr(x).dtype == np.float32
    np.testing.assert_allclose(ndtr(x), expected, rtol=1e-6, atol=1e-7)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="tanh"):
        F.gelu(deepgrad.randn(2), approximate="fast")


# ---------------------------------------------------------------------------- softmax dim
def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="dim=1"):
        yo = nn.Softmax()(deepgrad.tensor(x))
    with pytest.warns(UserWarning):
        yt = torch.nn.Softmax()(torch.tensor(x))
    assert_close(yo, yt)


def test_softmax_rows_sum_to_one_for_large_logits():
    x = deepgrad.tensor([[1e4, -1e4, 0.0]])
    y = F.softmax(x, dim=1)
    assert np.all(np.isfinite(y._data)) and np.isclose(y._data.sum(), 1)
    assert np.all(np.isfinite(F.log_softmax(x, dim=1)._data))


def test_integer_input_becomes_float():
    x = deepgrad.tensor([-2, 0, 3])
    assert_close(F.elu(x), TF.elu(torch.tensor([-2, 0, 3]).float()))
    assert_close(nn.Sigmoid()(x), torch.sigmoid(torch.tensor([-2, 0, 3]).float()))
