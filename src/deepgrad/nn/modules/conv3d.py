"""``Conv3d``: convolution over volumes, built on the 2-D convolution."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.modules.conv import _ConvNd
from deepgrad.tensor import Tensor


class Conv3d(_ConvNd):
    """3-D convolution layer over volumes (N, C, D, H, W)::

        y[n, o, i, j, k] = b[o] + sum_{c,p,q,r} w[o, c, p, q, r] x[n, c, i s + p, j s + q, k s + r]

    ``weight`` is (out_channels, in_channels, kD, kH, kW), initialised as PyTorch's. deepgrad
    supports groups=1, dilation=1 and numeric padding (see ``F.conv3d``)."""

    _dims = 3

    def forward(self, input: Tensor) -> Tensor:
        return F.conv3d(input, self.weight, self.bias, self.stride, self.padding)
