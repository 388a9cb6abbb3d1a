"""Flatten parameters into one vector and back (for line searches and second-order methods)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from deepgrad import functions
from deepgrad.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor with every parameter flattened, in order (differentiable)."""
    return functions.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, no graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    data = vec._data
    start = 0
    for p in parameters:
        n = p._data.size
        np.copyto(p._data, data[start : start + n].reshape(p._data.shape), casting="unsafe")
        start += n
