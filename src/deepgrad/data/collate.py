"""``default_collate`` and ``default_convert``: turn a list of samples into one batch, as
``torch.utils.data.default_collate`` does.

For a batch of samples ``[s_1, ..., s_B]``:

- tensors are stacked along a new first dimension: ``B x *shape``;
- NumPy arrays and NumPy scalars become tensors and are stacked the same way;
- Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor
  (PyTorch's rule, kept for parity: ``torch.tensor(batch, dtype=torch.float64)`` for floats);
- strings and bytes stay a list;
- dicts are collated key by key, namedtuples field by field, and tuples and lists position
  by position; a tuple of ``(x, y)`` samples gives the list ``[X, Y]``, as in PyTorch.
"""

from __future__ import annotations

import collections.abc
import copy

import numpy as np

from deepgrad.tensor import Tensor, _wrap

_STRING_KINDS = "OSUV"


def _stack_arrays(arrays, what: str) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({tuple(np.shape(a)) for a in arrays})
        raise RuntimeError(
            f"default_collate: stack expects each {what} to be equal size, but the batch holds "
            f"shapes {shapes}. Make the samples the same shape (resize/pad them in the data "
            "set's transform) or pass a collate_fn that handles different shapes."
        ) from None


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            from deepgrad.functions import stack

            return stack(list(batch))
        return _wrap(_stack_arrays([t._data for t in batch], "tensor"))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _STRING_KINDS:
            raise TypeError(
                f"default_collate: batch holds NumPy arrays of dtype {elem.dtype}, which has no "
                "tensor equivalent; convert them to numbers or pass a collate_fn"
            )
        return _wrap(_stack_arrays(batch, "array"))
    if isinstance(elem, np.generic):
        if elem.dtype.kind in _STRING_KINDS:
            return list(batch)
        return _wrap(np.array(batch))
    if isinstance(elem, bool):
        return _wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                out = copy.copy(elem)
                out.update(collated)
                return out
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, (tuple, list)):
            return columns  # PyTorch returns a list for tuples, too
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(
        f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}. Return one of those from the data set's __getitem__, "
        "or pass a collate_fn to DataLoader."
    )


def default_convert(data):
    """Turn NumPy arrays and scalars (also inside dicts and sequences) into tensors."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        return data if data.dtype.kind in _STRING_KINDS else _wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # as PyTorch: a tuple becomes a list
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
