"""F.smooth_l1_loss, F.huber_loss (and their modules) and optim.Adadelta against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as dnn
import deepgrad.nn.functional as dF

# differences on both sides of the thresholds (0.5, 1, 2), and exactly on them
X = np.array([[0.0, 0.3, -0.5, 1.0], [2.5, -1.7, 0.99, -3.0]])
Y = np.array([[0.0, 0.0, 0.0, 0.0], [0.5, 0.3, 0.0, 0.0]])


def _run(fn_d, fn_t):
    xd, xt = deepgrad.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out_d, out_t = fn_d(xd, deepgrad.tensor(Y)), fn_t(xt, torch.tensor(Y))
    np.testing.assert_allclose(out_d._data, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.arange(out_t.numel(), dtype=np.float64).reshape(out_t.shape) + 1
    (out_d * deepgrad.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xd.grad._data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_smooth_l1_loss(reduction, beta):
    _run(
        lambda x, y: dF.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
    )
    _run(
        dnn.SmoothL1Loss(reduction=reduction, beta=beta),
        torch.nn.SmoothL1Loss(reduction=reduction, beta=beta),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_loss(reduction, delta):
    _run(
        lambda x, y: dF.huber_loss(x, y, reduction=reduction, delta=delta),
        lambda x, y: torch.nn.functional.huber_loss(x, y, reduction=reduction, delta=delta),
    )
    _run(
        dnn.HuberLoss(reduction=reduction, delta=delta),
        torch.nn.HuberLoss(reduction=reduction, delta=delta),
    )


def test_invalid_thresholds_are_refused():
    x = deepgrad.zeros(2)
    with pytest.raises(RuntimeError, match="beta"):
        dF.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="delta"):
        dF.huber_loss(x, x, delta=0.0)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr": 0.5, "rho": 0.8}, {"weight_decay": 0.1, "eps": 1e-4}, {"maximize": True}],
)
def test_adadelta_follows_torch_for_50_steps(kwargs):
    rng = np.random.default_rng(3)
    w0, xs, ys = rng.standard_normal((3, 2)), rng.standard_normal((8, 3)), rng.standard_normal(8)
    wd = deepgrad.tensor(w0, requires_grad=True)
    wt = torch.tensor(w0, requires_grad=True)
    od, ot = deepgrad.optim.Adadelta([wd], **kwargs), torch.optim.Adadelta([wt], **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for _ in range(50):
        for w, opt, lib in ((wd, od, deepgrad), (wt, ot, torch)):
            opt.zero_grad()
            pred = (lib.tensor(xs) @ w).tanh().sum(1)
            (sign * ((pred - lib.tensor(ys)) ** 2).mean()).backward()
            opt.step()
        np.testing.assert_allclose(wd._data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)
    sd, st = od.state[wd], ot.state[wt]
    np.testing.assert_allclose(sd["square_avg"]._data, st["square_avg"].numpy(), rtol=1e-10)
    np.testing.assert_allclose(sd["acc_delta"]._data, st["acc_delta"].numpy(), rtol=1e-10)
    assert sd["step"] == float(st["step"])


def test_adadelta_rejects_bad_hyperparameters():
    w = deepgrad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="rho"):
        deepgrad.optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError):
        deepgrad.optim.Adadelta([w], lr=-1.0)
