"""Whole-model gradient check: every parameter's back-propagated gradient against central
differences of the loss, in float64.

    dL/dθ_i  ~=  (L(θ + eps e_i) - L(θ - eps e_i)) / (2 eps)

(the quotient, pass rule and relative error of ``deepgrad.autograd.central_difference``, shared
with ``gradcheck``).

``gradcheck`` checks one function of a few tensors; ``check_model`` checks what a training step
uses, the gradient of ``loss_fn(model(inputs), targets)`` with respect to each parameter, so a
wrong backward anywhere inside a model (a custom op, a layer) shows up under the name of the
parameters it corrupts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from deepgrad.autograd import central_difference as differences
from deepgrad.autograd.grad_mode import enable_grad, no_grad
from deepgrad.utils.lookup import row_named


@dataclass
class ParamCheck:
    """How well one parameter's analytic gradient matches central differences."""

    name: str
    shape: tuple
    checked: int  # how many elements were compared (all, or a sample of a large parameter)
    numel: int
    max_abs_error: float
    max_rel_error: float
    passed: bool
    frozen: bool = False  # requires_grad=False: not checked


@dataclass
class ModelCheckReport(differences.CheckReport):
    """Per-parameter errors of :func:`check_model`; truthy when every parameter passed."""

    params: list = field(default_factory=list)
    loss: float = float("nan")
    eps: float = differences.EPS
    atol: float = differences.ATOL
    rtol: float = differences.RTOL

    def results(self) -> list:
        return self.params

    def __getitem__(self, name: str) -> ParamCheck:
        return row_named(self.params, name, attr="name", where="check_model", noun="parameter")

    def __str__(self) -> str:
        width = max([9, *(len(p.name) for p in self.params)])
        lines = [
            self.title("check_model", f"loss={self.loss:.6g}"),
            f"{'parameter':<{width}}  {'shape':<14}{'checked':>13}"
            f"{'max abs err':>13}{'max rel err':>13}  result",
        ]
        for p in self.params:
            checked = f"{p.checked}/{p.numel}"
            if p.frozen:
                result, abs_err, rel_err = "frozen", "-", "-"
            else:
                result = "ok" if p.passed else "FAIL"
                abs_err, rel_err = f"{p.max_abs_error:.3e}", f"{p.max_rel_error:.3e}"
            lines.append(
                f"{p.name:<{width}}  {str(p.shape):<14}{checked:>13}{abs_err:>13}{rel_err:>13}"
                f"  {result}"
            )
        verdict = "all gradients match" if self.passed else f"{len(self.failed)} parameter(s) FAIL"
        lines.append(verdict)
        return "\n".join(lines)

    __repr__ = __str__


def _to_float64(x):
    from deepgrad.tensor import Tensor, _wrap

    if isinstance(x, Tensor):
        if x._data.dtype.kind == "f":
            return _wrap(x._data.astype(np.float64))
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_float64(v) for v in x)
    if isinstance(x, dict):
        return {k: _to_float64(v) for k, v in x.items()}
    return x


def check_model(
    model,
    loss_fn,
    inputs,
    targets,
    eps: float = differences.EPS,
    atol: float = differences.ATOL,
    rtol: float = differences.RTOL,
    max_elements_per_param: int | None = 64,
    seed: int = 0,
    raise_exception: bool = False,
) -> ModelCheckReport:
    """Check the gradient of ``loss_fn(model(inputs), targets)`` for every parameter of
    ``model`` against central differences, in float64.

    The model is deep-copied and converted with ``.double()`` (the original is untouched), and
    floating inputs and targets are converted to float64: float32 central differences are too
    noisy to judge a gradient. ``inputs`` is a tensor, or a tuple passed as ``model(*inputs)``.

    An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` (as
    ``gradcheck``). The report lists, per parameter, the largest absolute error and the
    relative error ``max|a - n| / max(max|a|, max|n|)`` (``autograd.central_difference``).

    Large parameters are sampled: at most ``max_elements_per_param`` elements each (``None``
    checks all), always including the element with the largest analytic gradient, the rest
    drawn uniformly without replacement with ``seed``. Each element costs two forward passes.

    Randomness inside the model (dropout) is made repeatable by restoring deepgrad's random
    state before every forward pass; the caller's random state is restored at the end.
    Parameters with ``requires_grad=False`` are listed as frozen and not checked.

    Beyond PyTorch: PyTorch's ``gradcheck`` checks functions; it has no whole-model check.
    """
    from deepgrad import random as dg_random
    from deepgrad.tensor import Tensor

    m = copy.deepcopy(model)
    m.double()
    xs = _to_float64(inputs)
    ys = _to_float64(targets)
    args = tuple(xs) if isinstance(xs, (list, tuple)) else (xs,)
    state = dg_random.get_rng_state()

    def loss_value():
        dg_random.set_rng_state(state)
        loss = loss_fn(m(*args), ys)
        if not isinstance(loss, Tensor) or loss._data.size != 1:
            shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(
                f"check_model: loss_fn must return a scalar tensor, got {shape}; reduce it, "
                "e.g. with reduction='mean' or .mean()"
            )
        return loss

    report = ModelCheckReport(eps=eps, atol=atol, rtol=rtol)
    try:
        named = list(m.named_parameters())
        for _, p in named:
            p.grad = None
        with enable_grad():
            loss = loss_value()
            loss.backward()
        report.loss = float(loss._data)
        rng = np.random.default_rng(seed)
        for name, p in named:
            if not p.requires_grad:
                report.params.append(
                    ParamCheck(name, tuple(p.shape), 0, p._data.size, 0.0, 0.0, True, True)
                )
                continue
            analytic = (
                p.grad._data.reshape(-1).copy()
                if p.grad is not None
                else np.zeros(p._data.size)  # unused parameter: the gradient is zero
            )
            idx = _sample(analytic, max_elements_per_param, rng)
            with no_grad():
                numeric = differences.central_difference(
                    lambda: float(loss_value()._data), p._data, eps, indices=idx
                )
            max_abs, max_rel, passed = differences.compare(analytic[idx], numeric, atol, rtol)
            report.params.append(
                ParamCheck(
                    name,
                    tuple(p.shape),
                    len(idx),
                    p._data.size,
                    max_abs,
                    max_rel,
                    passed,
                )
            )
    finally:
        dg_random.set_rng_state(state)
    if raise_exception and not report.passed:
        raise AssertionError(str(report))
    return report


def _sample(grad: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    n = grad.size
    if limit is None or n <= limit:
        return np.arange(n)
    top = int(np.argmax(np.abs(grad)))
    rest = rng.choice(n - 1, size=limit - 1, replace=False)
    rest = rest + (rest >= top)  # skip `top` so it is not drawn twice
    return np.sort(np.concatenate([[top], rest]))
