"""The one central-difference routine (``autograd.central_difference``) against analytic
derivatives, and its one definition of relative error."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad.autograd.central_difference import (
    central_difference,
    compare,
    relative_error,
)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("f", "df"),
    [
        (lambda x: np.sum(np.sin(x)), np.cos),
        (lambda x: np.sum(np.exp(x)), np.exp),
        (lambda x: np.sum(x**3), lambda x: 3 * x**2),
        (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),
    ],
    ids=["sin", "exp", "cube", "logsumexp"],
)
def test_matches_analytic_derivatives(f, df):
    x = RNG.standard_normal((3, 4))
    numeric = central_difference(lambda: f(x), x).reshape(x.shape)
    # the truncation error of the central quotient is eps^2 f'''/6 (~1e-12); rounding adds
    # about 1e-16 / eps = 1e-10
    np.testing.assert_allclose(numeric, df(x), rtol=1e-7, atol=1e-9)


def test_error_shrinks_as_eps_squared():
    x = np.array([0.7])
    errors = [abs(central_difference(lambda: float(np.exp(x[0])), x, eps)[0] - np.exp(0.7))
              for eps in (1e-2, 1e-3)]  # fmt: skip
    assert errors[0] / errors[1] == pytest.approx(100, rel=0.01)


def test_perturbs_any_layout_and_restores_the_input():
    x = np.asfortranarray(RNG.standard_normal((3, 2))).T  # neither C- nor F-order view
    before = x.copy()
    w = RNG.standard_normal(x.shape)
    numeric = central_difference(lambda: float(np.sum(w * x)), x)
    np.testing.assert_allclose(numeric, w.reshape(-1), rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_only_the_requested_indices():
    x = RNG.standard_normal(10)
    numeric = central_difference(lambda: float(np.sum(x**2)), x, indices=[7, 2])
    np.testing.assert_allclose(numeric, 2 * x[[7, 2]], rtol=1e-7)


def test_relative_error_is_scaled_by_the_largest_gradient():
    analytic, numeric = np.array([1.0, 0.0, 4.0]), np.array([1.0, 1e-9, 2.0])
    assert relative_error(analytic, numeric) == pytest.approx(2.0 / 4.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    max_abs, rel, passed = compare(analytic, numeric, atol=1e-5, rtol=1e-3)
    assert (max_abs, rel, passed) == (2.0, 0.5, False)
    assert compare(numeric * (1 + 1e-6), numeric, atol=1e-5, rtol=1e-3)[2]
