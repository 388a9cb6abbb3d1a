"""``deepgrad.distributions``: the four distributions in scope, as ``torch.distributions``.

``Normal``, ``Uniform``, ``Bernoulli`` and ``Multinomial``, with ``sample``, ``rsample``
(reparameterised, differentiable in the parameters; Normal and Uniform), ``log_prob``,
``entropy``, ``mean``, ``variance`` and ``stddev``. Every other ``torch.distributions`` name
raises ``NotImplementedError``: deepgrad leaves them out (see docs/COMPATIBILITY.md).

Deviation: arguments are not validated against the support (torch's ``validate_args``);
``log_prob`` outside the support gives ``-inf`` (Uniform) or whatever the formula gives.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from deepgrad.autograd.grad_mode import no_grad
from deepgrad.creation import bernoulli as _bernoulli
from deepgrad.creation import multinomial as _multinomial
from deepgrad.random import rng
from deepgrad.tensor import Tensor, _as_array, _wrap

__all__ = ["Bernoulli", "Distribution", "Multinomial", "Normal", "Uniform"]


def _param(x, like=None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    dt = like._data.dtype if isinstance(like, Tensor) and like._data.dtype.kind == "f" else None
    arr = _as_array(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(dt or np.float32)
    elif dt is not None:
        arr = arr.astype(dt)
    return _wrap(arr)


def _broadcast(a, b) -> tuple[Tensor, Tensor]:
    """A distribution's two parameters as tensors of one float dtype, expanded to one shape."""
    a = _param(a, b)
    b = _param(b, a)
    shape = np.broadcast_shapes(a.shape, b.shape)
    return a.expand(shape), b.expand(shape)


def _shape(sample_shape) -> tuple:
    return tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample`` from ``rsample`` under no_grad."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None) -> None:
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return _shape(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape).detach()

    def _noise(self, draw, sample_shape, like: Tensor) -> Tensor:
        """``draw(generator, shape)`` (a ``numpy.random.Generator`` method) for a sample of
        ``sample_shape``, in the dtype of the parameter ``like``: the randomness of rsample."""
        return _wrap(draw(rng(), self._extended_shape(sample_shape)).astype(like._data.dtype))

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised rsample")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}: {v if v.numel() == 1 else tuple(v.shape)}" for k, v in self._params().items()
        )
        return f"{type(self).__name__}({parts})"


class Normal(Distribution):
    """N(loc, scale^2): density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi))."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = _broadcast(loc, scale)
        super().__init__(self.loc.shape)

    def _params(self) -> dict:
        return {"loc": self.loc, "scale": self.scale}

    def rsample(self, sample_shape=()) -> Tensor:
        eps = self._noise(np.random.Generator.standard_normal, sample_shape, self.loc)
        return self.loc + eps * self.scale  # differentiable in loc and scale

    def log_prob(self, value) -> Tensor:
        value = _param(value, self.loc)
        var = self.scale**2
        return (
            -((value - self.loc) ** 2) / (2 * var)
            - self.scale.log()
            - math.log(math.sqrt(2 * math.pi))
        )

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value) -> Tensor:
        value = _param(value, self.loc)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self.scale**2

    @property
    def stddev(self) -> Tensor:
        return self.scale


class Uniform(Distribution):
    """Uniform on [low, high): density 1 / (high - low) inside, 0 outside."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None) -> None:
        self.low, self.high = _broadcast(low, high)
        super().__init__(self.low.shape)

    def _params(self) -> dict:
        return {"low": self.low, "high": self.high}

    def rsample(self, sample_shape=()) -> Tensor:
        u = self._noise(np.random.Generator.random, sample_shape, self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = _param(value, self.low)
        inside = (value >= self.low) & (value < self.high)
        log_inside = _wrap(np.log(inside._data.astype(self.low._data.dtype)))
        return log_inside - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = _param(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), stably: max(x, 0) + log(1 + e^-|x|)."""
    return x.clamp(min=0) + (1 + (-x.abs()).exp()).log()


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = _param(probs)
            eps = float(np.finfo(self.probs._data.dtype).eps)  # as torch's probs_to_logits
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        else:
            self.logits = _param(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape)

    def _params(self) -> dict:
        return {"probs": self.probs}

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return _bernoulli(self.probs.detach().expand(shape))

    def log_prob(self, value) -> Tensor:
        # -binary_cross_entropy_with_logits(logits, value): v l - softplus(l)
        value = _param(value, self.logits)
        return value * self.logits - _softplus(self.logits)

    def entropy(self) -> Tensor:
        return _softplus(self.logits) - self.probs * self.logits

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)


class Multinomial(Distribution):
    """Counts of ``total_count`` draws from categories with ``probs`` (or softmax(``logits``))."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if not isinstance(total_count, int):
            raise NotImplementedError("Multinomial: inhomogeneous total_count is not supported")
        self.total_count = total_count
        if probs is not None:
            p = _param(probs)
            self.probs = p / p.sum(-1, keepdim=True)
            self.logits = self.probs.log()
        else:
            self.logits = _param(logits).log_softmax(-1)
            self.probs = self.logits.exp()
        super().__init__(self.probs.shape[:-1], self.probs.shape[-1:])

    def _params(self) -> dict:
        return {"probs": self.probs}

    def sample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape)
        p = self.probs._data.reshape(-1, self.probs.shape[-1])
        n = int(np.prod(shape)) if shape else 1
        k = p.shape[-1]
        out = np.zeros((n, p.shape[0], k), dtype=self.probs._data.dtype)
        for row in range(p.shape[0]):
            draws = _multinomial(_wrap(p[row]), self.total_count * n, replacement=True)._data
            counts = np.zeros((n, k))
            np.add.at(counts, (np.repeat(np.arange(n), self.total_count), draws), 1)
            out[:, row] = counts
        return _wrap(out.reshape(shape + self.probs.shape))

    def log_prob(self, value) -> Tensor:
        """log(n! / prod v_i!) + sum v_i log p_i."""
        value = _param(value, self.logits)
        lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
        v = value._data
        log_factorial = lgamma(v.sum(-1) + 1) - lgamma(v + 1).sum(-1)
        logits = self.logits
        # 0 * log 0 is 0: categories never drawn do not count
        terms = value * logits.masked_fill((value == 0) & logits.isinf(), 0.0)
        return terms.sum(-1) + _wrap(log_factorial.astype(logits._data.dtype))

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)


def __getattr__(name: str):
    if name[:1].isupper() or name in ("kl_divergence", "register_kl", "constraints", "transforms"):
        raise NotImplementedError(
            f"torch.distributions.{name} is out of scope: deepgrad has Normal, Uniform, Bernoulli "
            "and Multinomial only (see docs/COMPATIBILITY.md)."
        )
    raise AttributeError(f"module 'deepgrad.distributions' has no attribute {name!r}")


# torch.distributions.<family>.<Class>: the module paths torch code spells (census, issue 14)
normal = uniform = bernoulli = multinomial = sys.modules[__name__]
