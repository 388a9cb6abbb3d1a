"""``Embedding``: a lookup table of learnable vectors, one row per index."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn import init
from deepgrad.nn.module import Module
from deepgrad.nn.modules._weights import empty
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor


class Embedding(Module):
    """out[...] = weight[input[...]]; ``weight`` is (num_embeddings, embedding_dim) ~ N(0, 1).

    ``padding_idx``'s row starts at zero and receives no gradient, as in PyTorch. deepgrad does
    not implement ``max_norm`` or sparse gradients."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__()
        if max_norm is not None or sparse:
            raise NotImplementedError("Embedding: deepgrad has no max_norm or sparse gradients")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype, device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
