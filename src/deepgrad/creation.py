"""Tensor factories with PyTorch's names, signatures and default dtypes.

``device=`` works on every factory: the array is made on the CPU and copied to the GPU once
(``deepgrad.set_default_device`` changes where tensors go when no device is given). The
``*_like`` factories make their array on the input's device unless told otherwise. Random
values are drawn on the CPU by deepgrad's generator, so a seed gives the same numbers on every
device.
"""

from __future__ import annotations

import numpy as np

from deepgrad import dtypes
from deepgrad.backend import array_module
from deepgrad.device import device_of, move, place
from deepgrad.random import rng
from deepgrad.tensor import Tensor, _as_array, _check_grad_dtype, _new_leaf, _shape_arg, _wrap


def _size(args: tuple, kwargs: dict) -> tuple:
    """The shape from ``zeros(2, 3)``, ``zeros((2, 3))`` or the keyword ``zeros(size=(2, 3))``."""
    if kwargs:
        if set(kwargs) != {"size"} or args:
            bad = sorted(set(kwargs) - {"size"}) or ["size"]
            raise TypeError(
                f"got an unexpected keyword argument {bad[0]!r}"
                if bad != ["size"]
                else "pass the shape either positionally or as size=, not both"
            )
        args = (kwargs["size"],)
    return _shape_arg(args)


def _float_dtype(dtype) -> np.dtype:
    return dtypes.to_numpy_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    dtypes follow PyTorch: Python floats become float32 (the default dtype), integers int64,
    bools bool; a NumPy array keeps its dtype (float64 stays float64).

    >>> deepgrad.tensor([[1, 2], [3, 4]]).dtype, deepgrad.tensor([0.5], requires_grad=True)
    (deepgrad.int64, tensor([0.5000], requires_grad=True))
    """
    arr = _as_array(data, dtype)
    if arr is data or (isinstance(data, Tensor) and arr is data._data):
        arr = arr.copy()
    if device is None and type(arr) is not np.ndarray:  # GPU data stays on its GPU
        device = device_of(arr)
    return _new_leaf(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can.

    >>> a = np.array([1.0, 2.0])
    >>> t = deepgrad.as_tensor(a); a[0] = 7; t
    tensor([7., 2.], dtype=deepgrad.float64)
    """
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    arr = _as_array(data, dtype)
    if device is None and type(arr) is not np.ndarray:
        return _wrap(arr)
    return _wrap(place(arr, device))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other).

    >>> a = np.zeros(2, dtype=np.float32)
    >>> t = deepgrad.from_numpy(a); t[0] = 5; a
    array([5., 0.], dtype=float32)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an np.ndarray, got {type(array).__name__}")
    dtypes.from_numpy_dtype(array.dtype)
    return _wrap(array)


