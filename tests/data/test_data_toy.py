"""The 2-D toy sets: shapes, dtypes, balance, reproducibility and the Playground's geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

import deepgrad
from deepgrad.data import TOY_DATASETS, circle, gauss, moons, multi_gauss, plane, spiral, xor

CLASSIFIERS = [circle, xor, gauss, spiral, moons]
REGRESSORS = [plane, multi_gauss]


def _np(t):
    return np.asarray(t.numpy())


@pytest.mark.parametrize("fn", CLASSIFIERS + REGRESSORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [1, 7, 200])
def test_shapes_and_dtypes(fn, n):
    x, y = fn(n, noise=0.1, seed=0)
    assert tuple(x.shape) == (n, 2) and x.dtype == deepgrad.float32
    if fn in CLASSIFIERS:
        assert tuple(y.shape) == (n,) and y.dtype == deepgrad.int64
    else:
        assert tuple(y.shape) == (n, 1) and y.dtype == deepgrad.float32
    assert np.isfinite(_np(x)).all() and np.isfinite(_np(y)).all()


@pytest.mark.parametrize("fn", CLASSIFIERS + REGRESSORS, ids=lambda f: f.__name__)
def test_reproducible_with_seed_and_manual_seed(fn):
    a, b = fn(50, noise=0.2, seed=3), fn(50, noise=0.2, seed=3)
    c = fn(50, noise=0.2, seed=4)
    np.testing.assert_array_equal(_np(a[0]), _np(b[0]))
    np.testing.assert_array_equal(_np(a[1]), _np(b[1]))
    assert not np.array_equal(_np(a[0]), _np(c[0]))
    deepgrad.manual_seed(10)
    d = fn(50, noise=0.2)
    e = fn(50, noise=0.2)  # the global generator moved on
    deepgrad.manual_seed(10)
    f = fn(50, noise=0.2)
    np.testing.assert_array_equal(_np(d[0]), _np(f[0]))
    np.testing.assert_array_equal(_np(d[1]), _np(f[1]))
    assert not np.array_equal(_np(d[0]), _np(e[0]))


@pytest.mark.parametrize("fn", [circle, gauss, spiral, moons], ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [100, 101])
def test_class_balance(fn, n):
    _, y = fn(n, seed=1)
    counts = np.bincount(_np(y), minlength=2)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_xor_balance_is_about_even():
    _, y = xor(4000, seed=2)
    assert abs(_np(y).mean() - 0.5) < 0.03


def test_spiral_n_classes():
    for k in (2, 3, 4, 5):
        x, y = spiral(10 * k + 1, seed=0, n_classes=k)
        counts = np.bincount(_np(y))
        assert len(counts) == k and counts.max() - counts.min() <= 1
    with pytest.raises(ValueError, match="n_classes"):
        spiral(10, n_classes=1)


def test_classification_sets_are_shuffled():
    for fn in (circle, gauss, spiral, moons):
        _, y = fn(200, seed=0)
        first = _np(y)[:100]
        assert 0 < first.mean() < 1, fn.__name__  # not one class first, then the other


# ------------------------------------------------------------------ geometry
def test_circle_label_is_the_radius_without_noise():
    x, y = circle(1000, seed=0)
    r = np.hypot(*_np(x).T)
    y = _np(y)
    assert (r[y == 1] <= 2.5).all() and (r[y == 0] >= 3.5).all() and (r <= 5 + 1e-5).all()
    # with noise the label is that of a jittered point: mostly, not always, the radius
    xn, yn = circle(2000, noise=0.2, seed=0)
    agree = ((np.hypot(*_np(xn).T) < 3) == (_np(yn) == 1)).mean()
    assert 0.6 < agree < 1.0


def test_xor_label_is_the_sign_of_the_product_without_noise():
    x, y = xor(1000, seed=0)
    x = _np(x)
    np.testing.assert_array_equal(_np(y), (np.sign(x[:, 0] * x[:, 1]) > 0).astype(np.int64))
    assert (np.abs(x) >= 0.3 - 1e-6).all() and (np.abs(x) <= 5.3 + 1e-6).all()
    xn, yn = xor(2000, noise=0.3, seed=0)
    xn = _np(xn)
    agree = ((xn[:, 0] * xn[:, 1] >= 0) == (_np(yn) == 1)).mean()
    assert 0.6 < agree < 1.0


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_gauss_centres_and_spread(noise):
    x, y = gauss(20000, noise=noise, seed=0)
    x, y = _np(x), _np(y)
    sd = math.sqrt(0.5 + 7 * noise)  # the Playground's variance scale [0, .5] -> [.5, 4]
    np.testing.assert_allclose(x[y == 1].mean(0), [2, 2], atol=0.06 * sd)
    np.testing.assert_allclose(x[y == 0].mean(0), [-2, -2], atol=0.06 * sd)
    np.testing.assert_allclose(x[y == 1].std(0), [sd, sd], rtol=0.03)


def test_spiral_arms_follow_the_playground_formula():
    n = 200
    x, y = spiral(n, seed=0)
    x, y = _np(x).astype(np.float64), _np(y)
    for c, offset in ((1, 0.0), (0, math.pi)):  # Playground: +1 at deltaT 0, -1 at deltaT pi
        pts = x[y == c]
        r = np.hypot(pts[:, 0], pts[:, 1])
        order = np.argsort(r)
        i = np.arange(n // 2)
        expected_r = i / (n // 2) * 5
        np.testing.assert_allclose(r[order], expected_r, atol=1e-5)
        t = 1.75 * i / (n // 2) * 2 * math.pi + offset
        np.testing.assert_allclose(pts[order, 0], expected_r * np.sin(t), atol=1e-5)
        np.testing.assert_allclose(pts[order, 1], expected_r * np.cos(t), atol=1e-5)


def test_moons_lie_on_sklearn_half_circles():
    x, y = moons(101, seed=0)
    x, y = _np(x).astype(np.float64), _np(y)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()
    xn, yn = moons(4000, noise=0.1, seed=0)
    noisy_upper = _np(xn)[_np(yn) == 0].astype(np.float64)
    # Gaussian noise of std 0.1 per coordinate moves points about 0.1 off the circle
    spread = np.hypot(noisy_upper[:, 0], noisy_upper[:, 1]) - 1
    assert 0.08 < spread.std() < 0.12


def test_plane_target_without_noise():
    x, t = plane(300, seed=0)
    x = _np(x).astype(np.float64)
    np.testing.assert_allclose(_np(t)[:, 0], (x[:, 0] + x[:, 1]) / 10, atol=1e-6)
    assert (np.abs(x) <= 6).all()


def _playground_multi_gauss_label(px, py):
    """A transcription of the Playground's ``regressGaussian`` getLabel loop."""
    gaussians = [
        (-4, 2.5, 1),
        (0, 2.5, -1),
        (4, 2.5, 1),
        (-4, -2.5, -1),
        (0, -2.5, 1),
        (4, -2.5, -1),
    ]
    label = 0.0
    for cx, cy, sign in gaussians:
        d = math.hypot(px - cx, py - cy)
        scaled = min(max(1 - d / 2, 0.0), 1.0)  # d3 linear [0, 2] -> [1, 0], clamped
        new = sign * scaled
        if abs(new) > abs(label):
            label = new
    return label


def test_multi_gauss_matches_the_playground_loop():
    x, t = multi_gauss(400, seed=0)
    x = _np(x).astype(np.float64)
    expected = [_playground_multi_gauss_label(a, b) for a, b in x]
    np.testing.assert_allclose(_np(t)[:, 0], expected, atol=1e-6)
    assert (np.abs(_np(t)) <= 1).all() and (_np(t) > 0.5).any() and (_np(t) < -0.5).any()


def test_bad_arguments():
    for fn in CLASSIFIERS + REGRESSORS:
        with pytest.raises(ValueError, match=fn.__name__):
            fn(0)
        with pytest.raises(ValueError, match="noise"):
            fn(10, noise=-1)


def test_registry_lists_every_set():
    assert set(TOY_DATASETS) == {f.__name__ for f in CLASSIFIERS + REGRESSORS}
    for name, (fn, task, _) in TOY_DATASETS.items():
        assert fn.__name__ == name
        assert (task == "regression") == (fn in REGRESSORS)
