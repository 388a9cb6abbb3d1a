"""The address of a NumPy array's data: the pointer a kernel (or MKL) is called with.

``a.ctypes.data`` builds a ctypes helper object in Python each time: 0.8 us, and in a
training step, where the matrix products have evicted Python's own code and objects from the
caches, several times that (six such calls were 4-7 us of each of the course MLP's first
products). NumPy's C API reads the address straight from the array object (``PyArray_DATA``:
the ``data`` field right after the object header, in every NumPy since 1.7), and on CPython
``id(a)`` is that object's address, so one ctypes read gives the same number in 0.1 us.

``address`` checks this layout once per process against ``a.ctypes.data`` (on an array and a
view into it) and otherwise uses ``a.ctypes.data`` itself: on another Python implementation,
or a build whose object header is larger. Only for NumPy arrays (``np.ndarray`` or a subclass,
which shares the layout), kept alive by the caller while the kernel runs.
"""

from __future__ import annotations

import ctypes
import platform
import sys

import numpy as np

_read = ctypes.c_void_p.from_address
#: Where the data pointer sits in the array object: after the reference count and the type.
_OFFSET = sys.getsizeof(object())  # the object header: 16 bytes on 64-bit CPython


def _layout_holds() -> bool:
    if platform.python_implementation() != "CPython":
        return False
    base = np.arange(64, dtype=np.float32).reshape(8, 8)
    view = base[3:, 2:]  # a view starts inside its base's memory
    return all(_read(id(a) + _OFFSET).value == a.ctypes.data for a in (base, view, base.T))


if _layout_holds():

    def address(a) -> int:
        """The address of ``a``'s first element (``a.ctypes.data``, read in one step)."""
        return _read(id(a) + _OFFSET).value or 0

else:  # pragma: no cover - not CPython, or another object layout

    def address(a) -> int:
        """The address of ``a``'s first element."""
        return a.ctypes.data
