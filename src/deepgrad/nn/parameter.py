"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from deepgrad import dtypes
from deepgrad.tensor import Tensor, _as_array


class Parameter(Tensor):
    """A ``Tensor`` that requires grad and is registered when assigned to a ``Module`` attribute.

    ``Parameter(t)`` shares ``t``'s storage (no copy), as in PyTorch, and its ``requires_grad``
    defaults to True. Arithmetic on a parameter gives ordinary tensors; only the parameter itself
    is a leaf whose ``.grad`` an optimiser reads.
    """

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=dtypes.get_default_dtype().np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = _as_array(data)
        self._init_leaf(arr, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        # Rebuild through __init__ so a pickled parameter comes back a leaf with its flag.
        return (Parameter, (Tensor(self._data, dtype=self._data.dtype), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor(self.grad._data, dtype=self.grad._data.dtype)
        memo[id(self)] = out
        return out
