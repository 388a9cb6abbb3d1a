"""Gradient checking: compare back-propagation with central differences, in float64.

    df/dx_i  ~=  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

The difference quotient, the pass rule and the relative error are those of
``deepgrad.autograd.central_difference``, shared with ``check_model``.

``gradcheck`` returns a report, not just a bool, so a learner sees *how far* an analytic
gradient is from the numerical one and for which input.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from deepgrad.autograd import central_difference as differences
from deepgrad.autograd.grad_mode import enable_grad, no_grad


@dataclass
class InputReport:
    """How well the analytic gradient of one input matches central differences."""

    index: int
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass
class GradcheckReport(differences.CheckReport):
    """Per-input errors; truthy when every input passed."""

    inputs: list = field(default_factory=list)
    eps: float = differences.EPS
    atol: float = differences.ATOL
    rtol: float = differences.RTOL

    def results(self) -> list:
        return self.inputs

    def __str__(self) -> str:
        lines = [self.title("gradcheck")]
        lines.append(f"{'input':>5}  {'shape':<16}{'max abs err':>12}{'max rel err':>13}  result")
        for r in self.inputs:
            lines.append(
                f"{r.index:>5}  {str(r.shape):<16}{r.max_abs_error:>12.3e}{r.max_rel_error:>13.3e}"
                f"  {'ok' if r.passed else 'FAIL'}"
            )
        return "\n".join(lines)


def gradcheck(
    fn,
    inputs,
    eps: float = differences.EPS,
    atol: float = differences.ATOL,
    rtol: float = differences.RTOL,
    raise_exception: bool = False,
) -> GradcheckReport:
    """Check ``fn``'s gradients with respect to every floating input that requires grad.

    ``fn`` takes the tensors in ``inputs`` and returns a tensor (any shape; a non-scalar output
    is contracted with a fixed random upstream gradient). Inputs are converted to float64 copies
    first (with a warning if they were not float64), because float32 central differences are too
    noisy to judge a gradient.
    """
    from deepgrad.tensor import Tensor, _wrap

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    converted = False
    xs = []
    for t in inputs:
        if isinstance(t, Tensor) and t._data.dtype.kind == "f":
            converted |= t._data.dtype != np.float64
            xs.append(_wrap(t._data.astype(np.float64), t.requires_grad))
        else:
            xs.append(t)
    if converted:
        warnings.warn("gradcheck converted its inputs to float64 copies", stacklevel=2)
    with enable_grad():
        out = fn(*xs)
    # a scalar output is checked as is; a larger one contracted with a fixed random direction
    rng = np.random.default_rng(0)
    upstream = np.ones(out.shape) if out._data.size == 1 else rng.standard_normal(out.shape)
    with enable_grad():
        out.backward(_wrap(upstream.astype(out._data.dtype)))

    def value() -> float:  # the output contracted with the upstream gradient
        with no_grad():
            return float(np.sum(upstream * fn(*xs)._data.astype(np.float64)))

    report = GradcheckReport(eps=eps, atol=atol, rtol=rtol)
    for i, x in enumerate(xs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numeric = differences.central_difference(value, x._data, eps).reshape(x.shape)
        analytic = x.grad._data if x.grad is not None else np.zeros_like(x._data)
        report.inputs.append(
            InputReport(i, tuple(x.shape), *differences.compare(analytic, numeric, atol, rtol))
        )
    if raise_exception and not report.passed:
        raise AssertionError(str(report))
    return report
