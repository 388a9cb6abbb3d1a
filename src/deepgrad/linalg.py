"""``deepgrad.linalg``: the parts of ``torch.linalg`` the API census found in teaching code."""

from __future__ import annotations

from deepgrad.functions import matmul
from deepgrad.tensor import Tensor

__all__ = ["cross", "matmul", "svd"]


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``: (a2 b3 - a3 b2, a3 b1 - a1 b3, a1 b2 - a2 b1)."""
    from deepgrad.functions import stack

    a = [input.select(dim, i) for i in (0, 1, 2)]
    b = [other.select(dim, i) for i in (0, 1, 2)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return stack(parts, dim=dim)


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):  # noqa: N803 - torch's name
    """(U, S, Vh) with A = U diag(S) Vh; deepgrad implements ``full_matrices=False`` only."""
    from deepgrad.census_extras import _svd_factors

    if full_matrices:
        raise NotImplementedError(
            "linalg.svd: deepgrad implements full_matrices=False (the reduced factors) only"
        )
    u, s, v = _svd_factors(A)
    return u, s, v.T
