"""``ConvTranspose2d``: the transposed ("fractionally strided") convolution of decoders."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.nn.modules._weights import add_weight_and_bias, reset_affine
from deepgrad.tensor import Tensor


class ConvTranspose2d(Module):
    """2-D transposed convolution: the gradient of ``Conv2d`` with respect to its input.

    Output size H_out = (H - 1) stride - 2 padding + kernel_size + output_padding.
    ``weight`` is (in_channels, out_channels, kH, kW), ``bias`` (out_channels,); both start as
    PyTorch's, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = out_channels * kH * kW.
    deepgrad supports groups=1 and dilation=1 (the census's uses).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        if groups != 1 or dilation not in (1, (1, 1)) or padding_mode != "zeros":
            raise NotImplementedError(
                "ConvTranspose2d: deepgrad supports groups=1, dilation=1, padding_mode='zeros'"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _two(kernel_size)
        self.stride, self.padding = _two(stride), _two(padding)
        self.output_padding, self.dilation, self.groups = _two(output_padding), (1, 1), 1
        weight_shape = (in_channels, out_channels, *self.kernel_size)
        add_weight_and_bias(self, weight_shape, out_channels if bias else None, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, self.output_padding
        )

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")  # fmt: skip
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        return s + (", bias=False" if self.bias is None else "")


def _two(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)
