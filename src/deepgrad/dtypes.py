"""PyTorch-named dtypes over NumPy dtypes.

A deepgrad dtype is a thin named wrapper around a NumPy dtype, so that ``x.dtype`` prints as
``deepgrad.float32`` and compares equal both to ``deepgrad.float32`` and to ``np.float32``.
"""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801 - named like torch.dtype
    """A tensor element type: ``deepgrad.float32``, ``deepgrad.int64``, ..."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name: str, np_dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"deepgrad.{self.name}"

    def __eq__(self, other) -> bool:
        if isinstance(other, dtype):
            return self.np == other.np
        try:
            return self.np == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.np)


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)  # noqa: A001 - torch.float is float32
float64 = double = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)  # noqa: A001 - torch.int is int32
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)  # noqa: A001 - torch.bool

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}


def from_numpy_dtype(np_dtype) -> dtype:
    """The deepgrad dtype of a NumPy dtype; raises a clear TypeError for unsupported kinds."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        pass
    d = np.dtype(np_dtype)
    if d in _BY_NUMPY:
        return _BY_NUMPY[d]
    raise TypeError(
        f"deepgrad has no dtype for NumPy dtype {d}; supported: "
        + ", ".join(sorted(x.name for x in _BY_NUMPY.values()))
    )


def to_numpy_dtype(d) -> np.dtype:
    """Accept a deepgrad dtype, a NumPy dtype, or a Python type (float -> float32, as torch)."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:
        return _default_float.np
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.bool:
        return np.dtype(np.bool_)
    return np.dtype(d)


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype Python floats become in new tensors (float32 unless ``set_default_dtype``).

    >>> deepgrad.get_default_dtype()
    deepgrad.float32
    """
    return _default_float


def set_default_dtype(d) -> None:
    """Set the dtype that Python floats become (float32 unless changed, as in PyTorch).

    >>> deepgrad.set_default_dtype(deepgrad.float64); deepgrad.tensor([1.5]).dtype
    deepgrad.float64
    >>> deepgrad.set_default_dtype(deepgrad.float32)
    """
    global _default_float
    d = from_numpy_dtype(to_numpy_dtype(d))
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype needs a floating dtype, got {d}")
    _default_float = d


#: PyTorch's legacy tensor types (``torch.FloatTensor`` ...) by name, and the dtype each holds.
#: ``deepgrad.creation`` makes the types themselves; ``Tensor.type`` names them.
LEGACY_TENSOR_TYPES = {
    "FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16,
    "LongTensor": int64, "IntTensor": int32, "ShortTensor": int16, "CharTensor": int8,
    "ByteTensor": uint8, "BoolTensor": bool,
}  # fmt: skip


def legacy_type_name(np_dtype) -> str:
    """The name of the legacy tensor type of a NumPy dtype (float32 -> ``"FloatTensor"``)."""
    for name, d in LEGACY_TENSOR_TYPES.items():
        if d.np == np_dtype:
            return name
    raise TypeError(f"no legacy tensor type for dtype {np_dtype}")


def legacy_type_dtype(name: str) -> dtype:
    """The dtype of a legacy type named ``"torch.FloatTensor"``, ``"deepgrad.FloatTensor"`` or
    ``"FloatTensor"``."""
    try:
        return LEGACY_TENSOR_TYPES[name.rsplit(".", 1)[-1]]
    except KeyError:
        raise ValueError(f"invalid type: {name!r}; expected e.g. 'torch.FloatTensor'") from None
