"""``Tensor``: a NumPy array plus what autograd needs (``requires_grad``, ``grad``, its graph node).

The class is a thin PyTorch-shaped face: every differentiable method delegates to a primitive
``Op`` in ``deepgrad.ops`` or composes a few of them. Binary operators apply PyTorch's
type promotion (a float32 tensor times a Python float stays float32; an int64 tensor plus a
float32 tensor is float32), which NumPy alone would not do.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from deepgrad import _compat, dtypes, kernels, layout
from deepgrad.autograd.grad_mode import state as _grad_state
from deepgrad.backend import array_module
from deepgrad.device import as_device, check_device, device_of, on_cpu, place
from deepgrad.random import rng

_new = object.__new__
_ndarray = np.ndarray
_int_types = (int, np.integer)

values_indices = namedtuple("values_indices", ["values", "indices"])

# 0-d constants for Python scalars in expressions like `1 - p` or `0.5 * x`, built once per
# (value, dtype): creating them was a measurable share of small models' step time.
_scalar_cache: dict = {}


def _wrap(array, requires_grad: bool = False) -> Tensor:
    """A leaf tensor around ``array`` (no copy, no checks): the internal fast constructor."""
    t = _new(Tensor)
    t._data = array
    t.grad = None
    t._ctx = None
    t._retain = False
    t.requires_grad = requires_grad
    return t


def _graph_inplace_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name}() would change a tensor that is part of a recorded graph; deepgrad does not "
        f"record in-place ops. Write it out of place (x = x + y), or run it under "
        f"`with deepgrad.no_grad():`."
    )


def _as_array(data, dtype=None) -> np.ndarray:
    """NumPy array for ``data`` with PyTorch's dtype inference (Python floats -> float32)."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, _ndarray):
        arr = data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in torch
        arr = np.asarray(data)
    elif array_module(data) is not np:  # a GPU (CuPy) array stays on its device
        arr = data
    else:
        arr = np.asarray(_unwrap_nested(data))
        if dtype is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(dtypes.get_default_dtype().np)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
            elif arr.dtype.kind not in "b":
                raise TypeError(
                    f"can't build a tensor from {type(data).__name__} data of NumPy kind "
                    f"{arr.dtype}; pass numbers, nested lists of numbers, or an ndarray"
                )
    if dtype is not None:
        arr = arr.astype(dtypes.to_numpy_dtype(dtype), copy=False)
    dtypes.from_numpy_dtype(arr.dtype)  # rejects unsupported dtypes with a clear message
    return arr


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and any(isinstance(x, (Tensor, list, tuple)) for x in data):
        return [_unwrap_nested(x) for x in data]
    return data


def _check_grad_dtype(array, requires_grad) -> None:
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError(
            f"Only floating-point tensors can require gradients, but this one is "
            f"{dtypes.from_numpy_dtype(array.dtype)}. Integers and booleans change in steps, so "
            "there is no derivative to follow. Convert first, e.g. x.float().requires_grad_()."
        )


def _new_leaf(array, requires_grad: bool = False, device=None) -> Tensor:
    """A leaf tensor holding ``array`` on ``device`` (the default device when None): how every
    factory, and ``Tensor.new_*``, ends."""
    _check_grad_dtype(array, requires_grad)
    return _wrap(place(array, device), requires_grad)


def _axes(dim, ndim: int):
    """Normalise ``dim`` (int, tuple or None) to a tuple of non-negative axes, or None."""
    if dim is None:
        return None
    if isinstance(dim, _int_types):
        dim = (dim,)
    out = []
    for d in dim:
        lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
        if not lo <= d <= hi:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(out)


def _category(dt) -> int:
    return 2 if dt.kind == "f" else (0 if dt.kind == "b" else 1)


def _promote_pair(a, b):
    """torch.promote_types: the smallest dtype holding both (int with float gives the float)."""
    if a is None or a == b:
        return b
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_type_of(operands) -> np.dtype:
    """The dtype of an op over ``operands`` (tensors, arrays): PyTorch's promotion rule.

    This is the one rule every op uses (``a + b``, ``cat``, ``stack``, ``where``). Operands are
    grouped into dimensioned tensors and 0-d tensors; each group promotes within itself, and a
    0-d group only decides the result if it is of a higher category (bool < integer < float)
    than the dimensioned group: float32 tensor + float64 0-d tensor is float32, but an int64
    tensor with a float64 0-d tensor is float64. Python scalars are made 0-d tensors of their
    "weak" dtype by ``Tensor._other`` before they reach this rule.
    """
    dim_dt = zero_dt = None
    for x in operands:
        a = x._data if isinstance(x, Tensor) else x
        if a.ndim:
            dim_dt = _promote_pair(dim_dt, a.dtype)
        else:
            zero_dt = _promote_pair(zero_dt, a.dtype)
    if dim_dt is None:
        return zero_dt
    if zero_dt is None:
        return dim_dt
    # torch's combine_categories(higher=dimensioned, lower=0-d)
    if dim_dt.kind == "f":
        return dim_dt
    if dim_dt.kind == "b" or zero_dt.kind == "f":
        return _promote_pair(dim_dt, zero_dt)
    return dim_dt


