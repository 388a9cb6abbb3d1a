"""What the core asks of the GPU, registered with ``deepgrad.device`` for ``"cuda"``.

The core (tensors, devices, ops) never imports this package: it calls these functions through
:func:`deepgrad.device.backend_of` and :func:`deepgrad.device.check_device`, so the GPU code
depends on the core and not the other way round.
"""

from __future__ import annotations

from deepgrad import cuda as _cuda
from deepgrad.device import DeviceUnavailableError


def check(dev) -> None:
    """Raise the error PyTorch users expect when ``dev`` (a cuda ``device``) cannot be used."""
    if not _cuda.is_available():
        raise DeviceUnavailableError(
            f"device {str(dev)!r} is not available: no GPU was found "
            f"({_cuda.unavailable_reason()}). deepgrad runs on CUDA GPUs through CuPy: pip "
            "install 'deepgrad[cuda]' on a machine with an NVIDIA driver. Device-agnostic code "
            "picks the CPU with device = 'cuda' if deepgrad.cuda.is_available() else 'cpu'."
        )
    if dev.index is not None and dev.index >= _cuda.device_count():
        raise RuntimeError(
            f"CUDA error: invalid device ordinal: {str(dev)!r} was asked for, but this machine "
            f"has {_cuda.device_count()} GPU(s), numbered from 0."
        )


def relu_backward(g, y):
    """ReLU's gradient in one fused kernel (see ``deepgrad.cuda.fused``)."""
    from deepgrad.cuda.fused import relu_backward

    return relu_backward(g, y)
