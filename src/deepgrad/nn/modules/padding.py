"""``ReflectionPad2d``: pad images by mirroring them at the border."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class ReflectionPad2d(Module):
    """Pad (N, C, H, W) by reflection; ``padding`` is one number or (left, right, top, bottom)."""

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.reflection_pad2d(input, self.padding)

    def extra_repr(self) -> str:
        return f"{self.padding}"
