"""``deepgrad.cuda``: the GPU, through CuPy, with ``torch.cuda``'s queries.

``is_available()`` is True only when CuPy imports and sees at least one GPU; CuPy is an optional
extra (``pip install 'deepgrad[cuda]'``), so on a machine without it every query answers as
PyTorch does without a GPU (``is_available()`` False, ``device_count()`` 0) and nothing here
imports CuPy until a GPU is actually used. The GPU kernels (convolution, pooling, fused
optimiser steps and activations) live in this package's other modules.
"""

from __future__ import annotations

import os

from deepgrad.device import as_device, check_device, register_backend

_state: dict = {}


def _probe() -> tuple[int, str]:
    """(number of GPUs, why there are none) — computed once per process."""
    if "count" not in _state:
        count, reason = 0, ""
        if os.environ.get("DEEPGRAD_CUDA") == "0":
            reason = "DEEPGRAD_CUDA=0 is set"
        else:
            try:
                import cupy

                count = int(cupy.cuda.runtime.getDeviceCount())
                if not count:
                    reason = "CuPy found no CUDA device"
            except ImportError:
                reason = "CuPy is not installed"
            except Exception as err:  # no driver, no device, a broken CUDA install
                reason = f"CuPy could not reach a GPU: {type(err).__name__}: {err}"
        _state["count"], _state["reason"] = count, reason
    return _state["count"], _state["reason"]


def is_available() -> bool:
    """True when deepgrad can put tensors on a CUDA GPU (CuPy installed, a GPU visible)."""
    return _probe()[0] > 0


def unavailable_reason() -> str:
    """Why ``is_available()`` is False (empty when it is True)."""
    return _probe()[1]


def device_count() -> int:
    """Number of visible CUDA GPUs (0 without CuPy or a GPU)."""
    return _probe()[0]


def is_initialized() -> bool:
    return "count" in _state and _state["count"] > 0


def _lazy_init():
    check_device("cuda")
    import cupy

    return cupy


def current_device() -> int:
    """Index of the GPU that new CUDA tensors go to."""
    return _lazy_init().cuda.runtime.getDevice()


def set_device(device) -> None:
    d = as_device(device)
    if d.type == "cuda":
        _lazy_init().cuda.runtime.setDevice(d.index or 0)


def get_device_name(device=None) -> str:
    cupy = _lazy_init()
    index = current_device() if device is None else (_index(device))
    return cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()


def get_device_capability(device=None) -> tuple[int, int]:
    cupy = _lazy_init()
    index = current_device() if device is None else _index(device)
    props = cupy.cuda.runtime.getDeviceProperties(index)
    return props["major"], props["minor"]


def _index(device) -> int:
    return as_device(device).index or 0 if not isinstance(device, int) else device


def synchronize(device=None) -> None:
    """Wait until every kernel queued on the GPU has finished (use it before timing)."""
    _lazy_init().cuda.Device(None if device is None else _index(device)).synchronize()


def manual_seed(seed: int) -> None:
    """Seed the GPU's random generator (dropout masks and random factories on ``cuda``).

    Like PyTorch, a no-op without a GPU, so course code that seeds CUDA runs everywhere."""
    _state["seed"] = int(seed)
    if "generator" in _state:
        from deepgrad.cuda import random

        random.reseed(int(seed))


manual_seed_all = manual_seed


def empty_cache() -> None:
    """Return the GPU memory CuPy keeps for reuse to the driver."""
    if is_available():
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by tensors now (CuPy's memory pool in use)."""
    if not is_available():
        return 0
    import cupy

    return int(cupy.get_default_memory_pool().used_bytes())


# Last, once the functions it calls exist: the core reaches the GPU only through this backend.
from deepgrad.cuda import backend as _backend  # noqa: E402

register_backend("cuda", _backend)
