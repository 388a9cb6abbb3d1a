"""``InstanceNorm2d``: normalise each image's channel on its own (style transfer networks)."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.nn.modules._weights import empty
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor


class InstanceNorm2d(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per (sample, channel) over
    H and W. ``affine=True`` adds the per-channel weight (ones) and bias (zeros). deepgrad does
    not implement ``track_running_stats=True`` (PyTorch's default is False)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__()
        if track_running_stats:
            raise NotImplementedError("InstanceNorm2d: track_running_stats=True is not in deepgrad")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(empty((num_features,), dtype, device))
            self.bias = Parameter(empty((num_features,), dtype, device))
            self.weight._data[...] = 1
            self.bias._data[...] = 0
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.instance_norm(input, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        )
