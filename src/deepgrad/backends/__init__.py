"""``deepgrad.backends``: the switches tutorials query or set, as in ``torch.backends``.

``mps`` (Apple GPUs) is never available: deepgrad has no Metal backend. ``cudnn`` and
``cuda.matmul`` accept PyTorch's settings (``cudnn.benchmark = True`` is common in tutorials);
deepgrad's GPU path reads none of them (its kernels have one algorithm each), so setting them
changes nothing.
"""

from __future__ import annotations

from types import SimpleNamespace


class mps:  # noqa: N801 - torch.backends.mps
    """Apple's Metal GPUs: not built into deepgrad, so never available."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class cudnn:  # noqa: N801 - torch.backends.cudnn
    """cuDNN settings, accepted and stored; deepgrad's GPU convolution does not read them."""

    enabled = True
    benchmark = False
    deterministic = False
    allow_tf32 = True

    @staticmethod
    def is_available() -> bool:
        from deepgrad import cuda

        return cuda.is_available()

    @staticmethod
    def version():
        return None


cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False), is_built=lambda: True)
