"""Devices: deepgrad computes on the CPU, and says so when code asks for anything else.

``deepgrad.device("cpu")`` and ``deepgrad.cuda.is_available()`` exist so that the usual
``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` line runs unchanged.
"""

from __future__ import annotations


class device:  # noqa: N801 - PyTorch's name
    """A device name, like ``torch.device``. Only ``'cpu'`` can hold tensors today."""

    def __init__(self, type: str, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")"
        )

    def __str__(self) -> str:
        return self.type + (f":{self.index}" if self.index is not None else "")

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class cuda:  # noqa: N801 - a namespace standing in for torch.cuda
    """``deepgrad.cuda.is_available()`` is False: there is no GPU backend yet."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:  # course code seeds CUDA too; nothing to seed here
        return None

    manual_seed_all = manual_seed
