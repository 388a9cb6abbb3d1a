"""``deepgrad.linalg``: the parts of ``torch.linalg`` the API census found in teaching code."""

from __future__ import annotations

from deepgrad.functions import matmul
from deepgrad.tensor import Tensor

__all__ = ["cross", "matmul"]


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``: (a2 b3 - a3 b2, a3 b1 - a1 b3, a1 b2 - a2 b1)."""
    from deepgrad.functions import stack

    a = [input.select(dim, i) for i in (0, 1, 2)]
    b = [other.select(dim, i) for i in (0, 1, 2)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return stack(parts, dim=dim)
