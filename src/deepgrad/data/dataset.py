"""Map-style data sets, as in ``torch.utils.data``: ``Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset`` and ``random_split``.

A data set maps an index ``i`` in ``0 .. len(ds) - 1`` to one sample. Data sets that can hand
out a whole batch at once with one fancy-indexing of their arrays (``TensorDataset``, and a
``Subset`` of one) also offer ``_get_batch(indices)``, which ``DataLoader`` uses instead of
collating one sample at a time.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np

from deepgrad.random import rng
from deepgrad.tensor import Tensor, _wrap


class Dataset:
    """A map from indices to samples: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index) to return one sample"
        )

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (``DataLoader`` batches the stream)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(self)")


def _as_tensor(t, i: int) -> Tensor:
    if isinstance(t, Tensor):
        return t
    if isinstance(t, np.ndarray):
        return _wrap(t)
    raise TypeError(
        f"TensorDataset: argument {i} is a {type(t).__name__}; pass tensors (or NumPy arrays), "
        "e.g. TensorDataset(deepgrad.tensor(X), deepgrad.tensor(y))"
    )


class TensorDataset(Dataset):
    """Samples ``(t[i] for t in tensors)``: rows of tensors that share their first dimension.

    Deviation: NumPy arrays are accepted too and wrapped without a copy.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(X, y)")
        tensors = tuple(_as_tensor(t, i) for i, t in enumerate(tensors))
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is 0-dimensional; every tensor needs a first "
                    "dimension that indexes the samples"
                )
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"Size mismatch between tensors: TensorDataset needs the same first dimension "
                f"(number of samples) in every tensor, got shapes {shapes}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: np.ndarray) -> list:
        # One fancy-indexing per tensor instead of stacking len(indices) rows one by one.
        # A tensor that requires grad goes through Tensor indexing so the graph is kept,
        # as torch.stack would keep it.
        return [t[indices] if t.requires_grad else _wrap(t._data[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def _get_batch(self):
        # Present only when the wrapped data set can batch, so DataLoader's check stays a
        # plain getattr.
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            raise AttributeError("_get_batch")
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] is not self.indices:
            cached = (self.indices, np.asarray(self.indices, dtype=np.int64))
            self._index_cache = cached
        mapping = cached[1]
        return lambda indices: inner(mapping[indices])


class ConcatDataset(Dataset):
    """The samples of several data sets one after the other."""

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def random_split(dataset: Dataset, lengths: Sequence, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1:
    each split gets ``floor(n * fraction)`` samples and the remainder is dealt one by one to
    the splits in order (PyTorch's rule). The permutation comes from ``generator`` or from
    deepgrad's global generator, so ``deepgrad.manual_seed`` makes the split reproducible.
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, length in enumerate(counts):
            if length == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: the lengths {list(lengths)} add up to {sum(lengths)}, but the dataset "
            f"has {n} samples; give counts that sum to {n} or fractions that sum to 1"
        )
    perm = rng(generator).permutation(n)
    return [
        Subset(dataset, perm[end - length : end].tolist())
        for end, length in zip(itertools.accumulate(lengths), lengths)
    ]
