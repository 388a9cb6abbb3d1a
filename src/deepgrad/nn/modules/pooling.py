"""Pooling layers: max, average and adaptive average pooling, in 1-D and 2-D."""

from __future__ import annotations

from deepgrad.nn import _conv_functional as F
from deepgrad.nn.modules._functional_module import FunctionalModule
from deepgrad.tensor import Tensor


class _PoolNd(FunctionalModule):
    """The pooling layers: the options of their functional form (see ``FunctionalModule``),
    passed back to it together with the layer, so that an input error names the layer's path
    in the model."""

    def _keep(self, options: dict) -> None:
        if "stride" in options and options["stride"] is None:
            options["stride"] = options["kernel_size"]  # PyTorch's default, also when printed
        super()._keep(options)

    def forward(self, input: Tensor):
        return self._call(input, _layer=self)


class _MaxPoolNd(_PoolNd):
    # PyTorch's layers take return_indices before ceil_mode, their functions after it
    _order = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")

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


class AvgPool1d(_AvgPoolNd):
    """Mean over each window of a sequence (N, C, L) or (C, L); see ``AvgPool2d``."""

    _function = staticmethod(F.avg_pool1d)

    def _keep(self, options: dict) -> None:
        super()._keep(options)
        # as PyTorch, the sizes are stored (and printed) as 1-tuples
        for name in ("kernel_size", "stride", "padding"):
            setattr(self, name, F._tuple(getattr(self, name), 1, name, "AvgPool1d"))


class _AdaptivePoolNd(_PoolNd):
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
