"""Gradient arrays on their way into ``.grad``: un-broadcasting (once, for every op) and
accumulation into a leaf."""

from __future__ import annotations

import numpy as np

from deepgrad.backend import array_module


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting expanded, so it gets ``shape`` back."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:  # a gradient smaller than its input (e.g. a 0-d constant)
        grad = array_module(grad).broadcast_to(grad, shape)
    return grad


def accumulate(t, g, handed_out: set) -> None:
    """Add ``g`` into leaf ``t``'s ``.grad`` (creating it on first use).

    ``handed_out`` holds the ids of arrays already stored as some ``.grad``: a fresh array is
    stored without a copy, but one handed to another leaf (``a + b`` gives both the same
    upstream gradient) or a view is copied, so an in-place update of one ``.grad`` can never
    change another.
    """
    if type(g) is not np.ndarray:
        # NumPy math on 0-d arrays returns scalars: store an array. A GPU array stays as it is
        # (asarray of a CuPy array is the array itself: no copy to the host).
        g = array_module(t._data).asarray(g)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    old = t.grad
    if old is None:
        # (CuPy arrays have no `writeable` flag: they are always writeable)
        if g.base is not None or id(g) in handed_out or not getattr(g.flags, "writeable", True):
            g = g.copy()
        handed_out.add(id(g))
        t.grad = _wrap(g)
    else:
        old._data += g


from deepgrad.tensor import _wrap  # noqa: E402 - the tensor module imports this package first
