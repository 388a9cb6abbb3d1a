"""Convolution layers: ``Conv2d`` and ``Conv1d`` (one base class, one primitive op)."""

from __future__ import annotations

from collections.abc import Callable

from deepgrad.nn import _conv_functional as F
from deepgrad.nn.module import Module
from deepgrad.nn.modules._weights import add_weight_and_bias, reset_affine
from deepgrad.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, initialisation, forward and repr of Conv1d and Conv2d (PyTorch's
    _ConvNd)."""

    _dims = 2
    _function: Callable  # F.conv1d or F.conv2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        n = self._dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups (in_channels={in_channels}, "
                f"groups={groups})"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups (out_channels={out_channels}, "
                f"groups={groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode='{padding_mode}' is not supported by deepgrad; only "
                "'zeros' is. Pad the input yourself first if you need another mode."
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = F.positive_tuple(kernel_size, n, "kernel_size", name)
        self.stride = F.positive_tuple(stride, n, "stride", name)
        self.dilation = F.positive_tuple(dilation, n, "dilation", name)
        # check 'same' / 'valid' / numbers now, as PyTorch does, rather than at the first call
        F.conv_padding(padding, self.kernel_size, self.dilation, self.stride, name)
        if not isinstance(padding, str):
            padding = F._tuple(padding, n, "padding", name)
        self.padding = padding
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = False
        self.output_padding = (0,) * n
        weight_shape = (out_channels, in_channels // groups, *self.kernel_size)
        add_weight_and_bias(self, weight_shape, out_channels if bias else None, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
        fan_in = in_channels/groups * prod(kernel_size)."""
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return self._function(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
            _layer=self,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        n = self._dims
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer over images (N, C, H, W) or one image (C, H, W)::

        y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x[n, c, i*s + p*d, j*s + q*d]

    (with groups, output channel o sees only its group's C/groups input channels).
    ``weight`` is (out_channels, in_channels/groups, kH, kW), ``bias`` (out_channels,).
    ``padding`` is a number, a pair, 'valid' or 'same' (stride 1; an odd total puts the extra
    row/column after, as PyTorch); only ``padding_mode='zeros'`` is supported.

    The output has PyTorch's shape and values but is stored batch-innermost in memory, which
    keeps the next convolution and pooling fast (see ``deepgrad.ops.conv``).

    Beyond PyTorch: an input of the wrong rank, channel count or too small for the kernel
    raises an error that names this layer's path in the model, the shapes, and the fix (for
    example ``x.view(-1, 1, 28, 28)`` for flattened images).
    """

    _dims = 2
    _function = staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer over sequences (N, C, L) or one sequence (C, L)::

        y[n, o, i] = b[o] + sum_{c, p} w[o, c, p] x[n, c, i*s + p*d]

    ``weight`` is (out_channels, in_channels/groups, k). Computed as ``Conv2d`` over images of
    height 1; see ``Conv2d`` for padding and errors.
    """

    _dims = 1
    _function = staticmethod(F.conv1d)
