"""nn.utils: gradient clipping against PyTorch; L1/L2 penalties against the course's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
from conftest import assert_close


def _pair_with_grads(scale=1.0):
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    ours = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32) * scale
    (ours(deepgrad.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair_with_grads()
    total_o = nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    assert_close(total_o, total_t, rtol=1e-5)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-5)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = nn.Parameter(deepgrad.tensor([3.0, 4.0]))
    p.grad = deepgrad.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_(p, max_norm=1.0)
    assert np.isclose(total.item(), 5.0)
    np.testing.assert_allclose(p.grad._data, [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(deepgrad.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(deepgrad.zeros(2))
    p.grad = deepgrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = _pair_with_grads(scale=3.0)
    nn.utils.clip_grad_value_(ours.parameters(), 0.5)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.5)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad)
        assert np.abs(p.grad._data).max() <= 0.5


def _course_penalties(model):
    """Omega from the course (seed 002): sums over weight matrices only, not biases."""
    weights = [m.weight._data.astype(np.float64) for m in model if isinstance(m, nn.Linear)]
    return sum(np.abs(w).sum() for w in weights), sum((w**2).sum() for w in weights)


def test_penalties_cover_weights_only_by_default():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    l1, l2 = _course_penalties(model)
    assert np.isclose(nn.utils.l1_penalty(model).item(), l1, rtol=1e-6)
    assert np.isclose(nn.utils.l2_penalty(model).item(), l2, rtol=1e-6)
    every = [p._data.astype(np.float64) for p in model.parameters()]
    assert np.isclose(
        nn.utils.l1_penalty(model, include_bias=True).item(),
        sum(np.abs(p).sum() for p in every), rtol=1e-6,
    )  # fmt: skip
    assert np.isclose(
        nn.utils.l2_penalty(model.parameters(), include_bias=True).item(),
        sum((p**2).sum() for p in every), rtol=1e-6,
    )  # fmt: skip


def test_penalty_gradients_match_torch():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    lam1, lam2 = 0.01, 0.1
    loss_o = ours(deepgrad.tensor(x)).pow(2).mean()
    loss_o = loss_o + lam1 * nn.utils.l1_penalty(ours) + lam2 * nn.utils.l2_penalty(ours)
    loss_t = theirs(torch.tensor(x)).pow(2).mean()
    weights = [p for p in theirs.parameters() if p.ndim > 1]
    loss_t = loss_t + lam1 * sum(w.abs().sum() for w in weights)
    loss_t = loss_t + lam2 * sum((w**2).sum() for w in weights)
    loss_o.backward()
    loss_t.backward()
    assert_close(loss_o, loss_t.detach())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad)


def test_l2_penalty_equals_sgd_weight_decay_of_twice_lambda():
    # the docstring's claim: grad of lam * l2_penalty == weight_decay 2 lam on the weights
    lin = nn.Linear(3, 2)
    lam = 0.05
    (lam * nn.utils.l2_penalty(lin)).backward()
    np.testing.assert_allclose(lin.weight.grad._data, 2 * lam * lin.weight._data, rtol=1e-6)
    assert lin.bias.grad is None


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    model.load_state_dict(tmodel.state_dict())
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert_close(vec.detach(), torch.nn.utils.parameters_to_vector(tmodel.parameters()).detach())
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert all(np.all(p._data == 1) for p in model.parameters())
