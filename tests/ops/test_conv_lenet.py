"""LeNet-style CNNs train for a few SGD-momentum steps with PyTorch's losses and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
from conftest import assert_close


def lenet(m):
    """conv-relu-pool-conv-relu-pool-flatten-linear, built from torch.nn or deepgrad.nn."""
    return m.Sequential(
        m.Conv2d(1, 6, 5, padding=2),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(6, 16, 5),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Flatten(),
        m.Linear(16 * 5 * 5, 10),
    )


def course_cnn(m):
    """The CNN of the speed benchmark (issue 4)."""
    return m.Sequential(
        m.Conv2d(1, 16, 5, padding=2),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(16, 32, 5, padding=2),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Flatten(),
        m.Linear(1568, 10),
    )


@pytest.mark.parametrize("build", [lenet, course_cnn])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cnn_trains_like_torch(build, dtype):
    torch.manual_seed(0)
    theirs = build(torch.nn).to(getattr(torch, dtype))
    ours = build(nn).to(getattr(deepgrad, dtype))
    ours.load_state_dict(theirs.state_dict())  # the same (copied) initial weights
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, 32)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    opt_o = deepgrad.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    loss_t, loss_o = torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    losses_t, losses_o = [], []
    for _ in range(6):  # six steps on one batch: the loss must go down
        opt_t.zero_grad()
        lt = loss_t(theirs(torch.tensor(x)), torch.tensor(y))
        lt.backward()
        opt_t.step()
        losses_t.append(lt.item())
        opt_o.zero_grad()
        lo = loss_o(ours(deepgrad.tensor(x)), deepgrad.tensor(y))
        lo.backward()
        opt_o.step()
        losses_o.append(lo.item())
    rtol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(losses_o, losses_t, rtol=rtol)
    assert losses_t[-1] < losses_t[0]  # it did learn something: the comparison is not vacuous
    for p, q in zip(ours.state_dict().values(), theirs.state_dict().values()):
        scale = float(q.abs().max())
        assert_close(p, q, rtol=rtol, atol=(1e-12 if dtype == "float64" else 1e-5) * scale)
