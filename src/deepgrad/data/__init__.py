"""Data loading, as ``torch.utils.data`` (also importable as ``deepgrad.utils.data``), plus
the data sets of the course: MNIST, Fashion-MNIST, Iris, the 2-D toy sets and CSV files.

- ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``;
- ``DataLoader`` with the samplers and ``default_collate``;
- ``MNIST``, ``FashionMNIST`` (IDX files, found locally or downloaded), ``read_idx``;
- ``load_iris`` / ``Iris`` (shipped), ``circle``, ``xor``, ``gauss``, ``spiral``, ``moons``,
  ``plane``, ``multi_gauss`` (generated), ``csv_dataset`` (yours);
- ``standardize``, ``train_test_split``, ``kfold_split``;
- ``datasets_info()``: what is available and where it was found.
"""

from deepgrad.data.collate import default_collate, default_convert
from deepgrad.data.csv import csv_dataset
from deepgrad.data.dataloader import DataLoader, get_worker_info
from deepgrad.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from deepgrad.data.download import DownloadError
from deepgrad.data.idx import IDXError, read_idx, write_idx
from deepgrad.data.info import datasets_info, format_datasets_info
from deepgrad.data.iris import Iris, load_iris
from deepgrad.data.mnist import MNIST, DatasetNotFoundError, FashionMNIST, cache_dir
from deepgrad.data.preprocessing import kfold_split, standardize, train_test_split
from deepgrad.data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)
from deepgrad.data.toy import TOY_DATASETS, circle, gauss, moons, multi_gauss, plane, spiral, xor

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "DistributedSampler",
    "DownloadError",
    "FashionMNIST",
    "IDXError",
    "Iris",
    "IterableDataset",
    "MNIST",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TOY_DATASETS",
    "TensorDataset",
    "cache_dir",
    "circle",
    "csv_dataset",
    "datasets_info",
    "default_collate",
    "default_convert",
    "format_datasets_info",
    "kfold_split",
    "gauss",
    "get_worker_info",
    "load_iris",
    "moons",
    "multi_gauss",
    "plane",
    "random_split",
    "read_idx",
    "spiral",
    "standardize",
    "train_test_split",
    "write_idx",
    "xor",
]
