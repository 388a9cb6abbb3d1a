"""kernels.pointers.address: the data address a kernel is called with, against NumPy's own
``a.ctypes.data`` on every kind of array the kernels may be handed."""

import mmap

import numpy as np
import pytest

from deepgrad.kernels import pointers


def _arrays():
    base = np.arange(2 * 3 * 5 * 7, dtype=np.float32).reshape(2, 3, 5, 7)
    ro = np.arange(10, dtype=np.float64)
    ro.flags.writeable = False
    return {
        "c-ordered": base,
        "f-ordered": np.asfortranarray(base),
        "transposed view": base.transpose(3, 0, 1, 2),
        "offset view": base[1, 1:, 2:],
        "reversed view": base[::-1, :, ::-2],
        "0-d": np.array(3.5, np.float32),
        "empty": np.zeros((0, 4), np.float32),
        "read-only": ro,
        "from a buffer": np.frombuffer(bytearray(64), np.float32)[3:],
        "subclass": np.arange(6.0).view(np.recarray)[1:],
        "int64": np.arange(9, dtype=np.int64)[2:],
        "memory-mapped": np.frombuffer(mmap.mmap(-1, 4096), np.uint8)[100:],
    }


@pytest.mark.parametrize("kind", list(_arrays()))
def test_address_is_numpys_own(kind):
    a = _arrays()[kind]
    assert pointers.address(a) == a.ctypes.data


def test_the_layout_check_ran_and_holds_on_cpython():
    import platform

    if platform.python_implementation() != "CPython":
        pytest.skip("the fast read is for CPython only")
    assert pointers._layout_holds()
    assert pointers.address.__doc__.startswith("The address of ``a``'s first element (``a.ctypes")


def test_an_array_that_reuses_a_freed_ones_id_gets_its_own_address():
    for i in range(200):  # freed arrays' ids come back quickly
        a = np.ones(37, np.float32)
        assert pointers.address(a) == a.ctypes.data
        del a
        b = np.zeros(1000 + i % 7, np.float32)
        assert pointers.address(b) == b.ctypes.data
