"""check_model: back-propagated gradients of whole models against central differences.

The oracle is the finite-difference quotient itself: a model whose ops are right passes, and a
custom op with a deliberately wrong backward is caught under the names of the parameters whose
gradients flow through it (and only those)."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from deepgrad.autograd import Op
from deepgrad.autograd.model_check import check_model


class WrongSquare(Op):
    """x**2 with the factor 2 forgotten in backward: d/dx x^2 = 2x, not x."""

    def forward(ctx, x):
        ctx.saved = (x,)
        return x * x

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x  # wrong on purpose


class RightSquare(WrongSquare):
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 2 * grad * x


class SquareNet(nn.Module):
    def __init__(self, square):
        super().__init__()
        self.inner = nn.Linear(3, 4)
        self.outer = nn.Linear(4, 1)
        self.square = square

    def forward(self, x):
        return self.outer(self.square.apply(self.inner(x)))


def test_catches_a_wrong_backward_inside_a_module():
    x, y = deepgrad.randn(6, 3), deepgrad.randn(6, 1)
    report = check_model(SquareNet(WrongSquare), F.mse_loss, x, y)
    assert not report and not report.passed
    # the wrong op sits between the layers: the inner layer's gradients pass through it
    assert [p.name for p in report.failed] == ["inner.weight", "inner.bias"]
    assert report["outer.weight"].passed and report["outer.bias"].passed
    # the gradient is off by a factor of 2 exactly, so the relative error is 1/2
    assert report["inner.weight"].max_rel_error == pytest.approx(0.5, rel=1e-4)
    assert "FAIL" in str(report) and "inner.weight" in str(report)
    with pytest.raises(AssertionError, match="inner.bias"):
        check_model(SquareNet(WrongSquare), F.mse_loss, x, y, raise_exception=True)
    # the same model with the right backward passes
    assert check_model(SquareNet(RightSquare), F.mse_loss, x, y)


def test_correct_mlp_passes_and_is_left_untouched():
    deepgrad.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )
    before = {n: p._data.copy() for n, p in model.named_parameters()}
    x, y = deepgrad.randn(10, 8), deepgrad.randint(0, 3, (10,))
    report = check_model(model, nn.CrossEntropyLoss(), x, y)
    assert report, str(report)
    assert [p.name for p in report.params] == list(before)
    assert all(p.checked == p.numel for p in report.params if p.numel <= 64)
    for n, p in model.named_parameters():  # the check works on a float64 copy
        assert p.dtype == deepgrad.float32 and p.grad is None
        np.testing.assert_array_equal(p._data, before[n])
    # the loss it reports is the float64 loss of the same model
    expected = F.cross_entropy(model.double()(x.double()), y).item()
    assert report.loss == pytest.approx(expected, rel=1e-12)


def test_large_parameters_are_sampled():
    model = nn.Sequential(nn.Linear(30, 20), nn.Sigmoid(), nn.Linear(20, 2))
    x, y = deepgrad.randn(4, 30), deepgrad.randn(4, 2)
    report = check_model(model, F.mse_loss, x, y, max_elements_per_param=10)
    assert [(p.checked, p.numel) for p in report.params] == [(10, 600), (10, 20), (10, 40), (2, 2)]
    assert report
    report = check_model(model, F.mse_loss, x, y, max_elements_per_param=None)
    assert [p.checked for p in report.params] == [600, 20, 40, 2]


def test_dropout_is_repeatable_and_frozen_parameters_are_listed():
    # dropout draws a new mask every forward pass; without the random state restored before
    # each pass the central differences would be noise and the check would fail
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
    model[0].bias.requires_grad_(False)
    x, y = deepgrad.randn(7, 5), deepgrad.randn(7, 1)
    report = check_model(model, F.mse_loss, x, y)
    assert report, str(report)
    assert report["0.bias"].frozen and "frozen" in str(report)


def test_leaves_the_callers_random_state_alone():
    model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    x, y = deepgrad.randn(7, 5), deepgrad.randn(7, 1)
    deepgrad.manual_seed(3)
    expected = deepgrad.rand(2)
    deepgrad.manual_seed(3)
    check_model(model, F.mse_loss, x, y)
    assert (deepgrad.rand(2) == expected).all()


def test_unused_parameter_has_zero_gradient():
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(2, 1)
            self.spare = nn.Linear(2, 1)

        def forward(self, x):
            return self.used(x)

    report = check_model(Unused(), F.mse_loss, deepgrad.randn(3, 2), deepgrad.randn(3, 1))
    assert report and report["spare.weight"].max_abs_error == 0


def test_loss_must_be_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        check_model(
            nn.Linear(2, 2), lambda out, y: out - y, deepgrad.randn(3, 2), deepgrad.randn(3, 2)
        )


@pytest.mark.skipif(not hasattr(nn, "Conv2d"), reason="nn.Conv2d not available yet")
def test_small_cnn_passes():
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3),
    )
    x, y = deepgrad.randn(2, 1, 8, 8), deepgrad.randint(0, 3, (2,))
    report = check_model(model, F.cross_entropy, x, y, max_elements_per_param=20)
    assert report, str(report)
    assert len(report.params) == 6
