"""How layers make their parameters, as PyTorch does: uninitialised arrays on the requested
device and dtype, registered in PyTorch's order (weight, then bias), then filled by the layer's
``reset_parameters()``; and the default initialisation of the affine layers."""

from __future__ import annotations

import math

import numpy as np

from deepgrad import dtypes
from deepgrad.device import place
from deepgrad.nn import init
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor, _check_device, _wrap


def empty(shape, dtype, device) -> Tensor:
    """An uninitialised array on ``device`` (the default device when None, as the layers of
    PyTorch are made under ``set_default_device``)."""
    if device is not None:
        _check_device(device)
    np_dtype = dtypes.to_numpy_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np
    return _wrap(place(np.empty(shape, dtype=np_dtype), device))


def add_weight_and_bias(layer: Module, weight_shape: tuple, bias_size: int | None, dtype, device):
    """Register ``layer.weight`` and ``layer.bias`` uninitialised; ``bias_size=None`` registers
    the bias as None (``bias=False``), so the ``state_dict`` keys are PyTorch's either way."""
    layer.weight = Parameter(empty(weight_shape, dtype, device))
    if bias_size is None:
        layer.register_parameter("bias", None)
    else:
        layer.bias = Parameter(empty((bias_size,), dtype, device))


def reset_affine(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and the convolutions: ``kaiming_uniform_`` with a = sqrt(5)
    for the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias drawn from the same
    interval (fan_in of the weight; zero when fan_in is 0)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
