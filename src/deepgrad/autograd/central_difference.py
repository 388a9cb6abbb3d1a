"""Central differences and the one way deepgrad compares them with back-propagation.

Used by ``gradcheck`` (a function of a few tensors) and ``check_model`` (a model's loss), so
both estimate derivatives and judge them by the same formulas:

    df/dx_j  ~=  (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)          error O(eps^2)

    an element passes when  |a_j - n_j| <= atol + rtol * |n_j|        (as torch.autograd.gradcheck)

    relative error  =  max_j |a_j - n_j| / max(max_j |a_j|, max_j |n_j|, tiny)

``a`` is the analytic (back-propagated) gradient and ``n`` the numerical one. The relative error
is one number per tensor, scaled by the largest gradient of that tensor rather than element by
element, so an element whose true derivative is zero (where any rounding noise would be an
"infinite" relative error) does not drown the report; ``tiny`` only keeps 0 / 0 at 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TINY = 1e-12


def central_difference(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-6, indices=None
) -> np.ndarray:
    """d f() / d x.flat[j] for each j in ``indices`` (all elements when None), in float64.

    ``f`` takes no arguments and reads ``x``: each element is perturbed in place (through
    ``x.flat``, so any memory layout works) and restored before the next one.
    """
    if indices is None:
        indices = range(x.size)
    numeric = np.empty(len(indices))
    for k, j in enumerate(indices):
        orig = x.flat[j]
        x.flat[j] = orig + eps
        plus = f()
        x.flat[j] = orig - eps
        minus = f()
        x.flat[j] = orig
        numeric[k] = (plus - minus) / (2 * eps)
    return numeric


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max|a - n| / max(max|a|, max|n|, TINY)`` (see the module docstring)."""
    a, n = np.abs(analytic), np.abs(numeric)
    scale = max(float(a.max(initial=0.0)), float(n.max(initial=0.0)), TINY)
    return float(np.abs(analytic - numeric).max(initial=0.0)) / scale


def compare(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float):
    """``(max absolute error, relative error, passed)`` of one tensor's gradient."""
    err = np.abs(analytic - numeric)
    passed = bool(np.all(err <= atol + rtol * np.abs(numeric)))
    return float(err.max(initial=0.0)), relative_error(analytic, numeric), passed
