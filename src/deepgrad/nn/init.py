"""``deepgrad.nn.init``: fill a tensor in place with a standard initial distribution.

Every function changes ``tensor`` in place (without recording a graph) and returns it, with
PyTorch's names, arguments and formulas. Fans of a weight of shape (out, in, *kernel) are
fan_in = in * prod(kernel) and fan_out = out * prod(kernel). Random numbers come from deepgrad's
generator (``deepgrad.manual_seed``) or the ``generator`` given.
"""

from __future__ import annotations

import math

import numpy as np

from deepgrad.device import device_of, move, on_cpu
from deepgrad.random import rng
from deepgrad.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, i.e. the factor that keeps the variance of
    activations stable through a layer followed by it:

    linear / conv / sigmoid: 1,  tanh: 5/3,  relu: sqrt(2),
    leaky_relu: sqrt(2 / (1 + negative_slope^2)) (slope ``param``, default 0.01),  selu: 3/4
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]  # fmt: skip
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    dims = tensor.ndim
    if dims < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)}); this initialisation is meant for weight "
            "matrices, not biases"
        )
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    if not on_cpu(tensor._data):  # values are drawn on the host: one copy to the GPU
        values = move(np.asarray(values), device_of(tensor._data))
    tensor._data[...] = values  # casts to the tensor's dtype; no graph is recorded
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(tensor, rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill with N(mean, std^2) restricted to [a, b] (redrawing the values outside)."""
    g = rng(generator)
    values = g.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = g.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def _zero_mean_fill_(tensor: Tensor, std: float, distribution: str, generator) -> Tensor:
    """Fill with zero-mean values of standard deviation ``std``: U(-b, b) with b = sqrt(3) std
    (a uniform on (-b, b) has standard deviation b / sqrt(3)), or N(0, std^2)."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        return uniform_(tensor, -bound, bound, generator)
    return normal_(tensor, 0.0, std, generator)


def _xavier(distribution: str, doc: str):
    """Glorot's initialisation in one flavour: std = gain sqrt(2 / (fan_in + fan_out))."""

    def init_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
        fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
        return _zero_mean_fill_(tensor, std, distribution, generator)

    init_.__name__ = init_.__qualname__ = f"xavier_{distribution}_"
    init_.__doc__ = doc
    return init_


def _kaiming(distribution: str, doc: str):
    """He's initialisation in one flavour: std = gain / sqrt(fan), gain =
    calculate_gain(nonlinearity, a), fan the fan_in or fan_out as ``mode`` says."""

    def init_(
        tensor: Tensor,
        a: float = 0,
        mode: str = "fan_in",
        nonlinearity: str = "leaky_relu",
        generator=None,
    ) -> Tensor:
        if 0 in tensor.shape:
            return tensor
        std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
        return _zero_mean_fill_(tensor, std, distribution, generator)

    init_.__name__ = init_.__qualname__ = f"kaiming_{distribution}_"
    init_.__doc__ = doc
    return init_


xavier_uniform_ = _xavier("uniform", "Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)).")
xavier_normal_ = _xavier(
    "normal", "Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))."
)
kaiming_uniform_ = _kaiming(
    "uniform",
    """He: U(-bound, bound) with bound = gain sqrt(3 / fan), gain = calculate_gain(
    nonlinearity, a). ``nn.Linear`` uses a = sqrt(5), which gives bound = 1 / sqrt(fan_in).""",
)
kaiming_normal_ = _kaiming("normal", "He: N(0, std^2) with std = gain / sqrt(fan).")


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, times gain."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


# PyTorch's deprecated spellings without the trailing underscore
uniform = uniform_
normal = normal_
constant = constant_
xavier_uniform = xavier_uniform_
xavier_normal = xavier_normal_
kaiming_uniform = kaiming_uniform_
kaiming_normal = kaiming_normal_
