"""Pooling layers: max, average and adaptive average pooling, in 1-D and 2-D."""

from __future__ import annotations

from collections.abc import Callable

from deepgrad.nn import _conv_functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class _PoolNd(Module):
    """The pooling layers' forward: the functional form (``_function``) called with the layer's
    options in its argument order (``_options``), and with the layer, so that an input error
    names the layer's path in the model."""

    _function: Callable
    _options: tuple[str, ...]

    def forward(self, input: Tensor):
        return self._function(input, *(getattr(self, name) for name in self._options), _layer=self)

    def _set_window(self, kernel_size, stride, padding) -> None:
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size  # PyTorch's default
        self.padding = padding


class _MaxPoolNd(_PoolNd):
    _options = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")

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
        self._set_window(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """Max over each kernel_size window: y[n, c, i, j] = max_{p,q} x[n, c, i*s + p*d, j*s + q*d].

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. Backward routes each
    output's gradient to the first maximum of its window in row-major order (PyTorch's CPU
    rule on ties). ``return_indices=True`` also returns the flat (H*W) index of each maximum.
    """

    _function = staticmethod(F.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """Max over each window of a sequence (N, C, L) or (C, L); see ``MaxPool2d``."""

    _function = staticmethod(F.max_pool1d)


class _AvgPoolNd(_PoolNd):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over each kernel_size window: y[n, c, i, j] = sum_{p,q} x[n, c, i*s+p, j*s+q] / D.

    D is the window size, counting padding by default (``count_include_pad=True``, as
    PyTorch), or the real pixels only (False), or ``divisor_override``.
    """

    _function = staticmethod(F.avg_pool2d)
    _options = (
        "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"
    )  # fmt: skip

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
        self._set_window(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override


class AvgPool1d(_AvgPoolNd):
    """Mean over each window of a sequence (N, C, L) or (C, L); see ``AvgPool2d``."""

    _function = staticmethod(F.avg_pool1d)
    _options = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        # as PyTorch, the sizes are stored (and printed) as 1-tuples
        name = "AvgPool1d"
        self.kernel_size = F._tuple(kernel_size, 1, "kernel_size", name)
        self.stride = F._tuple(stride if stride is not None else kernel_size, 1, "stride", name)
        self.padding = F._tuple(padding, 1, "padding", name)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad


class _AdaptivePoolNd(_PoolNd):
    _options = ("output_size",)

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average pooling to a fixed output size: output row i averages input rows
    floor(i H / OH) .. ceil((i + 1) H / OH) - 1, likewise for columns. ``output_size=1`` is
    global average pooling; a None entry keeps that input size."""

    _function = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average pooling of sequences to a fixed length; see ``AdaptiveAvgPool2d``."""

    _function = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveMaxPool2d(_AdaptivePoolNd):
    """Max pooling to a fixed output size (only output sizes that divide the input size are
    supported: then the windows tile the input, as ``MaxPool2d(H // OH, W // OW)``)."""

    _function = staticmethod(F.adaptive_max_pool2d)
    _options = ("output_size", "return_indices")

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices
