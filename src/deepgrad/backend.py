"""Where array functions come from.

Ops never name ``numpy`` for array math that depends on the device; they ask the data for its
array module with :func:`array_module`: ``numpy`` for a CPU array, ``cupy`` for a GPU array
(``deepgrad.cuda``), so the GPU backend plugs in here without touching each op.
"""

from __future__ import annotations

import numpy as np

# type -> module; every type seen is cached, including the many that are not arrays at all
# (slices, ints), so the lookup is one dict access after the first time.
_modules: dict = {np.ndarray: np}


def array_module(a):
    """The array module (``numpy`` or a compatible one such as ``cupy``) that owns array ``a``."""
    xp = _modules.get(type(a))
    if xp is not None:
        return xp
    xp = np
    if type(a).__module__.split(".")[0] == "cupy":
        import cupy

        xp = cupy
    _modules[type(a)] = xp
    return xp


def is_gpu_array(a) -> bool:
    """True for a CuPy (GPU) array."""
    return array_module(a) is not np


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` with repeated indices adding up (NumPy's ``add.at``)."""
    xp = array_module(target)
    at = getattr(xp.add, "at", None)  # CuPy has ufunc.at from version 13
    if at is not None:
        at(target, index, values)
    else:  # pragma: no cover - older CuPy
        import cupyx

        cupyx.scatter_add(target, index, values)
