"""``DataLoader``: iterate over a data set in (shuffled) mini-batches, as
``torch.utils.data.DataLoader`` does, in the main process.

Each epoch the sampler lays out the order of the indices (``0..n-1``, or a permutation drawn
from ``generator`` / deepgrad's global generator when ``shuffle=True``), the batch sampler cuts
it into batches of ``batch_size`` and each batch is fetched and collated.

Fetching takes one of two paths:

- fast: a data set that can hand out a batch by fancy-indexing its arrays (``TensorDataset``,
  a ``Subset`` of one, ``MNIST``/``FashionMNIST`` without transforms) does so once per tensor
  and batch, with no Python loop over samples. It is used when ``collate_fn`` is the default;
- generic: ``[dataset[i] for i in batch]`` (or ``dataset.__getitems__(batch)``) and then
  ``collate_fn`` (``default_collate``: tensors stacked, numbers to tensors, tuples/dicts
  recursively).

Both paths give the same batches: a ``TensorDataset(X, y)`` yields lists ``[x_batch, y_batch]``,
like PyTorch.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from deepgrad.data.collate import default_collate, default_convert
from deepgrad.data.dataset import IterableDataset
from deepgrad.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def get_worker_info():
    """Always ``None``: deepgrad loads data in the main process (no worker processes)."""
    return None


class DataLoader:
    """Mini-batches of ``dataset``, optionally shuffled each epoch.

    Args follow ``torch.utils.data.DataLoader``: ``batch_size`` (``None`` turns batching off
    and yields single converted samples), ``shuffle`` (a new permutation each epoch, drawn from
    ``generator`` or deepgrad's global generator, so ``deepgrad.manual_seed(s)`` makes it
    reproducible), ``sampler`` / ``batch_sampler`` (custom index orders), ``collate_fn``,
    ``drop_last`` (drop the last, incomplete batch) and ``generator``.

    ``len(loader)`` is the number of batches: ``ceil(n / batch_size)``, or
    ``floor(n / batch_size)`` with ``drop_last``.

    Deviations, on purpose: there are no worker processes. ``num_workers`` > 0 is accepted for
    compatibility with course code but ignored with a ``UserWarning`` (everything runs in the
    main process, which for in-memory NumPy data is also the fastest); ``pin_memory``,
    ``timeout``, ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor`` and
    ``persistent_workers`` are accepted and ignored.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | None = None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} is ignored; deepgrad has no worker "
                "processes and loads every batch in the main process. Pass num_workers=0 to "
                "silence this warning.",
                UserWarning,
                stacklevel=2,
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")

        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler and "
                    "batch_sampler options"
                )
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0
        ):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )

        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.multiprocessing_context = multiprocessing_context
        self._auto_collation = batch_sampler is not None or (
            isinstance(dataset, IterableDataset) and batch_size is not None
        )
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        return _DataLoaderIter(self)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={isinstance(self.sampler, RandomSampler)}, drop_last={self.drop_last})"
        )


class _DataLoaderIter:
    """One epoch over a ``DataLoader``. The order is drawn when the epoch starts (at
    ``iter(loader)``), so reseeding mid-epoch does not change it."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._len = None
        dataset, collate = loader.dataset, loader.collate_fn
        if isinstance(dataset, IterableDataset):
            self._it = self._stream(dataset, loader, collate)
        elif loader.batch_sampler is None:
            self._it = (collate(dataset[i]) for i in loader.sampler)
        else:
            bs = loader.batch_sampler
            fetch = getattr(dataset, "_get_batch", None) if collate is default_collate else None
            if fetch is not None:
                batches = bs._batches() if isinstance(bs, BatchSampler) else _as_arrays(bs)
                self._it = map(fetch, batches)
            else:
                batches = iter(bs)  # lists of indices (a custom batch sampler may yield keys)
                getitems = getattr(dataset, "__getitems__", None)
                if getitems is not None:
                    self._it = (collate(getitems(b)) for b in batches)
                else:
                    self._it = (collate([dataset[i] for i in b]) for b in batches)

    @staticmethod
    def _stream(dataset, loader, collate):
        it = iter(dataset)
        if loader.batch_size is None:
            yield from (collate(s) for s in it)
            return
        while True:
            batch = list(itertools.islice(it, loader.batch_size))
            if not batch or (loader.drop_last and len(batch) < loader.batch_size):
                return
            yield collate(batch)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def __len__(self) -> int:
        return len(self._loader)


def _as_arrays(batch_sampler):
    for b in batch_sampler:
        yield np.asarray(b, dtype=np.int64)
