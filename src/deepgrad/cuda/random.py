"""Random numbers made on the GPU, so a dropout mask is never drawn on the host and copied.

Seeded by ``deepgrad.cuda.manual_seed`` (and by ``deepgrad.manual_seed``, which seeds every
device, as PyTorch's does). The streams are CuPy's, so CPU and GPU draws differ for one seed.
"""

from __future__ import annotations

from deepgrad import cuda as _cuda


def generator():
    """CuPy's random generator for the current GPU, created on first use."""
    gen = _cuda._state.get("generator")
    if gen is None:
        import cupy

        gen = cupy.random.RandomState(_cuda._state.get("seed", 0))
        _cuda._state["generator"] = gen
    return gen


def reseed(seed: int) -> None:
    generator().seed(seed)


def uniform(shape, dtype):
    """Samples on [0, 1) of ``dtype`` on the current GPU."""
    return generator().random_sample(shape, dtype=dtype)


def normal(shape, dtype):
    return generator().standard_normal(shape, dtype=dtype)
