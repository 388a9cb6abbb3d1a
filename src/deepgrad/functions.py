"""Top-level math functions (``deepgrad.exp(x)``, ``deepgrad.cat([...])``), as in ``torch.*``.

Each is the Tensor method of the same name, so the two spellings can never disagree.
"""

from __future__ import annotations

import builtins

import numpy as np

from deepgrad.ops import shape as _S
from deepgrad.tensor import Tensor, _as_array, _axes, _wrap, where  # noqa: F401


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else _wrap(_as_array(x))


def _method(name: str):
    def fn(input, *args, **kwargs):
        return getattr(_t(input), name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``deepgrad.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


_METHODS = (
    "exp log sqrt rsqrt erf sin cos abs neg square reciprocal tanh sigmoid relu clamp clip pow "
    "maximum minimum sum mean var std max min amax amin argmax argmin logsumexp softmax "
    "log_softmax norm reshape flatten unflatten squeeze unsqueeze permute transpose t matmul mm "
    "bmm dot sign floor ceil round isnan isinf isfinite all any masked_fill chunk split unbind "
    "select add sub mul div eq ne lt le gt ge equal allclose numel swapaxes"
).split()

for _name in _METHODS:
    globals()[_name] = _method(_name)

abs = globals()["abs"]  # noqa: A001 - shadows the builtin on purpose, as torch.abs does
max = globals()["max"]  # noqa: A001
min = globals()["min"]  # noqa: A001
round = globals()["round"]  # noqa: A001
pow = globals()["pow"]  # noqa: A001
all = globals()["all"]  # noqa: A001
any = globals()["any"]  # noqa: A001


def _common(tensors):
    tensors = [_t(x) for x in tensors]
    if not tensors:
        raise ValueError("expected a non-empty list of tensors")
    dt = tensors[0]._data.dtype
    for x in tensors[1:]:
        dt = np.promote_types(dt, x._data.dtype)
    return [x.to(dt) for x in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _common(tensors)
    nd = tensors[0].ndim
    (axis,) = _axes(dim, nd)
    for i, x in enumerate(tensors):
        if x.ndim != nd or _sizes_differ(x.shape, tensors[0].shape, axis):
            raise RuntimeError(
                f"cat: tensor {i} has shape {tuple(x.shape)} but tensor 0 has shape "
                f"{tuple(tensors[0].shape)}; all sizes except dimension {axis} must match"
            )
    return _S.Cat.apply(*tensors, axis=axis)


concatenate = concat = cat


def _sizes_differ(a, b, skip: int) -> bool:
    return builtins.any(x != y for i, (x, y) in enumerate(zip(a, b)) if i != skip)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors along a new dimension."""
    tensors = _common(tensors)
    shape = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(shape)} at entry 0 "
                f"and {tuple(x.shape)} at entry {i}"
            )
    (axis,) = _axes(dim, len(shape) + 1)
    return _S.Stack.apply(*tensors, axis=axis)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()
