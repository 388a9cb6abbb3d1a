"""Top-level math functions (``deepgrad.exp(x)``, ``deepgrad.cat([...])``), as in ``torch.*``.

Those in ``_METHODS`` are generated from the Tensor method of the same name (docstring
included), so the two spellings can never disagree; the functions with no method counterpart
(``cat``, ``stack``, ``meshgrid``, ``where`` ...) are written here.
"""

from __future__ import annotations

import builtins
import inspect

import numpy as np

from deepgrad.ops import shape as _S
from deepgrad.tensor import Tensor, _as_array, _axes, _wrap, result_type_of
from deepgrad.tensor import where as _where


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else _wrap(_as_array(x))


def _method(name: str):
    def fn(input, *args, out=None, **kwargs):
        result = getattr(_t(input), name)(*args, **kwargs)
        return result if out is None else write_out(name, result, out)

    fn.__name__ = fn.__qualname__ = name
    # the method's docstring, formula and example included: one text for both spellings
    fn.__doc__ = f"``deepgrad.{name}(input, ...)`` is ``input.{name}(...)``, plus ``out=``: " + (
        inspect.cleandoc(getattr(Tensor, name).__doc__)
    )
    return fn


_METHODS = (
    "exp log sqrt rsqrt erf sin cos abs neg square reciprocal tanh sigmoid relu clamp clip pow "
    "maximum minimum sum mean var std max min amax amin argmax argmin logsumexp softmax "
    "log_softmax norm reshape flatten unflatten squeeze unsqueeze permute transpose t matmul mm "
    "bmm dot sign floor ceil round isnan isinf isfinite all any masked_fill chunk split unbind "
    "select add sub mul div eq ne lt le gt ge equal allclose numel swapaxes cumsum cumprod prod "
    "sinh cosh"
).split()

# abs, max, min, round, pow, all and any shadow the builtins here on purpose, as torch's do;
# this module's own code reaches the builtins through ``builtins.``
for _name in _METHODS:
    globals()[_name] = _method(_name)


def relu_(input: Tensor) -> Tensor:
    """``deepgrad.relu_(input)`` is ``input.relu_()``: relu written into ``input``."""
    return input.relu_()


def write_out(name: str, result, out):
    """Copy ``result`` into the caller's ``out=`` tensor(s), as torch's ``out=`` does.

    Like torch: no autograd through ``out=``, a result that cannot be cast safely to ``out``'s
    dtype (float into long) is an error, and an ``out`` of the wrong shape is resized.
    """
    if isinstance(result, tuple):
        for r, o in zip(result, out):
            write_out(name, r, o)
        return out
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if result.requires_grad:
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    src, dst = result._data, out._data.dtype
    rank = {"b": 0, "u": 1, "i": 1, "f": 2}
    if rank[src.dtype.kind] > rank[dst.kind]:
        raise RuntimeError(
            f"result type {result.dtype} can't be cast to the desired output type {out.dtype}"
        )
    if src.shape != out._data.shape:
        out._data = src.astype(dst, copy=True)
    else:
        np.copyto(out._data, src, casting="unsafe")
    return out


def _common(tensors):
    """Tensors converted to their common dtype, by the same rule as ``a + b`` (torch's)."""
    tensors = [_t(x) for x in tensors]
    if not tensors:
        raise ValueError("expected a non-empty list of tensors")
    dt = result_type_of(tensors)
    return [x.to(dt) for x in tensors]


def _joined(tensors, dim, axis):
    """What ``cat`` and ``stack`` join: the tensors in their common dtype, and the dimension
    (``axis=``, NumPy's name, wins over ``dim``)."""
    return _common(tensors), (dim if axis is None else axis)


def cat(tensors, dim: int = 0, *, axis=None, out=None) -> Tensor:
    """Join tensors along an existing dimension.

    >>> deepgrad.cat([deepgrad.tensor([[1, 2]]), deepgrad.tensor([[3, 4]])], dim=1)
    tensor([[1, 2, 3, 4]])
    """
    tensors, dim = _joined(tensors, dim, axis)
    nd = tensors[0].ndim
    (axis,) = _axes(dim, nd)
    for i, x in enumerate(tensors):
        if x.ndim != nd or _sizes_differ(x.shape, tensors[0].shape, axis):
            raise RuntimeError(
                f"cat: tensor {i} has shape {tuple(x.shape)} but tensor 0 has shape "
                f"{tuple(tensors[0].shape)}; all sizes except dimension {axis} must match"
            )
    result = _S.Cat.apply(*tensors, axis=axis)
    return result if out is None else write_out("cat", result, out)


concatenate = concat = cat


def _sizes_differ(a, b, skip: int) -> bool:
    return builtins.any(x != y for i, (x, y) in enumerate(zip(a, b)) if i != skip)


