"""Integer tensors where NumPy's integer arithmetic refuses or differs from PyTorch's: powers
with negative exponents. Dtype and values against PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad


def _name(dt) -> str:
    return str(dt).split(".")[-1]


def _assert_same(ours, theirs):
    assert _name(ours.dtype) == _name(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


BASES = np.array([[-3], [-2], [-1], [0], [1], [2], [3]])
EXPONENTS = np.array([-3, -2, -1, 0, 1, 2, 3])


@pytest.mark.parametrize("dt", ["int64", "int32", "int16", "int8"])
def test_integer_powers_with_negative_exponents_match_torch(dt):
    """1 ** -n = 1, (-1) ** -n = +-1 by n's parity, any other base ** -n = 0, where NumPy
    raises; every base against every exponent, broadcast."""
    a, b = BASES.astype(dt), EXPONENTS.astype(dt)
    _assert_same(deepgrad.tensor(a) ** deepgrad.tensor(b), torch.tensor(a) ** torch.tensor(b))
    _assert_same(deepgrad.pow(deepgrad.tensor(a), deepgrad.tensor(b)),
                 torch.pow(torch.tensor(a), torch.tensor(b)))  # fmt: skip


@pytest.mark.parametrize("base", [2, -2, 1, -1, 0])
def test_number_to_an_int64_tensor_power_matches_torch(base):
    _assert_same(base ** deepgrad.tensor(EXPONENTS), base ** torch.tensor(EXPONENTS))
