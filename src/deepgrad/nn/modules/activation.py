"""Activation functions as modules (``nn.ReLU()``, ...); each calls ``nn.functional``."""

from __future__ import annotations

from collections.abc import Callable

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.ops import elementwise as _E
from deepgrad.tensor import Tensor

_sigmoid = _E.Sigmoid.apply
_tanh = _E.Tanh.apply


class Step(Module):
    """Heaviside step, the perceptron's activation: 1 if x > 0, else 0 (deepgrad only).

    Why a perceptron built on it cannot be trained by gradient descent: the step is flat on
    both sides of 0, so d step / dx = 0 wherever the derivative exists (and it does not exist
    at 0). By the chain rule every gradient that flows back through it is multiplied by 0, so
    the weights before it get a zero gradient whatever the error is: gradient descent never
    moves. The classic perceptron learning rule (w <- w + lr (y - y_hat) x) is not a gradient
    step, and a smooth activation (sigmoid, tanh, ReLU) is what makes back-propagation work:
    the sigmoid is the differentiable version of this step.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.step(input)


class _InplaceActivation(Module):
    """An activation with PyTorch's ``inplace`` flag (accepted for compatibility and, but for
    ``ReLU``, ignored: a new tensor is returned) and numeric options (``_keep_options``) that it
    passes to ``_function`` in their order and prints as PyTorch does."""

    _function: Callable
    _options: tuple[str, ...] = ()

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _keep_options(self, **options: float) -> None:
        for name, value in options.items():
            setattr(self, name, value)
        self._options = tuple(options)

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, *(getattr(self, name) for name in self._options))

    def extra_repr(self) -> str:
        shown = [f"{name}={getattr(self, name)}" for name in self._options]
        return ", ".join(shown + (["inplace=True"] if self.inplace else []))


class ReLU(_InplaceActivation):
    """max(0, x). ``inplace=True`` writes the result into the input where no graph is
    recorded through it (see ``F.relu``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, input: Tensor) -> Tensor:
        return _sigmoid(input) if input._data.dtype.kind == "f" else F.sigmoid(input)


class Tanh(Module):
    """(e^x - e^-x) / (e^x + e^-x)."""

    def forward(self, input: Tensor) -> Tensor:
        return _tanh(input) if input._data.dtype.kind == "f" else F.tanh(input)


class LeakyReLU(_InplaceActivation):
    """x for x > 0, negative_slope * x otherwise (the course's max(0.1 x, x) is
    ``LeakyReLU(0.1)``)."""

    _function = staticmethod(F.leaky_relu)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self._keep_options(negative_slope=negative_slope)


class ELU(_InplaceActivation):
    """x for x > 0, alpha (e^x - 1) otherwise."""

    _function = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self._keep_options(alpha=alpha)


class Softplus(Module):
    """(1/beta) log(1 + exp(beta x)), a smooth ReLU; linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF (exact, through erf), or the tanh approximation
    with ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceActivation):
    """x sigmoid(x) (swish)."""

    _function = staticmethod(F.silu)


class Hardtanh(_InplaceActivation):
    """x clipped to [min_val, max_val]."""

    _function = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self._keep_options(min_val=min_val, max_val=max_val)


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:  # the bounds are fixed, so PyTorch does not print them
        return "inplace=True" if self.inplace else ""


class _SoftmaxBase(Module):
    _fn = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (use dim=1 for a batch of class scores).

    Not needed before ``CrossEntropyLoss``, which applies log-softmax itself; use it to turn
    a trained classifier's scores into probabilities.
    """


class LogSoftmax(_SoftmaxBase):
    """log softmax along ``dim``, computed stably in one op (pair it with ``NLLLoss``)."""

    _fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-x) along ``dim``."""

    _fn = staticmethod(F.softmin)
