"""The 2-D toy data sets of the TensorFlow Playground (playground.tensorflow.org) and the course.

Every generator is ``fn(n, noise=0.0, seed=None) -> (X, y)`` with ``X`` a float32 tensor
``n x 2``. Classification sets give int64 labels ``y`` of shape ``(n,)`` (for
``CrossEntropyLoss``); regression sets give float32 targets of shape ``(n, 1)``, the shape of a
``Linear(..., 1)`` output, so ``MSELoss`` sees equal shapes.

Definitions follow the Playground's ``dataset.ts`` (coordinates on its scale, about [-6, 6];
``noise`` is its noise slider divided by 100, so 0 to 0.5). The Playground labels points +1
and -1; here +1 is class 1 and -1 is class 0:

- ``circle``: half the points in a disc of radius 2.5 (class 1), half in a ring with radius
  3.5 to 5 (class 0); the label is that of the noisy point ``p + noise * U(-5, 5)^2``.
- ``xor``: uniform in [-5, 5]^2, pushed 0.3 away from the axes; class 1 where
  ``x1 * x2 >= 0`` (first and third quadrant), i.e. ``y = (sign(x1 x2) + 1) / 2``, judged on
  the noisy point ``p + noise * U(-5, 5)^2``.
- ``gauss``: two Gaussian blobs centred at (2, 2) (class 1) and (-2, -2) (class 0) with
  variance ``0.5 + 7 * noise`` per coordinate.
- ``spiral``: ``n_classes`` interleaved arms; point ``i`` of ``m`` of class ``c`` has radius
  ``5 i / m`` and angle ``1.75 * 2 pi i / m + pi (1 + 2 c / K)``, plus ``noise * U(-1, 1)``
  on each coordinate. With 2 classes these are the Playground's two spirals and labels.
- ``moons``: scikit-learn's ``make_moons`` (not in the Playground): two interleaving half
  circles, class 0 the upper one; ``noise`` is the standard deviation of added Gaussian
  noise and the scale is about [-1, 2].
- ``plane`` (regression): uniform in [-6, 6]^2, target ``(x1 + x2) / 10`` of the noisy point
  ``p + noise * U(-6, 6)^2``.
- ``multi_gauss`` (regression): uniform in [-6, 6]^2; six bumps at (+-4 or 0, +-2.5) with
  alternating signs; the target is the bump value ``sign * max(0, 1 - d / 2)`` (``d`` the
  distance to its centre) that is largest in absolute value, for the noisy point.

The classification sets are shuffled (the Playground lists them class by class), so a split
by slicing is fair. Randomness comes from ``seed`` (a local NumPy generator) or, when ``seed``
is None, from deepgrad's global generator, so ``deepgrad.manual_seed(s)`` reproduces them.
"""

from __future__ import annotations

import numpy as np

from deepgrad.random import Generator
from deepgrad.random import rng as _global_rng
from deepgrad.tensor import Tensor, _wrap


def _rng(seed) -> np.random.Generator:
    if seed is None:
        return _global_rng()
    if isinstance(seed, Generator):
        return seed.rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check(name: str, n, noise) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{name}: n must be a positive number of points, got {n!r}")
    if noise < 0:
        raise ValueError(f"{name}: noise must be >= 0, got {noise}")


def _classification(x: np.ndarray, y: np.ndarray, g: np.random.Generator, shuffle=True):
    if shuffle:
        perm = g.permutation(len(y))
        x, y = x[perm], y[perm]
    return _wrap(np.ascontiguousarray(x, dtype=np.float32)), _wrap(y.astype(np.int64))


def _regression(x: np.ndarray, t: np.ndarray):
    return _wrap(x.astype(np.float32)), _wrap(t.astype(np.float32).reshape(-1, 1))


def _halves(n: int) -> tuple[int, int]:
    return (n + 1) // 2, n // 2