def stack(tensors, dim: int = 0, *, axis=None, out=None) -> Tensor:
    """Join tensors along a new dimension.

    >>> deepgrad.stack([deepgrad.tensor([1, 2]), deepgrad.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """
    tensors, dim = _joined(tensors, dim, axis)
    shape = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(shape)} at entry 0 "
                f"and {tuple(x.shape)} at entry {i}"
            )
    (axis,) = _axes(dim, len(shape) + 1)
    result = _S.Stack.apply(*tensors, axis=axis)
    return result if out is None else write_out("stack", result, out)


def is_tensor(obj) -> bool:
    """True if ``obj`` is a deepgrad tensor.

    >>> deepgrad.is_tensor(deepgrad.zeros(1)), deepgrad.is_tensor([1.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True if ``input`` has a floating dtype.

    >>> x = deepgrad.tensor([1.5, 2.0])
    >>> deepgrad.is_floating_point(x), deepgrad.is_floating_point(x.long())
    (True, False)
    """
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """Always False: deepgrad has no complex dtypes.

    >>> deepgrad.is_complex(deepgrad.zeros(1))
    False
    """
    return False


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors; ``indexing="ij"`` (matrix) or ``"xy"`` (Cartesian).

    Differentiable: each grid is its input reshaped and expanded. Deviation: torch warns when
    ``indexing`` is not given; deepgrad uses torch's default ("ij") silently.

    >>> ii, jj = deepgrad.meshgrid(deepgrad.arange(2), deepgrad.tensor([5, 6, 7]), indexing="ij")
    >>> ii.shape, jj[0]
    ((2, 3), tensor([5, 6, 7]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    tensors = [_t(x) for x in tensors]
    for i, x in enumerate(tensors):
        if x.ndim > 1:
            raise RuntimeError(f"meshgrid expects 0-D or 1-D tensors, tensor {i} is {x.ndim}-D")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:  # "xy" is "ij" with the first two inputs and outputs swapped
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(x.numel() for x in tensors)
    grids = []
    for i, x in enumerate(tensors):
        view = [1] * len(tensors)
        view[i] = -1
        grids.append(x.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def mv(input: Tensor, vec: Tensor, *, out=None) -> Tensor:
    """Matrix times vector: ``input`` (n, m) @ ``vec`` (m,) -> (n,).

    >>> deepgrad.mv(deepgrad.tensor([[1., 2.], [3., 4.]]), deepgrad.tensor([1., 1.]))
    tensor([3., 7.])
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"mv: expected a 2-D matrix and a 1-D vector, got shapes {tuple(input.shape)} and "
            f"{tuple(vec.shape)}"
        )
    result = input.matmul(vec)
    return result if out is None else write_out("mv", result, out)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (promoted like
    ``input + other``); ``where(condition)`` alone gives the indices of true elements.

    >>> x = deepgrad.tensor([-1., 2., -3.])
    >>> deepgrad.where(x > 0, x, 0.0), deepgrad.where(x > 0)
    (tensor([0., 2., 0.]), (tensor([1]),))
    """
    result = _where(condition, input, other)
    return result if out is None else write_out("where", result, out)


def result_type(tensor1, tensor2):
    """The dtype ``tensor1 + tensor2`` would have (PyTorch's promotion; numbers are weak).

    >>> ints = deepgrad.tensor([1, 2])
    >>> deepgrad.result_type(ints, 1.5), deepgrad.result_type(ints, 2)
    (deepgrad.float32, deepgrad.int64)
    """
    from deepgrad import dtypes

    if not isinstance(tensor1, Tensor):
        tensor1, tensor2 = tensor2, tensor1
    if not isinstance(tensor1, Tensor):  # two numbers
        tensor1 = _t(tensor1)
    other = tensor1._other(tensor2)
    return dtypes.from_numpy_dtype(result_type_of((tensor1, other)))


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without loss of kind.

    >>> deepgrad.promote_types(deepgrad.int64, deepgrad.float16)
    deepgrad.float16
    """
    from deepgrad import dtypes
    from deepgrad.tensor import _promote_pair

    a, b = dtypes.to_numpy_dtype(type1), dtypes.to_numpy_dtype(type2)
    return dtypes.from_numpy_dtype(_promote_pair(a, b))


__all__ = [
    *_METHODS,
    "relu_",
    "cat",
    "concat",
    "concatenate",
    "stack",
    "is_tensor",
    "is_floating_point",
    "is_complex",
    "meshgrid",
    "mv",
    "where",
    "result_type",
    "promote_types",
]
"""The torch.* names ``deepgrad`` re-exports (not the module's helpers or its imports)."""
