"""``deepgrad.utils.data``: the same objects as ``deepgrad.data``, under PyTorch's module path,
so ``from torch.utils.data import DataLoader, TensorDataset`` works with ``import deepgrad as
torch`` style imports (``from deepgrad.utils.data import DataLoader``).
"""

import sys
import types

from deepgrad import data as _data
from deepgrad.data import *  # noqa: F403 - the very same objects
from deepgrad.data import collate, dataloader, dataset, sampler

__all__ = list(_data.__all__)

# Code also imports PyTorch's submodules, e.g. `from torch.utils.data.dataloader import
# default_collate`. Registering ours under those names makes such imports find the very same
# modules (loading the files twice would give two distinct DataLoader classes).
_utils = types.ModuleType(f"{__name__}._utils")
_utils.collate = collate
for _name, _module in {
    "dataset": dataset,
    "dataloader": dataloader,
    "sampler": sampler,
    "distributed": sampler,  # torch.utils.data.distributed.DistributedSampler
    "_utils": _utils,
    "_utils.collate": collate,
}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
