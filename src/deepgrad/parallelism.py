"""``torch.set_num_threads`` and ``torch.get_num_threads``: how many threads deepgrad computes on.

One number governs every library deepgrad computes with on the CPU: its compiled kernels
(``kernels/threads.py``), Intel MKL's products (``kernels/products.py`` sets MKL to it before
each product) and NumPy's OpenBLAS, which is told at once. Without a call, the number comes
from ``DEEPGRAD_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``OPENBLAS_NUM_THREADS``, else the CPUs
this process may use (PyTorch's default is the number of physical cores).

Deviation from PyTorch: there is no separate inter-op pool, so ``set_num_interop_threads`` is
not offered.
"""

from __future__ import annotations

import builtins

from deepgrad.kernels import blas_threads, threads


def set_num_threads(num: int) -> None:
    """Compute on ``num`` threads from now on (kernels, MKL and NumPy's OpenBLAS).

    >>> deepgrad.set_num_threads(1)
    >>> deepgrad.get_num_threads()
    1
    """
    if type(num) is builtins.bool or not isinstance(num, builtins.int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    threads.set_num_threads(num)
    blas_threads.set_openblas_threads(num)


def get_num_threads() -> int:
    """The number of threads deepgrad computes on (see ``set_num_threads``)."""
    return threads.num_threads()
