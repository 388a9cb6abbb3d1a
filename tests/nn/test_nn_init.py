"""nn.init: gains and fans equal PyTorch's; the distributions match PyTorch's statistically."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn

TI = torch.nn.init


@pytest.mark.parametrize(
    "args",
    [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
     ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu",)],
)  # fmt: skip
def test_calculate_gain_matches_torch(args):
    assert nn.init.calculate_gain(*args) == pytest.approx(TI.calculate_gain(*args))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (5, 3, 2, 2), (2, 6, 7)])
def test_fans_match_torch(shape):
    ours = nn.init._calculate_fan_in_and_fan_out(deepgrad.empty(*shape))
    assert ours == TI._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(deepgrad.empty(5))
    with pytest.raises(ValueError):
        TI.xavier_uniform_(torch.empty(5))


SHAPE = (300, 200)

# (our call, torch call): same arguments; compared by range, mean and standard deviation
INITS = [
    ("uniform", lambda t: nn.init.uniform_(t, -0.3, 0.7), lambda t: TI.uniform_(t, -0.3, 0.7)),
    ("normal", lambda t: nn.init.normal_(t, 0.5, 2.0), lambda t: TI.normal_(t, 0.5, 2.0)),
    ("xavier_uniform", lambda t: nn.init.xavier_uniform_(t, gain=2.0),
     lambda t: TI.xavier_uniform_(t, gain=2.0)),
    ("xavier_normal", lambda t: nn.init.xavier_normal_(t), lambda t: TI.xavier_normal_(t)),
    ("kaiming_uniform", lambda t: nn.init.kaiming_uniform_(t),
     lambda t: TI.kaiming_uniform_(t)),
    ("kaiming_uniform_relu_fan_out",
     lambda t: nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     lambda t: TI.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")),
    ("kaiming_uniform_sqrt5", lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
     lambda t: TI.kaiming_uniform_(t, a=math.sqrt(5))),
    ("kaiming_normal", lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"),
     lambda t: TI.kaiming_normal_(t, nonlinearity="relu")),
    ("kaiming_normal_fan_out", lambda t: nn.init.kaiming_normal_(t, a=0.1, mode="fan_out"),
     lambda t: TI.kaiming_normal_(t, a=0.1, mode="fan_out")),
    ("trunc_normal", lambda t: nn.init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5),
     lambda t: TI.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5)),
]  # fmt: skip


@pytest.mark.parametrize("name,ours,theirs", INITS, ids=[i[0] for i in INITS])
def test_init_distribution_matches_torch(name, ours, theirs):
    a = nn.Parameter(deepgrad.empty(*SHAPE))
    out = ours(a)
    assert out is a and a.requires_grad and a.is_leaf and a.dtype == deepgrad.float32
    b = theirs(torch.empty(*SHAPE)).numpy()
    x = a._data
    spread = b.std()
    assert abs(x.mean() - b.mean()) < 0.02 * spread + 1e-3
    assert abs(x.std() - spread) < 0.02 * spread
    if "uniform" in name or "trunc" in name:  # same support
        assert x.min() >= b.min() - 0.01 * spread and x.max() <= b.max() + 0.01 * spread
        assert abs(x.min() - b.min()) < 0.01 * spread and abs(x.max() - b.max()) < 0.01 * spread


def test_constant_zeros_ones_eye_orthogonal():
    t = deepgrad.empty(3, 4)
    assert np.all(nn.init.constant_(t, 0.25)._data == 0.25)
    assert np.all(nn.init.zeros_(t)._data == 0)
    assert np.all(nn.init.ones_(t)._data == 1)
    np.testing.assert_array_equal(nn.init.eye_(t)._data, TI.eye_(torch.empty(3, 4)).numpy())
    q = nn.init.orthogonal_(deepgrad.empty(6, 4).double())._data
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-12)


def test_init_is_reproducible_with_seed():
    deepgrad.manual_seed(5)
    a = nn.init.kaiming_normal_(deepgrad.empty(4, 4))._data.copy()
    deepgrad.manual_seed(5)
    assert np.array_equal(nn.init.kaiming_normal_(deepgrad.empty(4, 4))._data, a)
    g = deepgrad.Generator().manual_seed(5)
    assert np.array_equal(nn.init.kaiming_normal_(deepgrad.empty(4, 4), generator=g)._data, a)
