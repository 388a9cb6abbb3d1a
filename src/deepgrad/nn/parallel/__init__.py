"""``deepgrad.nn.parallel``, as ``torch.nn.parallel``: data-parallel training over MPI ranks."""

from deepgrad.nn.parallel.distributed import DistributedDataParallel

DDP = DistributedDataParallel

__all__ = ["DDP", "DistributedDataParallel"]
