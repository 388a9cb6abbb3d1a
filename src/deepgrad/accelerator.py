"""``deepgrad.accelerator``: PyTorch's device-neutral queries (``torch.accelerator``).

deepgrad's one accelerator type is CUDA, so these answer from ``deepgrad.cuda``.
"""

from __future__ import annotations

from deepgrad import cuda as _cuda
from deepgrad.device import device


def is_available() -> bool:
    """True when a GPU can hold tensors."""
    return _cuda.is_available()


def device_count() -> int:
    return _cuda.device_count()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device('cuda')`` when a GPU is available; otherwise None (as PyTorch)."""
    return device("cuda") if _cuda.is_available() else None


def current_device_index() -> int:
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return _cuda.current_device()


def synchronize(device=None) -> None:
    if _cuda.is_available():
        _cuda.synchronize(device)
