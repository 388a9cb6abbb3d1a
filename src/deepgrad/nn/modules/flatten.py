"""``Flatten`` and ``Unflatten``: reshape between layers (e.g. images to vectors)."""

from __future__ import annotations

from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, 1, 28, 28) -> (N, 784) by default,
    keeping the batch dimension."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28) with
    Unflatten(1, (1, 28, 28))."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = unflattened_size  # kept as given, so repr matches PyTorch

    def forward(self, input: Tensor) -> Tensor:
        sizes = tuple(self.unflattened_size)
        size = 1
        for n in sizes:
            size *= n
        got = input.shape[self.dim]
        if size != got and -1 not in sizes:
            raise RuntimeError(
                f"Unflatten: unflattened_size {sizes} has {size} elements but dimension "
                f"{self.dim} of the input (shape {tuple(input.shape)}) has {got}"
            )
        d = self.dim % input.ndim
        return input.reshape(input.shape[:d] + sizes + input.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
