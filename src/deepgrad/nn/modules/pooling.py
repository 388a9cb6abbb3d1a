"""Pooling layers: max, average and adaptive average pooling, in 1-D and 2-D."""

from __future__ import annotations

from deepgrad.nn import _conv_functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class MaxPool2d(Module):
    """Max over each kernel_size window: y[n, c, i, j] = max_{p,q} x[n, c, i*s + p*d, j*s + q*d].

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. Backward routes each
    output's gradient to the first maximum of its window in row-major order (PyTorch's CPU
    rule on ties). ``return_indices=True`` also returns the flat (H*W) index of each maximum.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        return F.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices, _layer=self,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(MaxPool2d):
    """Max over each window of a sequence (N, C, L) or (C, L); see ``MaxPool2d``."""

    def forward(self, input: Tensor):
        return F.max_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices, _layer=self,
        )  # fmt: skip


class AvgPool2d(Module):
    """Mean over each kernel_size window: y[n, c, i, j] = sum_{p,q} x[n, c, i*s+p, j*s+q] / D.

    D is the window size, counting padding by default (``count_include_pad=True``, as
    PyTorch), or the real pixels only (False), or ``divisor_override``.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override=None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override, _layer=self,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """Mean over each window of a sequence (N, C, L) or (C, L); see ``AvgPool2d``."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        name = "AvgPool1d"
        self.kernel_size = F._tuple(kernel_size, 1, "kernel_size", name)
        self.stride = F._tuple(stride if stride is not None else kernel_size, 1, "stride", name)
        self.padding = F._tuple(padding, 1, "padding", name)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, _layer=self,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size: output row i averages input rows
    floor(i H / OH) .. ceil((i + 1) H / OH) - 1, likewise for columns. ``output_size=1`` is
    global average pooling; a None entry keeps that input size."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size, _layer=self)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of sequences to a fixed length; see ``AdaptiveAvgPool2d``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size, _layer=self)


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (only output sizes that divide the input size are
    supported: then the windows tile the input, as ``MaxPool2d(H // OH, W // OW)``)."""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices, _layer=self)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
