"""Range-checked argument types for the command-line apps (``deepgrad`` and its playground).

Each returns a function for argparse's ``type=`` that parses the text and refuses a value out
of range with one line that names the range, e.g. ``must be in 1..100,000, got 0``.
"""

from __future__ import annotations

import argparse
import math


def int_in(low: int, high: int):
    """A whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in {low}..{_grouped(high)}, got {value}")
        return value

    return parse


def _grouped(n: int) -> str:
    """Thousands grouped from six digits up (100,000), so a port stays 65535."""
    return f"{n:,}" if abs(n) >= 100_000 else str(n)


def float_in(low: float, high: float, low_open: bool = False):
    """A finite number in [low, high], or in (low, high] with ``low_open``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if not (low < value if low_open else low <= value) or not value <= high:
            side = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be in {side}{low:g}, {high:g}], got {text}")
        return value

    return parse
