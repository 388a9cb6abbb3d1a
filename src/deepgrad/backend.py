"""Where array functions come from.

Ops never name ``numpy`` for array math that depends on the device; they ask the data for its
array module with :func:`array_module`. Today that is always NumPy; a CuPy array would return
``cupy``, so a GPU backend plugs in here without touching each op.
"""

from __future__ import annotations

import numpy as np

_modules = {np.ndarray: np}


def array_module(a):
    """The array module (``numpy`` or a compatible one such as ``cupy``) that owns array ``a``."""
    xp = _modules.get(type(a))
    if xp is not None:
        return xp
    mod = type(a).__module__.split(".")[0]
    if mod == "cupy":  # pragma: no cover - no GPU in CI
        import cupy

        _modules[type(a)] = cupy
        return cupy
    return np
