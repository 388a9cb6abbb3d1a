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

Both checks also share their default step and tolerances (``EPS``, ``ATOL``, ``RTOL``) and what
their reports have in common (``CheckReport``: the verdict and the first line).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TINY = 1e-12
#: The default step and tolerances of both checks (those of ``torch.autograd.gradcheck``).
EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


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


class CheckReport:
    """What the reports of ``gradcheck`` and ``check_model`` share: one result per checked
    tensor (each with ``passed``), the step and tolerances, and truthiness when all passed."""

    eps: float
    atol: float
    rtol: float

    def results(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results())

    @property
    def failed(self) -> list:
        """The results whose gradients disagree with central differences."""
        return [r for r in self.results() if not r.passed]

    def __bool__(self) -> bool:
        return self.passed

    def title(self, name: str, *more: str) -> str:
        """The report's first line: which check, in float64, with which step and tolerances."""
        settings = [f"eps={self.eps:g}", f"atol={self.atol:g}", f"rtol={self.rtol:g}", *more]
        return f"{name} (float64, {', '.join(settings)})"
