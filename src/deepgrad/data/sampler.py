"""Samplers: the order in which ``DataLoader`` visits the indices of a data set.

As in ``torch.utils.data``, iterating a sampler yields Python ints and a ``BatchSampler`` yields
lists of them. Internally the built-in samplers also hand out the whole epoch's order as one
NumPy array (``_indices()``), so ``DataLoader`` slices batches out of it without a Python loop
over samples. Random samplers draw from ``generator`` or from deepgrad's global generator, so
``deepgrad.manual_seed(s)`` fixes the order of every epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from deepgrad.random import rng


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, drawn anew each epoch.

    With ``replacement=True``, ``num_samples`` indices drawn uniformly with replacement; without,
    ``num_samples`` (default ``len(data_source)``) indices from consecutive permutations.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self) -> np.ndarray:
        g = rng(self.generator)
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return g.integers(0, n, size=k)
        parts = [g.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(g.permutation(n)[: k % n])
        return np.concatenate(parts) if len(parts) != 1 else parts[0]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, drawn anew each epoch."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def _indices(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64)
        return idx[rng(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last, shorter batch is kept unless ``drop_last``. ``len`` is ``ceil(n / batch_size)``,
    or ``floor(n / batch_size)`` with ``drop_last``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _batches(self) -> Iterator[np.ndarray]:
        """The epoch's batches as int64 arrays (the order is drawn when this is called)."""
        bs = self.batch_size
        indices = _vector_indices(self.sampler)
        if indices is not None:
            order = indices()
            stop = len(order) - len(order) % bs if self.drop_last else len(order)
            return (order[i : i + bs] for i in range(0, stop, bs))
        return (np.asarray(b, dtype=np.int64) for b in self._lists())

    def _lists(self) -> Iterator[list[int]]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        if _vector_indices(self.sampler) is not None:
            return (b.tolist() for b in self._batches())
        return self._lists()

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of the indices that one of ``num_replicas`` processes visits each epoch, as
    ``torch.utils.data.DistributedSampler``.

    With ``shuffle``, all ranks draw the same permutation from a generator seeded with
    ``seed + epoch`` (call ``set_epoch(epoch)`` before each epoch, or every epoch repeats the
    first one's order). Rank ``r`` takes every ``num_replicas``-th index from position ``r``, so
    the ranks' batch ``k`` together hold the single-process batch ``k`` of
    ``num_replicas * batch_size`` indices. Without ``drop_last`` the list is padded with its
    first indices to a multiple of ``num_replicas`` (a few samples are seen twice per epoch);
    with it, the tail is cut off. Every rank gets ``len(self)`` indices, so all ranks take the
    same number of steps (a rank with fewer batches would leave the others waiting in an
    all-reduce).

    ``num_replicas`` and ``rank`` default to the process group's (``deepgrad.distributed``).
    The permutation comes from deepgrad's generator (NumPy's PCG64), not PyTorch's, so the same
    seed orders the samples differently than in PyTorch; everything else is PyTorch's.
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from deepgrad import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas and rank default to the process group's, "
                    "but deepgrad.distributed.init_process_group() has not been called; call it "
                    "first (under mpiexec/srun) or pass num_replicas= and rank="
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = -(-(n - num_replicas) // num_replicas)  # ceil, tail dropped
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _indices(self) -> np.ndarray:
        from deepgrad.random import Generator

        n = len(self.dataset)
        if self.shuffle:
            order = Generator().manual_seed(self.seed + self.epoch).rng.permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > n:  # pad with the first indices, repeated if need be
            order = np.resize(order, self.total_size)
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``epoch``: all ranks must call it with the same number."""
        self.epoch = epoch


_VECTOR_SAMPLERS = (SequentialSampler, RandomSampler, SubsetRandomSampler, DistributedSampler)


def _vector_indices(sampler):
    """``sampler._indices`` when it is a built-in sampler whose ``__iter__`` was not overridden
    (an override must win, so such samplers are iterated one index at a time)."""
    for cls in _VECTOR_SAMPLERS:
        if isinstance(sampler, cls) and type(sampler).__iter__ is cls.__iter__:
            return sampler._indices
    return None