def _result_dtype(a: np.ndarray, b: np.ndarray):
    return result_type_of((a, b))


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Create one with ``deepgrad.tensor(data, requires_grad=...)``. ``Tensor(data)`` also works
    and, like ``torch.Tensor``, always gives the default dtype (float32 unless changed).

    >>> deepgrad.Tensor([1, 2]), deepgrad.Tensor(2, 3).shape
    (tensor([1., 2.]), (2, 3))
    """

    # a dict of __slots__ gives the public attributes their docstrings (help(Tensor.grad))
    __slots__ = {
        "_data": None,
        "grad": """The gradient accumulated by ``backward()``: None until then, leaves only
        unless ``retain_grad()`` was called.

        >>> x = deepgrad.tensor([1., 2.], requires_grad=True)
        >>> (x * x).sum().backward(); x.grad
        tensor([2., 4.])
        """,
        "requires_grad": """True if operations on this tensor are recorded for ``backward()``.

        >>> deepgrad.zeros(1).requires_grad, deepgrad.zeros(1, requires_grad=True).requires_grad
        (False, True)
        """,
        "_ctx": None,
        "_retain": None,
        "__weakref__": None,
    }
    __array_priority__ = 1000
    __array_ufunc__ = None  # `ndarray + tensor` defers to Tensor.__radd__ instead of NumPy

    def __init__(self, data=(), *sizes, dtype=None, requires_grad: bool = False) -> None:
        if sizes or isinstance(data, _int_types) and not isinstance(data, builtins.bool):
            # the legacy constructor Tensor(2, 3): a new tensor of that shape (zeros here,
            # where torch leaves the memory uninitialised)
            dt = dtypes.to_numpy_dtype(dtype) if dtype is not None else None
            data = np.zeros(_shape_arg((data, *sizes)), dt or dtypes.get_default_dtype().np)
        arr = _as_array(data, dtype or dtypes.get_default_dtype())
        if arr is data or (isinstance(data, Tensor) and arr is data._data):
            arr = arr.copy()
        self._init_leaf(arr, requires_grad)

    def _init_leaf(self, arr, requires_grad: bool) -> None:
        """Hold ``arr`` as a leaf of the graph with no gradient yet: how Tensor() and
        Parameter() both end."""
        _check_grad_dtype(arr, requires_grad)
        self._data = arr
        self.grad = None
        self._ctx = None
        self._retain = False
        self.requires_grad = requires_grad

    # ---------------------------------------------------------------- basic attributes
    @property
    def data(self) -> Tensor:
        """The same storage as a tensor that records no graph (PyTorch's ``.data``).

        >>> x = deepgrad.ones(2, requires_grad=True)
        >>> x.data.requires_grad, x.data.numpy() is x.detach().numpy()
        (False, True)
        """
        return _wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple:
        """The size of each dimension. Deviation: a plain tuple (torch's ``torch.Size`` is a
        tuple subclass).

        >>> deepgrad.zeros(2, 3).shape
        (2, 3)
        """
        return self._data.shape

    @property
    def dtype(self) -> dtypes.dtype:
        """The element type, e.g. ``deepgrad.float32``.

        >>> deepgrad.tensor([1, 2]).dtype, deepgrad.tensor([1.0]).dtype
        (deepgrad.int64, deepgrad.float32)
        """
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        """The number of dimensions (``dim()``).

        >>> deepgrad.zeros(2, 3).ndim
        2
        """
        return self._data.ndim

    @property
    def device(self):
        """Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=0)``.

        >>> deepgrad.zeros(1).device
        device(type='cpu')
        """
        return device_of(self._data)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (no ``grad_fn``); only leaves get ``.grad``.

        >>> x = deepgrad.ones(2, requires_grad=True)
        >>> x.is_leaf, (x * 2).is_leaf
        (True, False)
        """
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node (op) that produced this tensor, or None for a leaf.

        >>> x = deepgrad.ones(2, requires_grad=True)
        >>> x.grad_fn, (x * 2).grad_fn.name()
        (None, 'MulBackward0')
        """
        return self._ctx

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed: ``x.T[i, j] = x[j, i]`` for a matrix (a view).

        >>> deepgrad.tensor([[1, 2, 3]]).T
        tensor([[1],
                [2],
                [3]])
        """
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two dimensions swapped: a batch of matrices transposed (a view).

        >>> deepgrad.zeros(5, 2, 3).mT.shape
        (5, 3, 2)
        """
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim`` (deviation: a tuple, not ``torch.Size``).

        >>> x = deepgrad.zeros(2, 3)
        >>> x.size(), x.size(-1)
        ((2, 3), 3)
        """
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        """The number of dimensions.

        >>> deepgrad.zeros(2, 3, 4).dim()
        3
        """
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements: the product of the shape.

        >>> deepgrad.zeros(2, 3).numel()
        6
        """
        return self._data.size

    def nelement(self) -> int:
        """The number of elements (an alias of ``numel``).

        >>> deepgrad.zeros(2, 3).nelement()
        6
        """
        return self._data.size

    def element_size(self) -> int:
        """Bytes per element.

        >>> deepgrad.zeros(2).element_size(), deepgrad.zeros(2).double().element_size()
        (4, 8)
        """
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """True for float16, float32 and float64 tensors.

        >>> deepgrad.tensor([1.0]).is_floating_point(), deepgrad.tensor([1]).is_floating_point()
        (True, False)
        """
        return self._data.dtype.kind == "f"

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> deepgrad.tensor([[2.5]]).item()
        2.5
        """
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape "
                f"{tuple(self.shape)} ({self._data.size} elements); reduce it first (e.g. .sum())"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array, sharing memory (as PyTorch's ``.numpy()``).

        >>> deepgrad.tensor([1., 2.]).numpy()
        array([1., 2.], dtype=float32)
        """
        _host_only(self, "numpy")
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad. Use tensor.detach().numpy()."
            )
        return self._data

    def tolist(self):
        """The elements as (nested) Python lists of numbers.

        >>> deepgrad.tensor([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        """
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        _host_only(self, "numpy")
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self._data.size} values is ambiguous; use "
                ".any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        from deepgrad._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)

    # ---------------------------------------------------------------- autograd
    def backward(
        self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None
    ) -> None:
        """Back-propagate from this tensor, accumulating d self / d leaf into each leaf's .grad.

        With ``inputs`` (a tensor or a sequence of them), only those tensors' ``.grad`` is
        accumulated into, as in PyTorch (deviation: non-leaf tensors with ``retain_grad()`` are
        filled only when they are among ``inputs``). ``create_graph=True`` (double backward) is not
        supported: deepgrad's backward runs on arrays.

        >>> x = deepgrad.tensor([1., 2., 3.], requires_grad=True)
        >>> (x ** 2).sum().backward(); x.grad
        tensor([2., 4., 6.])
        """
        from deepgrad.autograd import engine

        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): deepgrad computes gradients on arrays, so a "
                "graph of the backward pass (for higher-order derivatives) is not recorded."
            )
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
            if not inputs:
                raise RuntimeError("backward(): 'inputs' argument to backward() cannot be empty.")
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad and has no grad_fn: "
                "none of its inputs had requires_grad=True, or it was computed under no_grad()."
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() can only create the gradient implicitly for a scalar output, "
                    f"but this tensor has shape {tuple(self.shape)}. Reduce it first "
                    f"(loss = out.sum() or out.mean()), or pass the upstream gradient: "
                    f"out.backward(gradient=deepgrad.ones_like(out))."
                )
            grad = array_module(self._data).ones_like(self._data)
        else:
            grad = _as_array(gradient, self._data.dtype)
            if grad.shape != self._data.shape:
                raise RuntimeError(
                    f"backward(): gradient has shape {tuple(grad.shape)} but the tensor has "
                    f"shape {tuple(self.shape)}; they must match."
                )
        if inputs is None:
            engine.backward(self, grad, retain_graph=bool(retain_graph))
            return
        collected = engine.backward(self, grad, retain_graph=bool(retain_graph), inputs=inputs)
        for t in inputs:
            g = collected[id(t)]
            if g is None:
                continue
            if t.grad is None:
                t.grad = _wrap(np.array(g, dtype=t._data.dtype))
            else:
                t.grad._data += g

    def detach(self) -> Tensor:
        """The same data (shared memory) cut from the graph: no ``grad_fn``, no ``requires_grad``.

        >>> x = deepgrad.ones(2, requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        return _wrap(self._data)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place; returns ``self``.

        >>> y = deepgrad.ones(2, requires_grad=True) * 2
        >>> y.detach_().grad_fn is None
        True
        """
        self._ctx = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf, in place; returns ``self``.

        >>> deepgrad.zeros(2).requires_grad_().requires_grad
        True
        """
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use .detach() instead"
            )
        _check_grad_dtype(self._data, requires_grad)
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (as PyTorch).

        >>> x = deepgrad.tensor([1., 2.], requires_grad=True)
        >>> y = x * 3; y.retain_grad(); (y * y).sum().backward(); y.grad
        tensor([ 6., 12.])
        """
        if self._ctx is not None:
            self._retain = True

    @property
    def retains_grad(self) -> bool:
        """True once ``retain_grad()`` was called on this non-leaf tensor.

        >>> y = deepgrad.ones(2, requires_grad=True) * 2
        >>> y.retain_grad(); y.retains_grad
        True
        """
        return self._retain

    def register_post_accumulate_grad_hook(self, hook):
        """Run ``hook(self)`` after each ``backward()`` has accumulated this leaf's gradient
        into ``self.grad`` (PyTorch's semantics: once per backward, after all uses are summed).
        Returns a handle whose ``remove()`` unregisters the hook.

        >>> x = deepgrad.tensor([1., 2.], requires_grad=True)
        >>> handle = x.register_post_accumulate_grad_hook(lambda t: print("grad:", t.grad))
        >>> (x * 2).sum().backward()
        grad: tensor([2., 2.])
        """
        from deepgrad.autograd.hooks import register_post_accumulate_grad_hook

        return register_post_accumulate_grad_hook(self, hook)

    # ---------------------------------------------------------------- conversion
    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)`` (its dtype
        and device). Returns ``self`` when nothing changes, as PyTorch; a move between devices
        is differentiable (the gradient moves back).

        >>> x = deepgrad.tensor([1, 2])
        >>> x.to(deepgrad.float64), x.to("cpu") is x
        (tensor([1., 2.], dtype=deepgrad.float64), True)
        """
        dtype = kwargs.get("dtype")
        target = kwargs.get("device")
        for a in args:
            if isinstance(a, Tensor):
                dtype, target = a.dtype, a.device
            elif isinstance(a, (str, builtins.int)) or type(a).__name__ == "device":
                target = a
            elif a is not None:
                dtype = a
        out = self._to_dtype(dtype) if dtype is not None else self
        if target is not None:
            target = as_device(target)
            if target != device_of(out._data) and not (
                target.index is None and target.type == device_of(out._data).type
            ):
                from deepgrad.ops.transfer import ToDevice

                if out.requires_grad and _grad_state.enabled:
                    return ToDevice.apply(out, device=target)
                return _wrap(ToDevice.move(out._data, target))
        return out

    def _to_dtype(self, dtype) -> Tensor:
        target = dtypes.to_numpy_dtype(dtype)
        if target == self._data.dtype:
            return self
        if self.requires_grad and target.kind == "f":
            return _E.Cast.apply(self, dtype=target)
        return _wrap(self._data.astype(target))

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """``x.type()`` names the legacy type ("deepgrad.FloatTensor" where torch says
        "torch.FloatTensor"); ``x.type(t)`` converts to a dtype, a legacy type such as
        ``deepgrad.LongTensor``, or its name ("torch.LongTensor").

        >>> x = deepgrad.tensor([1.5])
        >>> x.type(), x.type(deepgrad.LongTensor)
        ('deepgrad.FloatTensor', tensor([1]))
        """
        if dtype is None:
            return f"deepgrad.{dtypes.legacy_type_name(self._data.dtype)}"
        if isinstance(dtype, str):
            dtype = dtypes.legacy_type_dtype(dtype)
        elif isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), dtypes.dtype):
            dtype = dtype.dtype  # a legacy type (deepgrad.LongTensor): a class holding its dtype
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to ``other``'s dtype.

        >>> deepgrad.tensor([1, 2]).type_as(deepgrad.zeros(1))
        tensor([1., 2.])
        """
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """Converted to float32 (``self`` if it is already).

        >>> deepgrad.tensor([1, 2]).float()
        tensor([1., 2.])
        """
        return self.to(np.float32)

    def double(self) -> Tensor:
        """Converted to float64.

        >>> deepgrad.tensor([1, 2]).double().dtype
        deepgrad.float64
        """
        return self.to(np.float64)

    def half(self) -> Tensor:
        """Converted to float16.

        >>> deepgrad.tensor([1, 2]).half().dtype
        deepgrad.float16
        """
        return self.to(np.float16)

    def long(self) -> Tensor:
        """Converted to int64 (floats are truncated toward zero).

        >>> deepgrad.tensor([1.7, -1.7]).long()
        tensor([ 1, -1])
        """
        return self.to(np.int64)

    def int(self) -> Tensor:
        """Converted to int32 (floats are truncated toward zero).

        >>> deepgrad.tensor([1.7]).int().dtype
        deepgrad.int32
        """
        return self.to(np.int32)

    def bool(self) -> Tensor:
        """Converted to bool: nonzero is True.

        >>> deepgrad.tensor([0.0, 2.0]).bool()
        tensor([False,  True])
        """
        return self.to(np.bool_)

    @property
    def is_cuda(self) -> bool:
        """True when the data lives on a GPU.

        >>> deepgrad.zeros(1).is_cuda
        False
        """
        return not on_cpu(self._data)

    @property
    def is_cpu(self) -> bool:
        """True when the data lives in host memory.

        >>> deepgrad.zeros(1).is_cpu
        True
        """
        return on_cpu(self._data)

    def cpu(self) -> Tensor:
        """This tensor on the CPU (a copy from the GPU; ``self`` if it is there already).

        >>> x = deepgrad.zeros(1)
        >>> x.cpu() is x
        True
        """
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        """This tensor on a GPU (``cuda:0`` unless ``device`` says otherwise).

        >>> deepgrad.zeros(1).cuda().is_cuda if deepgrad.cuda.is_available() else True
        True
        """
        if isinstance(device, builtins.int):
            device = f"cuda:{device}"
        return self.to(device if device is not None else "cuda")

    def clone(self, *, memory_format=layout.preserve_format) -> Tensor:
        """A copy that stays in the graph (its gradient flows back to ``self``).

        The copy keeps this tensor's layout (``preserve_format``), as in torch; pass
        ``memory_format=deepgrad.contiguous_format`` for a row-major copy.

        >>> xt = deepgrad.tensor([[1., 2.], [3., 4.]]).t()
        >>> row_major = xt.clone(memory_format=deepgrad.contiguous_format)
        >>> xt.clone().is_contiguous(), row_major.is_contiguous()
        (False, True)
        """
        layout.check_supported(
            memory_format, (layout.preserve_format, layout.contiguous_format), "clone"
        )
        if self.requires_grad and _grad_state.enabled:
            out = _E.Mul.apply(self, _wrap(array_module(self._data).ones((), self._data.dtype)))
        else:
            out = _wrap(self._data.copy(order="K"))
        return out.contiguous() if memory_format is layout.contiguous_format else out

    def contiguous(self, memory_format=layout.contiguous_format) -> Tensor:
        """``self`` if it is already row-major, else a row-major copy (differentiable).

        >>> x = deepgrad.tensor([[1., 2.], [3., 4.]]).t()
        >>> x.is_contiguous(), x.contiguous().is_contiguous()
        (False, True)
        """
        layout.check_supported(memory_format, (layout.contiguous_format,), "contiguous")
        if self._data.flags.c_contiguous:
            return self
        return _S.Contiguous.apply(self)

    def is_contiguous(self, memory_format=layout.contiguous_format) -> bool:
        """Whether the elements lie in memory in row-major (C) order, as torch's strides say.

        Like torch: a transpose, a permute, a strided slice or an expand is not contiguous, and
        elementwise ops keep their input's layout. Deviation: a convolution's output is not
        contiguous (it is computed batch-last, see ``ops/conv.py``; torch's is), and neither
        are ``cat``/``stack`` of transposed inputs or a sum of a transposed and a plain tensor
        (NumPy picks those layouts).

        >>> x = deepgrad.zeros(2, 3)
        >>> x.is_contiguous(), x.t().is_contiguous(), x.t().contiguous().is_contiguous()
        (True, False, True)
        """
        layout.check_supported(memory_format, (layout.contiguous_format,), "is_contiguous")
        return builtins.bool(self._data.flags.c_contiguous)

    # ---------------------------------------------------------------- arithmetic
    def _other(self, other) -> Tensor:
        """Turn a Python or NumPy scalar into a 0-d tensor of the right dtype for ``self``."""
        if isinstance(other, Tensor):
            return other
        dt = self._data.dtype
        key = (other, dt, type(other), type(self._data))
        cached = _scalar_cache.get(key)
        if cached is not None:
            return cached
        if isinstance(other, (float, np.floating)) and dt.kind != "f":
            dt = dtypes.get_default_dtype().np
        elif (
            isinstance(other, (int, np.integer)) and not isinstance(other, bool) and dt.kind == "b"
        ):
            dt = np.dtype(np.int64)
        elif isinstance(other, _ndarray):
            return _wrap(other)
        elif not isinstance(other, (builtins.bool, int, float, np.generic)):
            raise TypeError(
                f"unsupported operand: tensor and {type(other).__name__}; expected a tensor or a "
                "number"
            )
        const = _wrap(array_module(self._data).asarray(other, dtype=dt))
        if len(_scalar_cache) > 4096:
            _scalar_cache.clear()
        _scalar_cache[key] = const
        return const

    def _binary(self, fn, other, reverse=False) -> Tensor:
        other = self._other(other)
        a, b = (other, self) if reverse else (self, other)
        if a._data.dtype is not b._data.dtype and a._data.dtype != b._data.dtype:
            dt = _result_dtype(a._data, b._data)
            a, b = a.to(dt), b.to(dt)
        return fn.apply(a, b)

    def __add__(self, other):
        return self._binary(_E.Add, other)

    def __radd__(self, other):
        return self._binary(_E.Add, other, True)

    def __sub__(self, other):
        _no_bool_sub(self, other)
        return self._binary(_E.Sub, other)

    def __rsub__(self, other):
        _no_bool_sub(self, other)
        return self._binary(_E.Sub, other, True)

    def __mul__(self, other):
        return self._binary(_E.Mul, other)

    def __rmul__(self, other):
        return self._binary(_E.Mul, other, True)

    def __truediv__(self, other):
        if self._data.dtype.kind != "f" and not (
            isinstance(other, Tensor) and other._data.dtype.kind == "f"
        ):
            return self.float()._binary(_E.Div, other)  # int / int is true division, in float
        return self._binary(_E.Div, other)

    def __rtruediv__(self, other):
        if self._data.dtype.kind != "f":
            return self.float()._binary(_E.Div, other, True)
        return self._binary(_E.Div, other, True)

    def _no_grad_binary(self, op, other, reverse=False) -> Tensor:
        """A non-differentiable binary op with the same promotion as ``+`` (not NumPy's)."""
        other = self._other(other)
        a, b = (other, self) if reverse else (self, other)
        dt = result_type_of((a, b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _wrap(
                np.asarray(op(a._data.astype(dt, copy=False), b._data.astype(dt, copy=False)))
            )

    def __floordiv__(self, other):
        return self._no_grad_binary(np.floor_divide, other)

    def __rfloordiv__(self, other):
        return self._no_grad_binary(np.floor_divide, other, True)

    def __mod__(self, other):
        return self._no_grad_binary(np.mod, other)

    def __rmod__(self, other):
        return self._no_grad_binary(np.mod, other, True)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return self._binary(_E.Pow, exponent)
        if self._data.dtype.kind != "f" and isinstance(exponent, float):
            return self.float() ** exponent
        return _E.PowScalar.apply(self, exponent=exponent)

    def __rpow__(self, base):
        return self._binary(_E.Pow, base, True)

    def __neg__(self):
        return _E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _E.Abs.apply(self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return self._other(other).matmul(self)

    # In-place operators change the array itself when no graph is being recorded through this
    # tensor (parameter updates under no_grad); otherwise they fall back to the out-of-place op,
    # which is what Python's ``x += y`` means for a tensor inside a computation.
    def _recording(self, name: str) -> bool:
        """True when a graph is recorded through this tensor, so it may not change in place;
        an error for a leaf that requires grad."""
        if _grad_state.enabled and self.requires_grad:
            if self._ctx is None:
                raise RuntimeError(
                    f"a leaf tensor that requires grad is being used in an in-place operation "
                    f"({name}). Wrap parameter updates in `with deepgrad.no_grad():`."
                )
            return True
        return False

    def _inplace(self, name: str, op, other) -> bool:
        """Apply ``op`` in place and return True, or return False if a graph is recorded."""
        if self._recording(name):
            return False
        other = other._data if isinstance(other, Tensor) else other
        op(self._data, other, out=self._data, casting="unsafe")
        return True

    def __iadd__(self, other):
        return self if self._inplace("+=", np.add, other) else self + other

    def __isub__(self, other):
        return self if self._inplace("-=", np.subtract, other) else self - other

    def __imul__(self, other):
        return self if self._inplace("*=", np.multiply, other) else self * other

    def __itruediv__(self, other):
        return self if self._inplace("/=", np.divide, other) else self / other

    def _inplace_method(self, name: str, op, other) -> Tensor:
        if not self._inplace(name, op, other):
            raise _graph_inplace_error(name)
        return self

    def add_(self, other, alpha=1) -> Tensor:
        """In place: ``self += alpha * other``; returns ``self``.

        >>> deepgrad.tensor([1., 2.]).add_(1, alpha=3)
        tensor([4., 5.])
        """
        return self._inplace_method("add_", np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        """In place: ``self -= alpha * other``; returns ``self``.

        >>> deepgrad.tensor([1., 2.]).sub_(1)
        tensor([0., 1.])
        """
        return self._inplace_method("sub_", np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other) -> Tensor:
        """In place: ``self *= other``; returns ``self``.

        >>> deepgrad.tensor([1., 2.]).mul_(2)
        tensor([2., 4.])
        """
        return self._inplace_method("mul_", np.multiply, other)

    def div_(self, other) -> Tensor:
        """In place: ``self /= other``; returns ``self``.

        >>> deepgrad.tensor([1., 2.]).div_(2)
        tensor([0.5000, 1.0000])
        """
        return self._inplace_method("div_", np.divide, other)

    def clamp_(self, min=None, max=None) -> Tensor:
        """In place: every element clipped to ``[min, max]``; returns ``self``.

        >>> deepgrad.tensor([-2., 0.5, 3.]).clamp_(0, 1)
        tensor([0.0000, 0.5000, 1.0000])
        """
        self._inplace_method("clamp_", np.add, 0)
        np.clip(self._data, min, max, out=self._data)
        return self

    def zero_(self) -> Tensor:
        """In place: every element set to 0; returns ``self``.

        >>> deepgrad.ones(2).zero_()
        tensor([0., 0.])
        """
        self._inplace_method("zero_", np.multiply, 0)
        self._data[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        """In place: every element set to ``value``; returns ``self``.

        >>> deepgrad.zeros(2).fill_(7)
        tensor([7., 7.])
        """
        self._inplace_method("fill_", np.add, 0)
        self._data[...] = value._data if isinstance(value, Tensor) else value
        return self

    def copy_(self, src) -> Tensor:
        """In place: the elements of ``src`` (broadcast to this shape, cast to this dtype).

        >>> deepgrad.zeros(2, 2).copy_(deepgrad.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
        """
        self._inplace_method("copy_", np.add, 0)
        src = src._data if isinstance(src, Tensor) else np.asarray(src)
        if not on_cpu(self._data) or not on_cpu(src):  # copy_ may cross devices, as in torch
            from deepgrad.device import move

            src = move(src, device_of(self._data))
        try:
            xp = array_module(self._data)
            xp.copyto(self._data, xp.broadcast_to(src, self._data.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"copy_: source of shape {tuple(np.shape(src))} can't be copied into a tensor of "
                f"shape {tuple(self.shape)}"
            ) from None
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        """In place: values drawn uniformly from ``[a, b)``; returns ``self``.

        >>> x = deepgrad.zeros(1000).uniform_(2, 3)
        >>> bool((x >= 2).all() and (x < 3).all())
        True
        """
        from deepgrad.random import rng

        return self.copy_(rng(generator).uniform(a, b, self._data.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        """In place: values drawn from N(mean, std^2); returns ``self``.

        >>> x = deepgrad.zeros(10000).normal_(5, 0.1, generator=deepgrad.Generator().manual_seed(0))
        >>> round(x.mean().item(), 1)
        5.0
        """
        from deepgrad.random import rng

        return self.copy_(rng(generator).normal(mean, std, self._data.shape))

    def __setitem__(self, key, value) -> None:
        if _grad_state.enabled and self.requires_grad:
            raise RuntimeError(
                "item assignment (x[...] = v) on a tensor that requires grad isn't recorded by "
                "deepgrad; build the values out of place (e.g. with deepgrad.where) or assign "
                "under `with deepgrad.no_grad():`."
            )
        self._data[_index_key(key)[0]] = value._data if isinstance(value, Tensor) else value

    # ---------------------------------------------------------------- comparisons (no grad)
    def _compare(self, op, other) -> Tensor:
        other = other._data if isinstance(other, Tensor) else other
        return _wrap(op(self._data, other))

    def __eq__(self, other):
        """Elementwise ``self == other`` as a bool tensor (``eq``; no gradient).

        >>> deepgrad.tensor([1, 2]) == 2
        tensor([False,  True])
        """
        return self._compare(np.equal, other)

    def __ne__(self, other):
        """Elementwise ``self != other`` as a bool tensor (``ne``).

        >>> deepgrad.tensor([1, 2]).ne(2)
        tensor([ True, False])
        """
        return self._compare(np.not_equal, other)

    def __lt__(self, other):
        """Elementwise ``self < other`` as a bool tensor (``lt``).

        >>> deepgrad.tensor([1, 2]).lt(2)
        tensor([ True, False])
        """
        return self._compare(np.less, other)

    def __le__(self, other):
        """Elementwise ``self <= other`` as a bool tensor (``le``).

        >>> deepgrad.tensor([1, 2]).le(2)
        tensor([True, True])
        """
        return self._compare(np.less_equal, other)

    def __gt__(self, other):
        """Elementwise ``self > other`` as a bool tensor (``gt``).

        >>> deepgrad.tensor([1, 2]).gt(1)
        tensor([False,  True])
        """
        return self._compare(np.greater, other)

    def __ge__(self, other):
        """Elementwise ``self >= other`` as a bool tensor (``ge``).

        >>> deepgrad.tensor([1, 2]).ge(2)
        tensor([False,  True])
        """
        return self._compare(np.greater_equal, other)

    def __and__(self, other):
        return self._compare(np.bitwise_and, other)

    def __or__(self, other):
        return self._compare(np.bitwise_or, other)

    def __xor__(self, other):
        return self._compare(np.bitwise_xor, other)

    def __invert__(self):
        return _wrap(~self._data)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def equal(self, other) -> bool:
        """True if both tensors have the same shape and elements.

        >>> deepgrad.tensor([1, 2]).equal(deepgrad.tensor([1, 2]))
        True
        """
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
        """True if ``|self - other| <= atol + rtol * |other|`` everywhere.

        >>> deepgrad.tensor([1.0]).allclose(deepgrad.tensor([1.0 + 1e-7]))
        True
        """
        return bool(np.allclose(self._data, _as_array(other), rtol, atol, equal_nan))

    def isnan(self) -> Tensor:
        """Where the elements are NaN, as a bool tensor.

        >>> deepgrad.tensor([1.0, float("nan")]).isnan()
        tensor([False,  True])
        """
        return _wrap(np.isnan(self._data))

    def isinf(self) -> Tensor:
        """Where the elements are +inf or -inf, as a bool tensor.

        >>> deepgrad.tensor([1.0, float("-inf")]).isinf()
        tensor([False,  True])
        """
        return _wrap(np.isinf(self._data))

    def isfinite(self) -> Tensor:
        """Where the elements are neither inf nor NaN, as a bool tensor.

        >>> deepgrad.tensor([1.0, float("inf"), float("nan")]).isfinite()
        tensor([ True, False, False])
        """
        return _wrap(np.isfinite(self._data))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
        """True if every element (along ``dim``) is nonzero.

        >>> deepgrad.tensor([[True, False], [True, True]]).all(dim=1)
        tensor([False,  True])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return _wrap(
            array_module(self._data).asarray(
                self._data.all(axis=_axes(dim, self.ndim), keepdims=keepdim)
            )
        )

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
        """True if some element (along ``dim``) is nonzero.

        >>> deepgrad.tensor([[0, 0], [0, 3]]).any(dim=1)
        tensor([False,  True])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return _wrap(
            array_module(self._data).asarray(
                self._data.any(axis=_axes(dim, self.ndim), keepdims=keepdim)
            )
        )

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element; its gradient is 0.

        >>> deepgrad.tensor([-2., 0., 3.]).sign()
        tensor([-1.,  0.,  1.])
        """
        return _piecewise(self, _E.sign_array)

    def floor(self) -> Tensor:
        """The largest integer <= x, elementwise; gradient 0.

        >>> deepgrad.tensor([-1.5, 1.5]).floor()
        tensor([-2.,  1.])
        """
        return _piecewise(self, np.floor)

    def ceil(self) -> Tensor:
        """The smallest integer >= x, elementwise; gradient 0.

        >>> deepgrad.tensor([-1.5, 1.5]).ceil()
        tensor([-1.,  2.])
        """
        return _piecewise(self, np.ceil)

    def round(self) -> Tensor:
        """The nearest integer, halves to even (as torch); gradient 0.

        >>> deepgrad.tensor([0.5, 1.5, 2.7]).round()
        tensor([0., 2., 3.])
        """
        return _piecewise(self, np.round)

    # ---------------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        """e^x, elementwise; d/dx = e^x.

        >>> deepgrad.tensor([0.0, 1.0]).exp()
        tensor([1.0000, 2.7183])
        """
        return _E.Exp.apply(self._floating())

    def log(self) -> Tensor:
        """The natural logarithm, elementwise; d/dx = 1/x.

        >>> deepgrad.tensor([1.0, 2.718281828]).log()
        tensor([0., 1.])
        """
        return _E.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        """The square root, elementwise; d/dx = 1 / (2 sqrt(x)).

        >>> deepgrad.tensor([4.0, 9.0]).sqrt()
        tensor([2., 3.])
        """
        return _E.Sqrt.apply(self._floating())

    def rsqrt(self) -> Tensor:
        """1 / sqrt(x), elementwise.

        >>> deepgrad.tensor([4.0, 16.0]).rsqrt()
        tensor([0.5000, 0.2500])
        """
        return 1 / self.sqrt()

    def sin(self) -> Tensor:
        """The sine, elementwise; d/dx = cos(x).

        >>> deepgrad.tensor([0.0]).sin()
        tensor([0.])
        """
        return _E.Sin.apply(self._floating())

    def cos(self) -> Tensor:
        """The cosine, elementwise; d/dx = -sin(x).

        >>> deepgrad.tensor([0.0]).cos()
        tensor([1.])
        """
        return _E.Cos.apply(self._floating())

    def abs(self) -> Tensor:
        """|x|, elementwise; d/dx = sign(x) (0 at 0, as torch).

        >>> deepgrad.tensor([-2, 3]).abs()
        tensor([2, 3])
        """
        return _E.Abs.apply(self)

    def neg(self) -> Tensor:
        """-x, elementwise.

        >>> deepgrad.tensor([1., -2.]).neg()
        tensor([-1.,  2.])
        """
        return _E.Neg.apply(self)

    def square(self) -> Tensor:
        """x^2, elementwise; d/dx = 2x.

        >>> deepgrad.tensor([-3., 2.]).square()
        tensor([9., 4.])
        """
        return _E.PowScalar.apply(self, exponent=2)

    def pow(self, exponent) -> Tensor:
        """x^exponent, elementwise; d/dx = exponent * x^(exponent - 1).

        >>> deepgrad.tensor([2., 3.]).pow(2)
        tensor([4., 9.])
        """
        return self**exponent

    def reciprocal(self) -> Tensor:
        """1 / x, elementwise; d/dx = -1/x^2.

        >>> deepgrad.tensor([2., 4.]).reciprocal()
        tensor([0.5000, 0.2500])
        """
        return 1 / self

    def tanh(self) -> Tensor:
        """The hyperbolic tangent, elementwise; d/dx = 1 - tanh(x)^2.

        >>> deepgrad.tensor([0.0]).tanh()
        tensor([0.])
        """
        return _E.Tanh.apply(self._floating())

    def erf(self) -> Tensor:
        """The error function 2/sqrt(pi) * integral_0^x e^(-t^2) dt; d/dx = 2/sqrt(pi) e^(-x^2).

        >>> deepgrad.tensor([0.0]).erf()
        tensor([0.])
        """
        return _E.Erf.apply(self._floating())

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^(-x)), elementwise; d/dx = s(x) (1 - s(x)).

        >>> deepgrad.tensor([0.0]).sigmoid()
        tensor([0.5000])
        """
        return _E.Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        """max(x, 0), elementwise; the gradient is 1 where x > 0, else 0.

        >>> deepgrad.tensor([-1., 2.]).relu()
        tensor([0., 2.])
        """
        return _E.ReLU.apply(self)

    def relu_(self) -> Tensor:
        """In place: ``relu``; returns ``self``. As for the other in-place methods, only where
        no graph is recorded through this tensor (under ``no_grad``, or a tensor that does not
        require grad): deepgrad does not record in-place ops.

        >>> deepgrad.tensor([-1., 2.]).relu_()
        tensor([0., 2.])
        """
        if self._recording("relu_"):
            raise _graph_inplace_error("relu_")
        _E.relu_inplace(self._data)
        return self

    def clamp(self, min=None, max=None) -> Tensor:
        """Every element clipped to ``[min, max]`` (``clip``); the gradient is 1 inside, 0 outside.

        >>> deepgrad.tensor([-2., 0.5, 3.]).clamp(0, 1)
        tensor([0.0000, 0.5000, 1.0000])
        """
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(self._other(min))
            if max is not None:
                out = out.minimum(self._other(max))
            return out
        # the result's dtype is the promotion of the tensor with its bounds (int64 clamped to
        # float bounds is float32); the bounds go in as Python numbers, which NumPy does not
        # let widen it (a NumPy float64 bound would make a float32 tensor float64)
        dtype = result_type_of((self, *(self._other(b) for b in (min, max) if b is not None)))
        lo, hi = (b.item() if isinstance(b, np.generic) else b for b in (min, max))
        return _E.Clamp.apply(self.to(dtype), min=lo, max=hi)

    clip = clamp

    def maximum(self, other) -> Tensor:
        """The larger of ``self`` and ``other``, elementwise (ties share the gradient, as torch).

        >>> deepgrad.tensor([1., 5.]).maximum(deepgrad.tensor([3., 2.]))
        tensor([3., 5.])
        """
        return self._binary(_E.Maximum, other)

    def minimum(self, other) -> Tensor:
        """The smaller of ``self`` and ``other``, elementwise.

        >>> deepgrad.tensor([1., 5.]).minimum(deepgrad.tensor([3., 2.]))
        tensor([1., 2.])
        """
        return self._binary(_E.Minimum, other)

    def masked_fill(self, mask, value) -> Tensor:
        # the result keeps self's dtype (torch casts the value: int.masked_fill(m, 1.5) is int)
        """``value`` where ``mask`` is True, else ``self`` (the result keeps ``self``'s dtype).

        >>> deepgrad.tensor([1., 2., 3.]).masked_fill(deepgrad.tensor([True, False, True]), 0)
        tensor([0., 2., 0.])
        """
        if isinstance(value, Tensor):
            fill = value.to(self._data.dtype) if value._data.dtype != self._data.dtype else value
        else:
            fill = _wrap(np.asarray(value).astype(self._data.dtype))
        return where(mask, fill, self)

    def add(self, other, alpha=1) -> Tensor:
        """``self + alpha * other``, with PyTorch's type promotion.

        >>> deepgrad.tensor([1., 2.]).add(deepgrad.tensor([10., 20.]), alpha=2)
        tensor([21., 42.])
        """
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1) -> Tensor:
        """``self - alpha * other``.

        >>> deepgrad.tensor([1., 2.]).sub(1)
        tensor([0., 1.])
        """
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other) -> Tensor:
        """Elementwise product ``self * other``; d/dself = other.

        >>> deepgrad.tensor([1., 2.]).mul(3)
        tensor([3., 6.])
        """
        return self * other

    def div(self, other) -> Tensor:
        """Elementwise true division ``self / other`` (integers give float, as in torch).

        >>> deepgrad.tensor([1, 2]).div(4)
        tensor([0.2500, 0.5000])
        """
        return self / other

    def _floating(self) -> Tensor:
        return self if self._data.dtype.kind == "f" else self.float()

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):
        """The sum of all elements, or along ``dim``; bools and integers sum in int64.

        >>> x = deepgrad.tensor([[1., 2.], [3., 4.]])
        >>> x.sum(), x.sum(dim=0)
        (tensor(10.), tensor([4., 6.]))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind == "b":
            x = x.long()
        return _R.Sum.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):
        """The mean of all elements, or along ``dim``; floating tensors only (as torch).

        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).mean(dim=1)
        tensor([1.5000, 3.5000])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x.dtype}. Use .float() first (for accuracy: "
                f"(pred == y).float().mean())."
            )
        return _R.Mean.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim)

    def var(
        self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None
    ) -> Tensor:
        """The variance sum((x - mean)^2) / (n - correction); ``correction=1`` (unbiased) default.

        >>> x = deepgrad.tensor([1., 2., 3., 4.])
        >>> x.var(), x.var(correction=0)
        (tensor(1.6667), tensor(1.2500))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        if isinstance(dim, builtins.bool):  # var(False): the old positional `unbiased`
            dim, unbiased = None, dim
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return _R.Var.apply(
            self._floating(), axes=_axes(dim, self.ndim), keepdim=keepdim, correction=correction
        )

    def std(
        self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None
    ) -> Tensor:
        """The standard deviation: ``sqrt(var(...))``, unbiased by default.

        >>> deepgrad.tensor([1., 3.]).std()
        tensor(1.4142)
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _extreme(self, dim, keepdim, largest: bool):
        if dim is None:
            out = _R.MaxAll.apply(self, largest=largest)
            if out._ctx is not None:
                out._ctx.largest = largest  # grad_fn.name(): MaxBackward1 or MinBackward1
            return out
        if isinstance(dim, Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        (axis,) = _axes(dim, self.ndim)
        values = _R.MaxDim.apply(self, axis=axis, keepdim=keepdim, largest=largest)
        ctx = values._ctx
        if ctx is not None:
            ctx.largest = largest
        indices = ctx.indices if ctx is not None else _arg(self._data, axis, keepdim, largest)
        return values_indices(values, _wrap(indices))

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """max() of all elements; max(dim) -> (values, indices); max(other) elementwise.

        >>> x = deepgrad.tensor([[3., 1.], [2., 5.]])
        >>> x.max(), x.max(dim=1).indices
        (tensor(5.), tensor([0, 1]))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return self._extreme(dim, keepdim, True)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """min() of all elements; min(dim) -> (values, indices); min(other) elementwise.

        >>> deepgrad.tensor([[3., 1.], [2., 5.]]).min(dim=1)
        values_indices(values=tensor([1., 2.]), indices=tensor([1, 0]))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return self._extreme(dim, keepdim, False)

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        """The maximum along ``dim`` (all dims by default); ties share the gradient equally.

        >>> deepgrad.tensor([[3., 1.], [2., 5.]]).amax(dim=0)
        tensor([3., 5.])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        axes = _axes(dim, self.ndim) or tuple(range(self.ndim))
        return _R.AMax.apply(self, axes=axes, keepdim=keepdim, largest=True)

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        """The minimum along ``dim`` (all dims by default); ties share the gradient equally.

        >>> deepgrad.tensor([[3., 1.], [2., 5.]]).amin(dim=0)
        tensor([2., 1.])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        axes = _axes(dim, self.ndim) or tuple(range(self.ndim))
        return _R.AMax.apply(self, axes=axes, keepdim=keepdim, largest=False)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        """The index of the largest element (of the flattened tensor, or along ``dim``).

        >>> x = deepgrad.tensor([[3., 1.], [2., 5.]])
        >>> x.argmax(), x.argmax(1)
        (tensor(3), tensor([0, 1]))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        if dim is None:
            return _wrap(array_module(self._data).asarray(self._data.argmax()))
        return _wrap(_arg(self._data, _axes(dim, self.ndim)[0], keepdim, True))

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        """The index of the smallest element (of the flattened tensor, or along ``dim``).

        >>> deepgrad.tensor([[3., 1.], [2., 5.]]).argmin(dim=0)
        tensor([1, 0])
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        if dim is None:
            return _wrap(array_module(self._data).asarray(self._data.argmin()))
        return _wrap(_arg(self._data, _axes(dim, self.ndim)[0], keepdim, False))

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        """log(sum(exp(x))) along ``dim``, computed stably as m + log(sum(exp(x - m))).

        >>> deepgrad.tensor([0., 0.]).logsumexp(dim=0)
        tensor(0.6931)
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        return _R.LogSumExp.apply(self._floating(), axes=_axes(dim, self.ndim), keepdim=keepdim)

    def softmax(self, dim=None, dtype=None, *, axis=None) -> Tensor:
        """e^(x_i) / sum_j e^(x_j) along ``dim`` (no ``dim``: torch's legacy choice, and a warning).

        >>> deepgrad.tensor([0., 0.693147]).softmax(dim=0)
        tensor([0.3333, 0.6667])
        """
        if axis is not None:
            dim = _np_names(dim, False, axis, None)[0]
        if dim is None:
            dim = _implicit_softmax_dim(self.ndim)
        x = self._floating() if dtype is None else self.to(dtype)
        return _R.Softmax.apply(x, axis=_axes(dim, self.ndim)[0])

    def log_softmax(self, dim=None, dtype=None, *, axis=None) -> Tensor:
        """x_i - logsumexp(x) along ``dim``, more stable than ``softmax().log()``.

        >>> deepgrad.tensor([0., 0.]).log_softmax(dim=0)
        tensor([-0.6931, -0.6931])
        """
        if axis is not None:
            dim = _np_names(dim, False, axis, None)[0]
        if dim is None:
            dim = _implicit_softmax_dim(self.ndim)
        x = self._floating() if dtype is None else self.to(dtype)
        return _R.LogSoftmax.apply(x, axis=_axes(dim, self.ndim)[0])

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        """The p-norm (sum |x|^p)^(1/p); ``"fro"`` and 2 are the Euclidean norm, ``inf`` the max
        of |x|, ``-inf`` its min, 0 the number of non-zeros.

        >>> deepgrad.tensor([3., 4.]).norm(), deepgrad.tensor([3., -4.]).norm(p=1)
        (tensor(5.), tensor(7.))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        p = 2 if p in (None, "fro") else p
        return _R.Norm.apply(self, p=p, axes=_axes(dim, self.ndim), keepdim=keepdim)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape (one size may be -1); a view when possible (``view``).

        >>> deepgrad.arange(6).reshape(2, -1)
        tensor([[0, 1, 2],
                [3, 4, 5]])
        """
        shape = _shape_arg(shape)
        try:
            return _S.Reshape.apply(self, shape=shape)
        except ValueError:
            raise RuntimeError(
                f"shape {shape} is invalid for input of size {self._data.size} (shape "
                f"{tuple(self.shape)})"
            ) from None

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape (``reshape_as``).

        >>> deepgrad.arange(4).view_as(deepgrad.zeros(2, 2)).shape
        (2, 2)
        """
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dimensions ``start_dim`` to ``end_dim`` merged into one.

        >>> deepgrad.zeros(2, 3, 4).flatten(1).shape
        (2, 12)
        """
        dims = self._data.shape
        if not dims:
            return self.reshape(1)
        s, e = _axes((start_dim, end_dim), len(dims))
        if s >= e:
            return self
        # straight to the op: the shape is valid by construction (reshape's checks are for
        # users), and the merged size is given, not -1, which NumPy cannot infer for 0 elements
        merged = math.prod(dims[s : e + 1])
        return _S.Reshape.apply(self, shape=dims[:s] + (merged,) + dims[e + 1 :])

    def unflatten(self, dim: int, sizes) -> Tensor:
        """Dimension ``dim`` split into ``sizes`` (the inverse of ``flatten``).

        >>> deepgrad.zeros(2, 12).unflatten(1, (3, 4)).shape
        (2, 3, 4)
        """
        (d,) = _axes(dim, self.ndim)
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1 :])

    def squeeze(self, dim=None, *, axis=None) -> Tensor:
        """Dimensions of size 1 removed (all, or only ``dim``).

        >>> deepgrad.zeros(2, 1, 3, 1).squeeze().shape, deepgrad.zeros(2, 1, 3, 1).squeeze(1).shape
        ((2, 3), (2, 3, 1))
        """
        if axis is not None:
            dim = _np_names(dim, False, axis, None)[0]
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = _axes(dim, self.ndim)
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(shape) if shape != self.shape else self

    def unsqueeze(self, dim=None, *, axis=None) -> Tensor:
        """A dimension of size 1 inserted at position ``dim``.

        >>> deepgrad.zeros(2, 3).unsqueeze(0).shape, deepgrad.zeros(2, 3).unsqueeze(-1).shape
        ((1, 2, 3), (2, 3, 1))
        """
        dim = _required_dim("unsqueeze", dim, axis)
        (d,) = _axes(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def permute(self, *dims) -> Tensor:
        """The dimensions reordered: ``out.shape[i] = self.shape[dims[i]]`` (a view).

        >>> deepgrad.zeros(2, 3, 4).permute(2, 0, 1).shape
        (4, 2, 3)
        """
        dims = _axes(_shape_arg(dims), self.ndim)
        if len(dims) != self.ndim or sorted(dims) != list(range(self.ndim)):
            raise RuntimeError(
                f"permute: dims {dims} must be a permutation of 0..{self.ndim - 1} for a tensor "
                f"of shape {tuple(self.shape)}"
            )
        return _S.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dimensions ``dim0`` and ``dim1`` swapped (a view; ``swapaxes``).

        >>> deepgrad.zeros(2, 3, 4).transpose(0, 2).shape
        (4, 3, 2)
        """
        dims = list(range(self.ndim))
        a, b = _axes((dim0, dim1), self.ndim)
        dims[a], dims[b] = dims[b], dims[a]
        return _S.Permute.apply(self, dims=tuple(dims))

    swapaxes = transpose

    def t(self) -> Tensor:
        """The transpose of a matrix (a 0-D or 1-D tensor is returned as is).

        >>> deepgrad.tensor([[1, 2]]).t()
        tensor([[1],
                [2]])
        """
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def expand(self, *sizes) -> Tensor:
        """Dimensions of size 1 repeated to ``sizes`` without copying (-1 keeps a size).

        >>> deepgrad.tensor([[1], [2]]).expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
        """
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return _S.Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """Expanded to ``other``'s shape.

        >>> deepgrad.tensor([1, 2]).expand_as(deepgrad.zeros(2, 2))
        tensor([[1, 2],
                [1, 2]])
        """
        return self.expand(other.shape)

    def repeat(self, *sizes) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along each dimension (a copy, unlike ``expand``).

        >>> deepgrad.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
        """
        sizes = _shape_arg(sizes)
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        # repeat = expand over a new axis before each dimension, then merge the pairs
        inter = []
        for r, n in zip(sizes, x.shape):
            inter += [r, n]
        y = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(inter)
        return y.reshape(tuple(r * n for r, n in zip(sizes, x.shape)))

    def __getitem__(self, key) -> Tensor:
        key, advanced = _index_key(key)
        if not self.requires_grad or not _grad_state.enabled:
            # a batch picked from a data set, x[indices]: copied on all threads where it can
            picked = kernels.take_rows(self._data, key) if advanced else None
            return _wrap(self._data[key] if picked is None else picked)
        return _S.Index.apply(self, key=key, advanced=advanced)

    def chunk(self, chunks: int, dim: int = 0, *, axis=None):
        """Split into ``chunks`` pieces along ``dim`` (the last may be smaller), as views.

        >>> [c.shape for c in deepgrad.zeros(5).chunk(3)]
        [(2,), (2,), (1,)]
        """
        if axis is not None:
            dim = axis
        n = self.shape[dim]
        step = -(-n // chunks)
        return self.split(step, dim)

    def split(self, split_size, dim: int = 0):
        """Split along ``dim`` into pieces of ``split_size`` (an int, or a list of sizes).

        >>> deepgrad.arange(5).split([2, 3])
        (tensor([0, 1]), tensor([2, 3, 4]))
        """
        (d,) = _axes(dim, self.ndim)
        n = self.shape[d]
        sizes = (
            [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
            if isinstance(split_size, int)
            else list(split_size)
        )
        out, start = [], 0
        for s in sizes:
            idx = (slice(None),) * d + (slice(start, start + s),)
            out.append(self[idx])
            start += s
        return tuple(out)

    def unbind(self, dim: int = 0, *, axis=None):
        """The slices along ``dim``, as a tuple, with that dimension removed.

        >>> deepgrad.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
        """
        if axis is not None:
            dim = axis
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def select(self, dim=None, index=None, *, axis=None) -> Tensor:
        """The slice at ``index`` along ``dim``, which is removed: ``x.select(1, i) = x[:, i]``.

        >>> deepgrad.tensor([[1, 2], [3, 4]]).select(1, 0)
        tensor([1, 3])
        """
        dim = _required_dim("select", dim, axis)
        (d,) = _axes(dim, self.ndim)
        return self[(slice(None),) * d + (index,)]

    # ---------------------------------------------------------------- linear algebra
    def matmul(self, other) -> Tensor:
        """The matrix product ``self @ other`` with NumPy/torch broadcasting over batch dims.

        >>> deepgrad.tensor([[1., 2.]]) @ deepgrad.tensor([[3.], [4.]])
        tensor([[11.]])
        """
        other = self._other(other)
        a, b = self, other
        if a._data.dtype != b._data.dtype:
            dt = _result_dtype(a._data, b._data)
            a, b = a.to(dt), b.to(dt)
        return _L.MatMul.apply(a, b)

    def mm(self, other) -> Tensor:
        """The product of two matrices (2-D only; ``matmul`` broadcasts).

        >>> deepgrad.eye(2).mm(deepgrad.tensor([[1., 2.], [3., 4.]]))
        tensor([[1., 2.],
                [3., 4.]])
        """
        if self.ndim != 2 or other.ndim != 2:
            raise RuntimeError(
                f"mm: both arguments must be 2-D matrices, got shapes {tuple(self.shape)} and "
                f"{tuple(other.shape)}; use matmul for other ranks"
            )
        return self.matmul(other)

    def bmm(self, other) -> Tensor:
        """Batched matrix product of (b, n, m) and (b, m, p) tensors.

        >>> deepgrad.zeros(5, 2, 3).bmm(deepgrad.zeros(5, 3, 4)).shape
        (5, 2, 4)
        """
        if self.ndim != 3 or other.ndim != 3:
            raise RuntimeError(
                f"bmm: both arguments must be 3-D batches of matrices, got shapes "
                f"{tuple(self.shape)} and {tuple(other.shape)}"
            )
        return self.matmul(other)

    def dot(self, other) -> Tensor:
        """The inner product sum_i x_i y_i of two 1-D tensors.

        >>> deepgrad.tensor([1., 2.]).dot(deepgrad.tensor([3., 4.]))
        tensor(11.)
        """
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError("dot: 1D tensors expected; use matmul for matrices")
        return self.matmul(other)

    mv = matmul

    # ================================================================ PyTorch API additions
    # (issue 14: names that client code uses; kept together so merges stay easy)
    def cumsum(self, dim=None, dtype=None, *, axis=None) -> Tensor:
        """Running sum along ``dim``: out_j = x_0 + ... + x_j.

        >>> deepgrad.tensor([1, 2, 3]).cumsum(dim=0)
        tensor([1, 3, 6])
        """
        dim = _required_dim("cumsum", dim, axis)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bu" or x._data.dtype.itemsize < 8 and x._data.dtype.kind == "i":
            x = x.long()  # torch sums integers and bools in int64
        return _X.CumSum.apply(x, axis=_axes(dim, x.ndim)[0] if x.ndim else 0)

    def cumprod(self, dim=None, dtype=None, *, axis=None) -> Tensor:
        """Running product along ``dim``: out_j = x_0 * ... * x_j.

        >>> deepgrad.tensor([1., 2., 3.]).cumprod(dim=0)
        tensor([1., 2., 6.])
        """
        dim = _required_dim("cumprod", dim, axis)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bu" or x._data.dtype.itemsize < 8 and x._data.dtype.kind == "i":
            x = x.long()
        return _X.CumProd.apply(x, axis=_axes(dim, x.ndim)[0] if x.ndim else 0)

    def prod(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None) -> Tensor:
        """Product of all elements, or along ``dim``.

        >>> x = deepgrad.tensor([[1., 2.], [3., 4.]])
        >>> x.prod(), x.prod(1)
        (tensor(24.), tensor([ 2., 12.]))
        """
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bu" or x._data.dtype.itemsize < 8 and x._data.dtype.kind == "i":
            x = x.long()
        if dim is None:
            return _X.Prod.apply(x, axis=None, keepdim=False)
        return _X.Prod.apply(x, axis=_axes(dim, x.ndim)[0] if x.ndim else None, keepdim=keepdim)

    def sinh(self) -> Tensor:
        """(e^x - e^(-x)) / 2, elementwise; d/dx = cosh(x).

        >>> deepgrad.tensor([0.0]).sinh()
        tensor([0.])
        """
        return _E.Sinh.apply(self._floating())

    def cosh(self) -> Tensor:
        """(e^x + e^(-x)) / 2, elementwise; d/dx = sinh(x).

        >>> deepgrad.tensor([0.0]).cosh()
        tensor([1.])
        """
        return _E.Cosh.apply(self._floating())

    # Feature checks that code runs before using a feature deepgrad leaves out: always False.
    @property
    def is_sparse(self) -> bool:
        """Always False: deepgrad tensors are dense.

        >>> deepgrad.zeros(1).is_sparse
        False
        """
        return False

    @property
    def is_quantized(self) -> bool:
        """Always False: deepgrad has no quantized dtypes.

        >>> deepgrad.zeros(1).is_quantized
        False
        """
        return False

    @property
    def is_meta(self) -> bool:
        """Always False: deepgrad has no meta (data-less) tensors.

        >>> deepgrad.zeros(1).is_meta
        False
        """
        return False

    def is_complex(self) -> bool:
        """Always False: deepgrad has no complex dtypes.

        >>> deepgrad.zeros(1).is_complex()
        False
        """
        return False

    def conj(self) -> Tensor:
        """The complex conjugate: the tensor itself, as every deepgrad tensor is real.

        >>> deepgrad.tensor([1., -2.]).conj()
        tensor([ 1., -2.])
        """
        return self  # the conjugate of a real tensor is itself, as in torch

    def bernoulli(self, p=None, *, generator=None) -> Tensor:
        """0 or 1 per element, 1 with probability ``self`` (or ``p``); see ``deepgrad.bernoulli``.

        >>> deepgrad.tensor([0., 1.]).bernoulli()
        tensor([0., 1.])
        """
        probs = self._data if p is None else np.broadcast_to(np.asarray(p), self._data.shape)
        if probs.size and ((probs < 0) | (probs > 1)).any():
            raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
        draws = rng(generator).random(self._data.shape) < probs
        return _wrap(draws.astype(self._data.dtype))

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        """``num_samples`` indices drawn with probabilities proportional to ``self``'s rows
        (1-D or 2-D), as int64.

        Without replacement every index appears at most once per row, so ``num_samples`` can be
        at most the number of non-zero weights, as in PyTorch.

        >>> deepgrad.tensor([0., 1., 0.]).multinomial(2, replacement=True)
        tensor([1, 1])
        """
        w = np.asarray(self._data, dtype=np.float64)
        if w.ndim not in (1, 2):
            raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim}")
        rows = w.reshape(-1, w.shape[-1])
        if (rows < 0).any() or not np.isfinite(rows).all():
            raise RuntimeError(
                "multinomial: probability tensor contains either inf, nan or element < 0"
            )
        g = rng(generator)
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for r, weights in enumerate(rows):
            total = weights.sum()
            if total <= 0:
                raise RuntimeError(
                    "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
                )
            if not replacement and num_samples > np.count_nonzero(weights):
                raise RuntimeError(
                    "multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                    "replacement"
                )
            p = weights / total
            out[r] = g.choice(len(weights), size=num_samples, replace=replacement, p=p)
        return _wrap(out.reshape(w.shape[:-1] + (num_samples,)))

    # No __getattr__ here on purpose: defining one makes CPython route EVERY attribute lookup on
    # Tensor through a slower path (about 6x per access). Names PyTorch has and deepgrad lacks
    # get raising descriptors instead (see _compat.install_missing), and typos get Python's own
    # "Did you mean" hint.

    # ---- census extras (issue 14): tensor methods the API census found in teaching code ----
    def byte(self) -> Tensor:
        """Converted to uint8.

        >>> deepgrad.tensor([1.0, 255.0]).byte()
        tensor([  1, 255], dtype=deepgrad.uint8)
        """
        return self.to(np.uint8)

    def asin(self) -> Tensor:
        """The arcsine, elementwise; d/dx = 1 / sqrt(1 - x^2).

        >>> deepgrad.tensor([0.0, 1.0]).asin()
        tensor([0.0000, 1.5708])
        """
        from deepgrad.ops.extra_math import Asin

        return Asin.apply(self._floating())

    def exp_(self) -> Tensor:
        """In place: x = e^x; returns ``self``.

        >>> deepgrad.tensor([0.0]).exp_()
        tensor([1.])
        """
        return self._inplace_method("exp_", lambda a, _, **kw: np.exp(a, **kw), 0)

    def sin_(self) -> Tensor:
        """In place: x = sin(x); returns ``self``.

        >>> deepgrad.tensor([0.0]).sin_()
        tensor([0.])
        """
        return self._inplace_method("sin_", lambda a, _, **kw: np.sin(a, **kw), 0)

    def squeeze_(self, dim=None) -> Tensor:
        """In place ``squeeze``: the dimensions of size 1 removed; returns ``self``.

        >>> deepgrad.zeros(2, 1).squeeze_().shape
        (2,)
        """
        self._data = self.squeeze(dim)._data
        return self

    def unsqueeze_(self, dim: int) -> Tensor:
        """In place ``unsqueeze``: a dimension of size 1 inserted at ``dim``; returns ``self``.

        >>> deepgrad.zeros(2).unsqueeze_(0).shape
        (1, 2)
        """
        self._data = self.unsqueeze(dim)._data
        return self

    def resize_(self, *sizes) -> Tensor:
        """Give the tensor a new shape, keeping its elements in order; elements beyond the old
        size are zero (PyTorch leaves them uninitialised).

        >>> deepgrad.tensor([1., 2., 3.]).resize_(2, 2)
        tensor([[1., 2.],
                [3., 0.]])
        """
        shape = _shape_arg(sizes)
        flat = self._data.reshape(-1)
        n = int(np.prod(shape))
        new = np.zeros(n, dtype=flat.dtype)
        new[: min(n, flat.size)] = flat[:n]
        self._data = new.reshape(shape)
        return self

    def _along(self, dim: int, index: np.ndarray) -> tuple:
        # the fancy index that picks index[..., i, ...] along dim and walks the other axes
        dim = dim % self.ndim
        grids = np.ogrid[tuple(slice(n) for n in index.shape)]
        return tuple(index if axis == dim else grids[axis] for axis in range(self.ndim))

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """out[i][j] = self[i][index[i][j]] for dim = 1 (and likewise for other dims).

        >>> deepgrad.tensor([[1, 2], [3, 4]]).gather(1, deepgrad.tensor([[1], [0]]))
        tensor([[2],
                [3]])
        """
        return self[self._along(dim, np.asarray(getattr(index, "_data", index)))]

    def scatter_(self, dim: int, index: Tensor, src=None, value=None, *, reduce=None) -> Tensor:
        """self[i][index[i][j]] = src[i][j] (dim = 1), or = value; in place.

        >>> deepgrad.zeros(2, 3).scatter_(1, deepgrad.tensor([[2], [0]]), value=1.0)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
        """
        if reduce is not None:
            raise NotImplementedError("scatter_: deepgrad does not implement reduce=")
        idx = np.asarray(getattr(index, "_data", index))
        if src is None:
            src = value
        values = src._data[tuple(slice(n) for n in idx.shape)] if isinstance(src, Tensor) else src
        self._data[self._along(dim, idx)] = values
        return self

    def addcmul_(self, tensor1, tensor2, value=1) -> Tensor:
        """self += value * tensor1 * tensor2, in place.

        >>> a, b = deepgrad.tensor([1., 2.]), deepgrad.tensor([3., 4.])
        >>> deepgrad.ones(2).addcmul_(a, b, value=0.5)
        tensor([2.5000, 5.0000])
        """
        return self.add_(tensor1 * tensor2 * value)

    def addcdiv_(self, tensor1, tensor2, value=1) -> Tensor:
        """self += value * tensor1 / tensor2, in place.

        >>> deepgrad.ones(2).addcdiv_(deepgrad.tensor([1., 2.]), deepgrad.tensor([4., 4.]))
        tensor([1.2500, 1.5000])
        """
        return self.add_(tensor1 / tensor2 * value)

    def random_(self, from_=0, to=None, *, generator=None) -> Tensor:
        """Fill with integers drawn uniformly from [from_, to - 1] (``random_(to)``: [0, to)).

        >>> x = deepgrad.zeros(100).random_(3, 5)
        >>> sorted(set(x.tolist())) <= [3.0, 4.0]
        True
        """
        from deepgrad.random import rng

        low, high = (0, from_) if to is None else (from_, to)
        return self.copy_(rng(generator).integers(low, high, self._data.shape))

    def ravel(self) -> Tensor:
        """The elements as a 1-D tensor (a view when possible, as ``reshape(-1)``).

        >>> deepgrad.tensor([[1, 2], [3, 4]]).ravel()
        tensor([1, 2, 3, 4])
        """
        return self.reshape(-1)

    def short(self) -> Tensor:
        """Converted to int16.

        >>> deepgrad.tensor([3.0]).short().dtype
        deepgrad.int16
        """
        return self.to(np.int16)

    def log1p(self) -> Tensor:
        """log(1 + x), accurate for small x; d/dx = 1 / (1 + x).

        >>> deepgrad.tensor([0.0]).log1p()
        tensor([0.])
        """
        from deepgrad.ops.extra_math import Log1p

        return Log1p.apply(self._floating())

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A new tensor holding ``data``, with this tensor's dtype and device unless given.

        >>> deepgrad.zeros(1, dtype=deepgrad.float64).new_tensor([1, 2])
        tensor([1., 2.], dtype=deepgrad.float64)
        """
        arr = _as_array(data, dtype or self.dtype).copy()  # never shares memory with data
        return _new_leaf(arr, requires_grad, self.device if device is None else device)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor of ``size`` with this tensor's dtype and device unless given.

        >>> deepgrad.zeros(1, dtype=deepgrad.int64).new_empty(2, 3).dtype
        deepgrad.int64
        """
        arr = np.empty(_shape_arg(size), dtypes.to_numpy_dtype(dtype or self.dtype))
        return _new_leaf(arr, requires_grad, self.device if device is None else device)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """Elements sorted along ``dim``: (values, indices); ties keep their order.

        Deviation: always stable (torch's default ``stable=False`` may reorder ties).

        >>> deepgrad.tensor([3., 1., 2.]).sort()
        values_indices(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
        """
        order = np.argsort(-self._data if descending else self._data, axis=dim, kind="stable")
        return values_indices(self.gather(dim, order), _wrap(order.astype(np.int64)))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) elements along ``dim``: (values, indices).

        >>> deepgrad.tensor([3., 1., 2.]).topk(2)
        values_indices(values=tensor([3., 2.]), indices=tensor([0, 2]))
        """
        order = np.argsort(-self._data if largest else self._data, axis=dim, kind="stable")
        indices = np.take(order, np.arange(k), axis=dim)
        return values_indices(self.gather(dim, indices), _wrap(indices.astype(np.int64)))


def _piecewise(x: Tensor, fn) -> Tensor:
    from deepgrad.ops.extra_math import PiecewiseConstant

    return PiecewiseConstant.apply(x, fn=fn)


def _np_names(dim, keepdim, axis, keepdims):
    """Fold NumPy's spellings ``axis``/``keepdims`` into ``dim``/``keepdim``, as torch does.

    Only called when one of them was passed, so the usual call pays one ``is None`` test.
    """
    if axis is not None:
        if dim is not None and dim != ():
            raise TypeError("got both dim and its alias axis; pass only one of them")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, keepdim


def _required_dim(op: str, dim, axis):
    if axis is not None:
        dim = _np_names(dim, False, axis, None)[0]
    if dim is None:
        raise TypeError(f"{op}() missing required argument 'dim' (e.g. x.{op}(dim=0))")
    return dim


def _implicit_softmax_dim(ndim: int) -> int:
    # torch's legacy rule for softmax without dim (it warns; so do we)
    import warnings

    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _no_bool_sub(a: Tensor, b) -> None:
    if (
        a._data.dtype.kind == "b"
        or isinstance(b, builtins.bool)
        or (isinstance(b, Tensor) and b._data.dtype.kind == "b")
    ):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` operator instead."
        )


def _arg(a: np.ndarray, axis: int, keepdim: bool, largest: bool) -> np.ndarray:
    idx = a.argmax(axis=axis) if largest else a.argmin(axis=axis)
    return np.expand_dims(idx, axis) if keepdim else idx


def _check_device(device) -> None:
    """Raise PyTorch's kind of error if ``device`` cannot hold tensors on this machine."""
    check_device(device)


def _host_only(t: Tensor, what: str) -> None:
    if not on_cpu(t._data):
        raise TypeError(
            f"can't convert {device_of(t._data)} device type tensor to {what}. Use Tensor.cpu() "
            "to copy the tensor to host memory first."
        )


def _shape_arg(shape) -> tuple:
    """Accept both reshape(2, 3) and reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(builtins.int(s) for s in shape)


def _index_key(key):
    """Convert tensors, lists and ranges in an index to arrays; say if it is advanced indexing."""
    # the keys of a training loop's batches, each step: a slice, or a 1-D integer index tensor
    if type(key) is slice:
        return key, False
    if type(key) is Tensor:
        k = key._data
        if type(k) is _ndarray and k.ndim == 1 and k.dtype.kind in "iu":
            return k, True
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
        elif isinstance(k, (list, range)):
            k = np.asarray(k)
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int or bool tensors")
        if isinstance(k, _ndarray) or array_module(k) is not np:  # NumPy or GPU index arrays
            if k.dtype.kind == "b":
                advanced = advanced or k.ndim > 0
            elif k.dtype.kind in "iu":
                advanced = advanced or k.ndim > 0
                if k.ndim == 0:
                    k = builtins.int(k)
            else:
                raise IndexError("tensors used as indices must be long, int or bool tensors")
        out.append(k)
    return (tuple(out) if len(out) != 1 else out[0]), advanced


def where(condition, input=None, other=None) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    if input is None and other is None:
        return tuple(_wrap(i) for i in np.nonzero(condition._data))
    cond = condition if isinstance(condition, Tensor) else _wrap(np.asarray(condition))
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            other = _wrap(np.asarray(other, dtype=dtypes.get_default_dtype().np))
        input = other._other(input)
    other = input._other(other)
    if input._data.dtype != other._data.dtype:
        dt = _result_dtype(input._data, other._data)
        input, other = input.to(dt), other.to(dt)
    return _E.Where.apply(cond.bool(), input, other)


# The ops import ``Op``, whose module imports this one; Tensor must exist before they load.
from deepgrad.ops import elementwise as _E  # noqa: E402
from deepgrad.ops import linalg as _L  # noqa: E402
from deepgrad.ops import reduce as _R  # noqa: E402
from deepgrad.ops import scan as _X  # noqa: E402

_compat.install_missing(Tensor)
from deepgrad.ops import shape as _S  # noqa: E402
