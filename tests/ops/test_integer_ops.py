"""Integer tensors where NumPy's integer arithmetic refuses or differs from PyTorch's: powers
with negative exponents, and the average of a pooling window (truncated toward zero). Dtype and
values against PyTorch 2.13, and the same refusals where PyTorch has no integer kernel."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepgrad
import deepgrad.nn.functional as F


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


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("divisor_override", [None, 3, -2])
def test_avg_pool_of_int64_truncates_like_torch(seed, divisor_override):
    """Each window's integer sum divided by PyTorch's divisor, rounded toward zero (so -1.5 is
    -1): padding, ceil mode and count_include_pad drawn; kernel 4 on 4 x 5 takes the path that
    sums few, large windows."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-20, 20, (2, 3, 4, 5))
    k = [1, 2, 3, 4, 2, 3][seed]
    kwargs = {
        "kernel_size": k,
        "stride": int(rng.integers(1, 3)),
        "padding": int(rng.integers(0, k // 2 + 1)),
        "ceil_mode": bool(rng.integers(2)),
        "count_include_pad": bool(rng.integers(2)),
        "divisor_override": divisor_override,
    }
    _assert_same(
        F.avg_pool2d(deepgrad.tensor(x), **kwargs), TF.avg_pool2d(torch.tensor(x), **kwargs)
    )
    _assert_same(F.avg_pool1d(deepgrad.tensor(x[0]), 2), TF.avg_pool1d(torch.tensor(x[0]), 2))


@pytest.mark.parametrize("dt", ["int32", "uint8", "bool", "int64"])
@pytest.mark.parametrize(
    "pool", [lambda F, x: F.avg_pool2d(x, 2), lambda F, x: F.adaptive_avg_pool2d(x, 2)]
)
def test_average_pooling_refuses_the_integer_dtypes_torch_refuses(dt, pool):
    """avg_pool takes int64 but no other integer or bool dtype; adaptive_avg_pool none."""
    x = (np.arange(32).reshape(2, 1, 4, 4) % 3).astype(dt)
    try:
        pool(TF, torch.tensor(x))
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="is not implemented for"):
            pool(F, deepgrad.tensor(x))
    else:
        _assert_same(pool(F, deepgrad.tensor(x)), pool(TF, torch.tensor(x)))
