"""Dropout layers: randomly zero activations during training (a regulariser)."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class _DropoutNd(Module):
    """PyTorch's base of the dropout layers: the probability p, checked, and ``inplace``
    (accepted for compatibility; the result is always a new tensor)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode, zero each element with probability p and scale the others by
    1/(1-p), so the expected activation is unchanged; in eval mode, the identity.

    Remember ``model.eval()`` before evaluating and ``model.train()`` before training again.
    Masks come from deepgrad's generator: ``deepgrad.manual_seed`` makes them reproducible
    (they differ from PyTorch's, whose generator is different).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """In training, zero each channel of each sample with probability p and scale the rest by
    1/(1-p); identity in eval mode. Input (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)