def zeros(*size, dtype=None, device=None, requires_grad=False, **_size_kw) -> Tensor:
    """A tensor of zeros of the given shape, in the default dtype (float32) unless ``dtype``.

    >>> deepgrad.zeros(2, 3).shape, deepgrad.zeros((2,), dtype=deepgrad.int64)
    ((2, 3), tensor([0, 0]))
    """
    return _new_leaf(np.zeros(_size(size, _size_kw), _float_dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False, **_size_kw) -> Tensor:
    """A tensor of ones of the given shape, in the default dtype unless ``dtype``.

    >>> deepgrad.ones(2)
    tensor([1., 1.])
    """
    return _new_leaf(np.ones(_size(size, _size_kw), _float_dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False, **_size_kw) -> Tensor:
    """An uninitialised tensor of the given shape: its values are whatever the memory held.

    >>> deepgrad.empty(2, 3).shape
    (2, 3)
    """
    return _new_leaf(np.empty(_size(size, _size_kw), _float_dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; its dtype is the value's (7 -> int64).

    >>> deepgrad.full((2,), 7), deepgrad.full((2,), 0.5)
    (tensor([7, 7]), tensor([0.5000, 0.5000]))
    """
    if dtype is None:
        dtype = _as_array(fill_value).dtype  # full((2,), 7) is int64, full((2,), 7.) float32
    return _new_leaf(
        np.full(_shape_arg((size,)), fill_value, dtypes.to_numpy_dtype(dtype)),
        requires_grad,
        device,
    )


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n x m identity matrix: 1 on the diagonal, 0 elsewhere (m defaults to n).

    >>> deepgrad.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _new_leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` up to ``end`` (excluded); int64 if all arguments are ints.

    >>> deepgrad.arange(4), deepgrad.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else dtypes.get_default_dtype().np
    arr = np.arange(start, end, step, dtype=dtypes.to_numpy_dtype(dtype))
    return _new_leaf(arr, requires_grad, device)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end``, both included.

    >>> deepgrad.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    return _new_leaf(
        np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad, device
    )


def _like(t: Tensor, dtype, device=None):
    """(shape, dtype, array module) for a ``*_like`` factory: the input's device by default."""
    dt = dtypes.to_numpy_dtype(dtype) if dtype is not None else t._data.dtype
    xp = array_module(t._data) if device is None else None
    return t._data.shape, dt, xp


def _make_like(xp, fn: str, device, requires_grad, *args):
    if xp is not None:  # on the input's device: no copy
        arr = getattr(xp, fn)(*args)
        _check_grad_dtype(arr, requires_grad)
        return _wrap(arr, requires_grad)
    return _new_leaf(getattr(np, fn)(*args), requires_grad, device)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device (unless told otherwise).

    >>> deepgrad.zeros_like(deepgrad.tensor([[1, 2]]))
    tensor([[0, 0]])
    """
    shape, dt, xp = _like(input, dtype, device)
    return _make_like(xp, "zeros", device, requires_grad, shape, dt)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with ``input``'s shape, dtype and device.

    >>> deepgrad.ones_like(deepgrad.tensor([1.5, 2.5]))
    tensor([1., 1.])
    """
    shape, dt, xp = _like(input, dtype, device)
    return _make_like(xp, "ones", device, requires_grad, shape, dt)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor with ``input``'s shape, dtype and device.

    >>> deepgrad.empty_like(deepgrad.zeros(2, 3)).shape
    (2, 3)
    """
    shape, dt, xp = _like(input, dtype, device)
    return _make_like(xp, "empty", device, requires_grad, shape, dt)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device.

    >>> deepgrad.full_like(deepgrad.zeros(2), 7)
    tensor([7., 7.])
    """
    shape, dt, xp = _like(input, dtype, device)
    return _make_like(xp, "full", device, requires_grad, shape, fill_value, dt)


# ---------------------------------------------------------------------- random
def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False, **_size_kw):
    """Uniform samples on [0, 1); with ``out=``, written into that tensor and returned.

    >>> x = deepgrad.rand(1000)
    >>> bool((x >= 0).all() and (x < 1).all()), x.dtype
    (True, deepgrad.float32)
    """
    dt = _float_dtype(dtype if dtype is not None or out is None else out.dtype)
    arr = rng(generator).random(_size(size, _size_kw), dtype=dt if dt != np.float16 else np.float32)
    if out is not None:
        out._data = arr.astype(dt, copy=False)
        return out
    return _new_leaf(arr.astype(dt, copy=False), requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **_size_kw):
    """Standard normal samples.

    >>> x = deepgrad.randn(10000)
    >>> abs(x.mean().item()) < 0.05, abs(x.std().item() - 1) < 0.05
    (True, True)
    """
    dt = _float_dtype(dtype)
    arr = rng(generator).standard_normal(
        _size(size, _size_kw), dtype=dt if dt != np.float16 else np.float32
    )
    return _new_leaf(arr.astype(dt, copy=False), requires_grad, device)


def randint(
    low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Integers on [low, high); ``randint(high, size)`` and ``randint(low, high, size)`` work.

    >>> x = deepgrad.randint(3, 5, (100,))
    >>> sorted(set(x.tolist())), x.dtype
    ([3, 4], deepgrad.int64)
    """
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if high is None:
        raise TypeError("randint() needs high and size, e.g. randint(0, 10, (3,))")
    dt = dtypes.to_numpy_dtype(dtype) if dtype is not None else np.int64
    arr = rng(generator).integers(low, high, _shape_arg((size,)), dtype=np.int64).astype(dt)
    return _wrap(place(arr, device))


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0, 1, ..., n - 1 (int64).

    >>> sorted(deepgrad.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    dt = dtypes.to_numpy_dtype(dtype) if dtype is not None else np.int64
    return _wrap(place(rng(generator).permutation(n).astype(dt), device))


def normal(
    mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None, requires_grad=False
):
    """Normal samples: ``normal(mean, std, size)`` with numbers, or tensors of means/stds.

    >>> deepgrad.normal(deepgrad.tensor([0., 100.]), 1e-6).round()
    tensor([  0., 100.])
    """
    if device is None:
        device = next((t.device for t in (mean, std) if isinstance(t, Tensor)), None)
    m = move(mean._data, "cpu") if isinstance(mean, Tensor) else mean
    s = move(std._data, "cpu") if isinstance(std, Tensor) else std
    shape = (
        _shape_arg((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    )
    if dtype is None and isinstance(mean, Tensor):
        dtype = mean.dtype
    arr = rng(generator).normal(m, s, shape).astype(_float_dtype(dtype))
    return _new_leaf(arr, requires_grad, device)


def _random_like(factory, input: Tensor, dtype, generator, device, requires_grad) -> Tensor:
    """``factory`` (rand or randn) with ``input``'s shape, dtype and device as defaults."""
    return factory(
        input.shape,
        dtype=dtype or input.dtype,
        generator=generator,
        device=device or input.device,
        requires_grad=requires_grad,
    )


def rand_like(
    input: Tensor, dtype=None, generator=None, device=None, requires_grad=False
) -> Tensor:
    """Uniform samples on [0, 1) with ``input``'s shape, dtype and device.

    >>> deepgrad.rand_like(deepgrad.zeros(2, 3)).shape
    (2, 3)
    """
    return _random_like(rand, input, dtype, generator, device, requires_grad)


def randn_like(
    input: Tensor, dtype=None, generator=None, device=None, requires_grad=False
) -> Tensor:
    """Standard normal samples with ``input``'s shape, dtype and device.

    >>> deepgrad.randn_like(deepgrad.zeros(2, 3, dtype=deepgrad.float64)).dtype
    deepgrad.float64
    """
    return _random_like(randn, input, dtype, generator, device, requires_grad)


def randint_like(input: Tensor, low=0, high=None, dtype=None, generator=None, device=None):
    """Integers on [low, high) with ``input``'s shape; ``randint_like(x, high)`` starts at 0.

    >>> deepgrad.randint_like(deepgrad.zeros(3), 1, 2)
    tensor([1., 1., 1.])
    """
    if high is None:
        low, high = 0, low
    return randint(
        low,
        high,
        input.shape,
        generator=generator,
        dtype=dtype or input.dtype,
        device=device or input.device,
    )


# ---------------------------------------------------------------------- legacy tensor types
class _LegacyTensorType(type):
    """``torch.FloatTensor`` and friends: old-style constructors and dtype-aware isinstance.

    ``FloatTensor(2, 3)`` is an uninitialised 2x3 float32 tensor (zeros here: deepgrad has no
    uninitialised memory to show), ``FloatTensor([1, 2])`` holds the data, and
    ``isinstance(x, FloatTensor)`` is true for float32 tensors only, as in PyTorch. The objects
    made are plain ``Tensor`` instances.
    """

    def __call__(cls, *args, **kwargs):
        dt = cls.dtype
        if "device" in kwargs:
            kwargs.pop("device")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected keyword arguments {sorted(kwargs)}")
        if not args:
            return _wrap(np.zeros((0,), dt.np))
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, (tuple, list)) or hasattr(data, "__array__"):
                return tensor(data, dtype=dt)
            raise TypeError(f"{cls.__name__}(): expected sizes or data, got {type(data).__name__}")
        return _wrap(np.zeros(_shape_arg(args), dt.np))

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np

    def __repr__(cls) -> str:
        return f"<class 'deepgrad.{cls.__name__}'>"


def _legacy(name: str) -> type:
    dt = dtypes.LEGACY_TENSOR_TYPES[name]
    return _LegacyTensorType(name, (), {"dtype": dt, "__doc__": f"Legacy {dt} tensor type."})


FloatTensor = _legacy("FloatTensor")
DoubleTensor = _legacy("DoubleTensor")
HalfTensor = _legacy("HalfTensor")
LongTensor = _legacy("LongTensor")
IntTensor = _legacy("IntTensor")
ShortTensor = _legacy("ShortTensor")
CharTensor = _legacy("CharTensor")
ByteTensor = _legacy("ByteTensor")
BoolTensor = _legacy("BoolTensor")


# ---------------------------------------------------------------------- sampling from tensors
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (or ``p``), in ``input``'s dtype; no gradient.

    >>> deepgrad.bernoulli(deepgrad.tensor([0., 1., 1.]))
    tensor([0., 1., 1.])
    """
    result = input.bernoulli(p, generator=generator)
    if out is not None:
        from deepgrad.functions import write_out

        return write_out("bernoulli", result, out)
    return result


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None):
    """Indices drawn with probability proportional to the rows of ``input`` (1-D or 2-D); see
    ``Tensor.multinomial``.

    >>> deepgrad.multinomial(deepgrad.tensor([0., 2., 1.]), 2).sort().values
    tensor([1, 2])
    """
    return input.multinomial(num_samples, replacement, generator=generator)