def circle(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """Playground "Circle": class 1 inside radius 2.5, class 0 in the ring 3.5..5."""
    _check("circle", n, noise)
    g = _rng(seed)
    n_in, n_out = _halves(n)
    r = np.concatenate([g.uniform(0, 2.5, n_in), g.uniform(3.5, 5.0, n_out)])
    angle = g.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = x + g.uniform(-5, 5, (n, 2)) * noise
    y = np.hypot(noisy[:, 0], noisy[:, 1]) < 2.5
    return _classification(x, y, g)


def xor(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """Playground "Exclusive or": class 1 where ``x1 * x2 >= 0`` (quadrants I and III)."""
    _check("xor", n, noise)
    g = _rng(seed)
    x = g.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # the Playground's padding away from the axes
    noisy = x + g.uniform(-5, 5, (n, 2)) * noise
    y = noisy[:, 0] * noisy[:, 1] >= 0
    return _classification(x, y, g, shuffle=False)


def gauss(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """Playground "Gaussian": blobs at (2, 2) (class 1) and (-2, -2), variance 0.5 + 7 noise."""
    _check("gauss", n, noise)
    g = _rng(seed)
    n1, n0 = _halves(n)
    std = np.sqrt(0.5 + 7.0 * noise)  # Playground: variance scale [0, 0.5] -> [0.5, 4]
    x = np.concatenate([g.normal(2.0, std, (n1, 2)), g.normal(-2.0, std, (n0, 2))])
    y = np.concatenate([np.ones(n1, bool), np.zeros(n0, bool)])
    return _classification(x, y, g)


def spiral(
    n: int = 500, noise: float = 0.0, seed=None, n_classes: int = 2
) -> tuple[Tensor, Tensor]:
    """Playground "Spiral", generalised to ``n_classes`` arms (2 to 5 are sensible)."""
    _check("spiral", n, noise)
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"spiral: n_classes must be an integer >= 2, got {n_classes!r}")
    g = _rng(seed)
    xs, ys = [], []
    for c in range(n_classes):
        m = n // n_classes + (c < n % n_classes)
        i = np.arange(m)
        r = i / m * 5
        t = 1.75 * i / m * 2 * np.pi + np.pi * (1 + 2 * c / n_classes)
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        xs.append(pts + g.uniform(-1, 1, (m, 2)) * noise)
        ys.append(np.full(m, c))
    return _classification(np.concatenate(xs), np.concatenate(ys), g)


def moons(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """scikit-learn's two moons: class 0 ``(cos t, sin t)``, class 1 ``(1 - cos t, 0.5 - sin t)``
    for ``t`` evenly spaced in [0, pi], plus Gaussian noise of standard deviation ``noise``."""
    _check("moons", n, noise)
    g = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    if noise:
        x = x + g.normal(0.0, noise, x.shape)
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _classification(x, y, g)


def plane(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """Playground "Plane" regression: target ``(x1 + x2) / 10`` of the noisy point."""
    _check("plane", n, noise)
    g = _rng(seed)
    x = g.uniform(-6, 6, (n, 2))
    noisy = x + g.uniform(-6, 6, (n, 2)) * noise
    return _regression(x, (noisy[:, 0] + noisy[:, 1]) / 10)


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def multi_gauss(n: int = 500, noise: float = 0.0, seed=None) -> tuple[Tensor, Tensor]:
    """Playground "Multi Gaussian" regression: six signed bumps, the strongest one wins."""
    _check("multi_gauss", n, noise)
    g = _rng(seed)
    x = g.uniform(-6, 6, (n, 2))
    noisy = x + g.uniform(-6, 6, (n, 2)) * noise
    d = np.hypot(noisy[:, None, 0] - _BUMPS[:, 0], noisy[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1 - d / 2, 0, 1)  # n x 6
    pick = np.argmax(np.abs(values), axis=1)  # the first of equals, as the Playground's loop
    return _regression(x, values[np.arange(n), pick])


TOY_DATASETS = {
    "circle": (circle, "classification", 2),
    "xor": (xor, "classification", 2),
    "gauss": (gauss, "classification", 2),
    "spiral": (spiral, "classification", 2),
    "moons": (moons, "classification", 2),
    "plane": (plane, "regression", 1),
    "multi_gauss": (multi_gauss, "regression", 1),
}
"""Name -> (generator, task, number of classes or outputs) for the CLI and the playground."""
