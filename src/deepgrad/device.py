"""Devices: where a tensor's array lives, and moving arrays between them.

A tensor on the CPU holds a NumPy array; a tensor on ``cuda:N`` holds a CuPy array on GPU N.
The device of a tensor is read off its array's type, so nothing else records it and the two
can never disagree.

``deepgrad.device`` parses names as ``torch.device`` does. Asking for ``"cuda"`` on a machine
without a usable GPU (no NVIDIA driver, or CuPy not installed) raises an error that is both an
``AssertionError``, like a CPU build of PyTorch ("Torch not compiled with CUDA enabled"), and a
``RuntimeError``, like a CUDA build without a GPU, so code that catches either still works.
Device-agnostic code (``"cuda" if deepgrad.cuda.is_available() else "cpu"``) takes its CPU path
exactly as with PyTorch.

The core knows devices other than the CPU only through the backend each registers here
(:func:`register_backend`; ``deepgrad.cuda`` registers ``"cuda"`` when deepgrad is imported), so
the GPU code depends on the core and never the other way round.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

#: Device types ``torch.device`` accepts; deepgrad can hold tensors on ``cpu`` and ``cuda``.
KNOWN_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class DeviceUnavailableError(RuntimeError, AssertionError):
    """A device was asked for that this machine (or deepgrad) does not have."""


class device:  # noqa: N801 - PyTorch's name
    """A device name, like ``torch.device``: ``device("cuda")``, ``device("cuda:1")``,
    ``device("cuda", 1)`` or ``device("cpu")``. An int means that CUDA device, as in PyTorch."""

    def __init__(self, type, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            check_device(f"cuda:{type}")
            type, index = "cuda", type
        name, colon, idx = str(type).partition(":")
        if name not in KNOWN_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(KNOWN_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if colon:
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")"
        )

    def __str__(self) -> str:
        return self.type + (f":{self.index}" if self.index is not None else "")

    def __eq__(self, other) -> bool:
        if isinstance(other, (str, device)) or type(other).__name__ == "device":  # torch's too
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __enter__(self):  # `with deepgrad.device("cuda"):` makes it the default, as in PyTorch
        self._previous = get_default_device()
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        set_default_device(self._previous)


CPU = device("cpu")
_default = CPU


def set_default_device(dev) -> None:
    """Make factories (``zeros``, ``randn``, ``tensor`` ...) create tensors on ``dev`` by default,
    like ``torch.set_default_device``. ``None`` restores the CPU.

    >>> deepgrad.set_default_device("cpu"); deepgrad.zeros(1).device
    device(type='cpu')
    """
    global _default
    _default = CPU if dev is None else as_device(dev)  # like torch, checked when first used


def get_default_device() -> device:
    """The device factories use when none is given (``cpu`` unless changed).

    >>> deepgrad.get_default_device()
    device(type='cpu')
    """
    return _default


def as_device(dev) -> device:
    """``dev`` (a string, an int or a ``device``) as a ``device``."""
    return dev if isinstance(dev, device) else device(dev)


def device_of(array) -> device:
    """The device that holds ``array``: the CPU for NumPy, ``cuda:N`` for a CuPy array."""
    if type(array) is np.ndarray or isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return device("cuda", array.device.id)


def on_cpu(array) -> bool:
    return type(array) is np.ndarray or isinstance(array, (np.ndarray, np.generic))


class Backend(Protocol):
    """What the core asks of the backend of a device type other than the CPU."""

    def check(self, dev: device) -> None:
        """Raise PyTorch's kind of error if ``dev`` cannot hold tensors on this machine."""

    def relu_backward(self, g, y):
        """ReLU's gradient on this device's arrays: 0 where ``y <= 0``, else ``g``."""


# device type -> its backend; the CPU needs none
_backends: dict[str, Backend] = {}


def register_backend(type: str, backend: Backend) -> None:
    """Make ``backend`` answer for devices of ``type`` (``deepgrad.cuda`` registers "cuda")."""
    _backends[type] = backend


def backend_of(array) -> Backend:
    """The backend of the device that holds ``array`` (a GPU array: the CPU has no backend)."""
    return _backends[device_of(array).type]


def check_device(dev) -> None:
    """Raise PyTorch's kind of error (a RuntimeError saying why) if ``dev`` cannot hold
    tensors on this machine, e.g. ``"cuda"`` without a GPU."""
    dev = as_device(dev)
    if dev.type == "cpu":
        return
    backend = _backends.get(dev.type)
    if backend is None:
        raise DeviceUnavailableError(
            f"deepgrad has no {dev.type!r} backend: tensors can live on 'cpu' and, with an NVIDIA "
            f"GPU and CuPy, on 'cuda'. Use 'cpu' (or check deepgrad.cuda.is_available())."
        )
    backend.check(dev)


def place(array, dev=None):
    """``array`` on ``dev``, or on the default device when ``dev`` is None (where factories put
    new tensors)."""
    target = get_default_device() if dev is None else as_device(dev)
    if target.type == "cpu" and type(array) is np.ndarray:
        return array
    return move(array, target)


def move(array, dev):
    """``array`` on device ``dev`` (the same array when it is already there)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        if on_cpu(array):
            return array
        return array.get()  # an explicit device-to-host copy
    check_device(dev)
    import cupy

    index = dev.index if dev.index is not None else cupy.cuda.runtime.getDevice()
    if not on_cpu(array) and array.device.id == index:
        return array
    with cupy.cuda.Device(index):
        return cupy.asarray(array) if on_cpu(array) else array.copy()


def mismatch_error(arrays) -> RuntimeError | None:
    """PyTorch's error for an op whose inputs live on different devices, or None if they don't.

    0-d CPU arrays may join a GPU op, as in PyTorch (they hold scalars)."""
    seen = []
    for a in arrays:
        if on_cpu(a) and a.ndim == 0:
            continue
        d = str(device_of(a))
        if d not in seen:
            seen.append(d)
    if len(seen) < 2:
        return None
    first, second = (seen[1], seen[0]) if seen[0] == "cpu" else (seen[0], seen[1])
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{first} and {second}! Move them to one device first, e.g. x.to(model_device)."
    )
