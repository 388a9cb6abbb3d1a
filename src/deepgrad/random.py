"""The one random generator behind every random function of deepgrad.

``deepgrad.manual_seed(s)`` reseeds it, so a single call makes a whole run reproducible:
initialisation, dropout masks, data shuffling and the toy data sets all draw from here.
The streams are NumPy's PCG64, not PyTorch's Mersenne Twister, so the same seed gives
different numbers than PyTorch (deliberate: matching torch bit-for-bit would tie deepgrad to
its internals). Parity tests therefore copy weights from PyTorch instead of sharing seeds.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """Like ``torch.Generator``: a seedable source of random numbers (NumPy's PCG64)."""

    def __init__(self, device: str = "cpu") -> None:
        self._seed = 0
        self.rng = np.random.default_rng(0)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed deepgrad's global generator (used by every random function in deepgrad), and the
    GPU's, as PyTorch's ``manual_seed`` seeds every device.

    >>> _ = deepgrad.manual_seed(0); a = deepgrad.rand(2)
    >>> _ = deepgrad.manual_seed(0); deepgrad.rand(2).equal(a)
    True
    """
    from deepgrad import cuda

    cuda.manual_seed(seed)
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The seed the global generator started from (the last ``manual_seed``).

    >>> _ = deepgrad.manual_seed(42); deepgrad.initial_seed()
    42
    """
    return default_generator.initial_seed()


def seed() -> int:
    """Seed the global generator from fresh OS entropy and return that seed.

    >>> isinstance(deepgrad.seed(), int)
    True
    """
    return default_generator.seed()


def get_rng_state() -> dict:
    """The global generator's state, to restore with ``set_rng_state``.

    Deviation: a dict (NumPy's bit-generator state), where torch returns a ByteTensor.

    >>> state = deepgrad.get_rng_state(); a = deepgrad.rand(2)
    >>> deepgrad.set_rng_state(state); bool((deepgrad.rand(2) == a).all())
    True
    """
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the global generator to a state from ``get_rng_state``, so the same numbers follow.

    >>> state = deepgrad.get_rng_state(); a = deepgrad.randn(3)
    >>> deepgrad.set_rng_state(state); deepgrad.randn(3).equal(a)
    True
    """
    default_generator.set_state(state)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: the given one, or the global one."""
    return (generator or default_generator).rng
