"""The model zoo against the same networks written in PyTorch: same state_dict keys and
shapes, and, with PyTorch's weights loaded, the same outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn as tnn

import deepgrad
from deepgrad import models


def _torch_cnn():
    return tnn.Sequential(
        tnn.Conv2d(1, 16, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(1568, 10),
    )  # fmt: skip


def _torch_lenet5():
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10),
    )  # fmt: skip


CASES = {
    "logistic": (lambda: models.logistic(3),
                 lambda: tnn.Sequential(tnn.Flatten(), tnn.Linear(3, 1)), (5, 3)),
    "softmax": (models.softmax, lambda: tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 10)),
                (4, 1, 28, 28)),
    "mlp": (models.mlp, lambda: tnn.Sequential(
        tnn.Flatten(), tnn.Linear(784, 512), tnn.ReLU(), tnn.Linear(512, 256), tnn.ReLU(),
        tnn.Linear(256, 10)), (4, 784)),
    "mlp_tanh": (lambda: models.mlp(2, (8, 8), 3, "tanh"), lambda: tnn.Sequential(
        tnn.Flatten(), tnn.Linear(2, 8), tnn.Tanh(), tnn.Linear(8, 8), tnn.Tanh(),
        tnn.Linear(8, 3)), (6, 2)),
    "cnn": (models.cnn, _torch_cnn, (2, 1, 28, 28)),
    "lenet5": (models.lenet5, _torch_lenet5, (2, 1, 28, 28)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_zoo_matches_torch(name):
    ours_fn, theirs_fn, shape = CASES[name]
    ours, theirs = ours_fn(), theirs_fn()
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [tuple(v.shape) for v in ours_sd.values()] == [
        tuple(v.shape) for v in theirs_sd.values()
    ]
    ours.load_state_dict(theirs_sd)  # torch weights into deepgrad
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    with deepgrad.no_grad():
        out = ours(deepgrad.tensor(x))._data
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_course_mlp_parameter_count():
    # 784*512 + 512 + 512*256 + 256 + 256*10 + 10, the count of the course's network
    assert sum(p.numel() for p in models.mlp().parameters()) == 535_818


def test_get_model_and_activation_errors():
    assert isinstance(models.get_model("mlp", in_features=4, hidden=(), num_classes=3)[1],
                      deepgrad.nn.Linear)  # fmt: skip
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        models.get_model("resnet")
    with pytest.raises(ValueError, match="unknown activation 'swishy'.*relu"):
        models.mlp(activation="swishy")
    with pytest.raises(ValueError, match="hidden sizes must be positive"):
        models.mlp(hidden=(8, 0))
