"""Batch normalisation layers: ``BatchNorm1d`` and ``BatchNorm2d`` over one shared base."""

from __future__ import annotations

import numpy as np

from deepgrad.device import place
from deepgrad.nn import functional as F
from deepgrad.nn.module import LayerInputError, Module
from deepgrad.nn.modules._weights import empty
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor, _wrap


class _BatchNorm(Module):
    """Normalise each channel over the batch (and spatial) axes, then scale and shift:

        y = gamma (x - mu) / sqrt(var + eps) + beta

    Training mode uses the batch's mean and (biased) variance and updates the buffers
    ``running_mean`` and ``running_var``: r <- (1 - momentum) r + momentum * batch_stat, with
    the unbiased batch variance, as PyTorch (``momentum=None``: a cumulative average over
    ``num_batches_tracked`` batches). Eval mode uses the running statistics instead. All three
    buffers are saved in ``state_dict``.
    """

    _dims: tuple = ()
    _shape_doc = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty((num_features,), dtype, device))
            if bias:
                self.bias = Parameter(empty((num_features,), dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", empty((num_features,), dtype, device))
            self.register_buffer("running_var", empty((num_features,), dtype, device))
            count = place(np.array(0, dtype=np.int64), device)  # on the layer's device
            self.register_buffer("num_batches_tracked", _wrap(count))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def _check_input(self, input: Tensor) -> None:
        x = input._data
        if x.ndim not in self._dims:
            raise ValueError(
                f"{type(self).__name__}: expected {' or '.join(f'{d}D' for d in self._dims)} "
                f"input {self._shape_doc}, got {x.ndim}D input of shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise LayerInputError(
                self,
                f"(num_features={self.num_features}) got input of shape {tuple(x.shape)}: "
                f"dimension 1 (channels) is {x.shape[1]}, but it must be {self.num_features}",
                f"Set num_features to the number of channels/features of the layer before it "
                f"({x.shape[1]}).",
            )

    def _averaging_factor(self) -> float:
        """The weight of this batch in the running statistics, counting the batch when
        training: ``momentum``, or 1 / (batches so far) for momentum=None (a cumulative
        average)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        return factor

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = self._averaging_factor()
        batch_stats = self.training or self.running_mean is None
        use_buffers = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_buffers else None,
            self.running_var if use_buffers else None,
            self.weight,
            self.bias,
            batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature/channel C."""

    _dims = (2, 3)
    _shape_doc = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel over (N, H, W)."""

    _dims = (4,)
    _shape_doc = "(N, C, H, W)"
