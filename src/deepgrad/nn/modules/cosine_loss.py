"""``CosineEmbeddingLoss``: pull pairs together (target 1) or push them apart (target -1)."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class CosineEmbeddingLoss(Module):
    """See ``F.cosine_embedding_loss``: 1 - cos for target 1, max(0, cos - margin) for -1."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)
