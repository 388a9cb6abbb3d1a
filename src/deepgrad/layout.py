"""Memory layouts, named as in PyTorch: ``deepgrad.contiguous_format`` and ``preserve_format``.

deepgrad keeps each tensor's values in a NumPy array, whose strides are its layout. These
names exist so that ``x.contiguous(memory_format=torch.contiguous_format)`` and
``x.clone(memory_format=torch.preserve_format)`` run unchanged; ``channels_last`` is not
offered (convolutions choose their own layout, see ``ops/conv.py``).
"""

from __future__ import annotations


class memory_format:  # noqa: N801 - named like torch.memory_format
    """A memory layout: ``deepgrad.contiguous_format`` or ``deepgrad.preserve_format``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"deepgrad.{self.name}"


contiguous_format = memory_format("contiguous_format")
"""Row-major (C order): the last index varies fastest."""

preserve_format = memory_format("preserve_format")
"""Keep the input's layout (the default of ``clone``)."""


def check_supported(memory_format_, allowed: tuple, op: str) -> None:
    """Raise a clear error when ``op`` is given a layout it does not offer."""
    if memory_format_ not in allowed:
        names = " or ".join(repr(m) for m in allowed)
        raise RuntimeError(f"{op}: memory_format must be {names}, got {memory_format_!r}")
