"""Lazy layers: ``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm1d``, ``LazyBatchNorm2d``.

A lazy layer is built without its input size (``nn.LazyLinear(10)``) and learns it from the
first batch it sees, as d2l's chapters build every model. Until then its parameters are empty
placeholders; the first forward call fills them in place (the same Parameter objects, so an
optimiser made before that call still updates them), initialises them as the eager layer would,
and turns the module into that eager layer (``type(m)`` becomes ``Linear``), as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from deepgrad.nn.module import Module
from deepgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from deepgrad.nn.modules.conv import Conv2d
from deepgrad.nn.modules.linear import Linear
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor, _wrap


# ---- client-programs block (i14clients): PyTorch prints a lazy layer's placeholder as
# <UninitializedParameter> (d2l's lazy-initialisation section shows it); filled, it is a Parameter.
class UninitializedParameter(Parameter):
    """The empty placeholder of a lazy layer, until its first forward call."""

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = super().__deepcopy__(memo)
        out.__class__ = UninitializedParameter
        return out


# ---- end of the client-programs block ----


class _LazyModule(Module):
    """Holds the constructor's arguments and placeholder parameters until the first input."""

    cls_to_become: type = Module
    _parameter_names: tuple = ("weight", "bias")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        self._lazy_args, self._lazy_kwargs = args, kwargs
        for name in self._parameter_names:
            if name == "bias" and not kwargs.get("bias", True):
                self.register_parameter("bias", None)
            else:
                placeholder = UninitializedParameter(_wrap(np.empty((0,), np.float32)))
                self.register_parameter(name, placeholder)

    def has_uninitialized_params(self) -> bool:
        return True

    def _input_size(self, input: Tensor) -> int:
        raise NotImplementedError

    def initialize_parameters(self, input: Tensor) -> None:
        """Build the eager layer for this input and move its state into this module."""
        eager = self.cls_to_become(self._input_size(input), *self._lazy_args, **self._lazy_kwargs)
        for name, param in eager._parameters.items():
            own = self._parameters.get(name)
            if param is None or own is None:
                self._parameters[name] = param
            else:
                own.data = param.data  # fill the placeholder in place
                own.__class__ = Parameter
                own.requires_grad = param.requires_grad
        state = self.__dict__
        for key, value in eager.__dict__.items():
            if key not in {"_parameters", "training"}:
                state[key] = value
        del state["_lazy_args"], state["_lazy_kwargs"]
        self.__class__ = self.cls_to_become

    def forward(self, input: Tensor) -> Tensor:
        self.initialize_parameters(input)
        return self.forward(input)

    def extra_repr(self) -> str:
        return f"(uninitialized) {self._lazy_args}"


def _channels(input: Tensor, batched_ndim: int) -> int:
    # channels sit on axis 1 of a batch and axis 0 of an unbatched sample
    return input.shape[1] if input.ndim == batched_ndim else input.shape[0]


class LazyLinear(_LazyModule):
    """``Linear`` whose ``in_features`` is taken from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(out_features, bias=bias, device=device, dtype=dtype)

    def _input_size(self, input: Tensor) -> int:
        return input.shape[-1]


class LazyConv2d(_LazyModule):
    """``Conv2d`` whose ``in_channels`` is taken from the first input (N, C, H, W)."""

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__(
            out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation,
            groups=groups, bias=bias, padding_mode=padding_mode, device=device, dtype=dtype,
        )  # fmt: skip

    def _input_size(self, input: Tensor) -> int:
        return _channels(input, 4)


class _LazyBatchNorm(_LazyModule):
    _batched_ndim = 2

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        if not affine:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _input_size(self, input: Tensor) -> int:
        return input.shape[1] if input.ndim >= 2 else input.shape[0]


class LazyBatchNorm1d(_LazyBatchNorm):
    """``BatchNorm1d`` whose ``num_features`` is taken from the first input (N, C[, L])."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """``BatchNorm2d`` whose ``num_features`` is taken from the first input (N, C, H, W)."""

    cls_to_become = BatchNorm2d
