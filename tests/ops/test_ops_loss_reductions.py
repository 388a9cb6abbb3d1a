"""The losses' full reductions (ops/loss.py ``_mean_all``, ``_sum_all``) equal NumPy's
``mean`` and ``sum`` bit for bit: they skip NumPy's Python wrappers, not its arithmetic."""

import numpy as np
import pytest

from deepgrad.ops.loss import _mean_all, _sum_all


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(1,), (4, 1), (3,), (7, 3), (128,), (1000,), (37, 41), (5, 6, 7)]
)
def test_mean_and_sum_equal_numpy_bit_for_bit(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    for scale in (1e-3, 1.0, 1e4):
        a = (rng.standard_normal(shape) * scale).astype(dtype)
        mean, total = _mean_all(a), _sum_all(a)
        assert type(mean) is type(a.mean()) and mean.tobytes() == a.mean().tobytes()
        assert type(total) is type(a.sum()) and total.tobytes() == a.sum().tobytes()


def test_special_values_and_empty_follow_numpy():
    a = np.array([1.0, np.nan, 2.0], np.float32)
    assert np.isnan(_mean_all(a)) and np.isnan(_sum_all(a))
    b = np.array([np.inf, 1.0], np.float32)
    assert _mean_all(b) == np.inf == b.mean()
    with pytest.warns(RuntimeWarning):  # NumPy's own "Mean of empty slice"
        assert np.isnan(_mean_all(np.zeros(0, np.float32)))
    assert _mean_all(np.array([1, 2], np.int64)) == 1.5  # integers: NumPy's mean itself


@pytest.mark.parametrize(
    "shape,axis",
    [((128, 10), 1), ((1000, 10), -1), ((16, 2), 1), ((4, 10), 1), ((8, 5, 7), 2), ((128, 200), 1),
     ((64, 10), 0), ((0, 10), 1), ((20, 0), 1)],
)  # fmt: skip
def test_max_keepdims_equals_numpy_with_special_values(shape, axis):
    from deepgrad.ops.reduce import max_keepdims

    rng = np.random.default_rng(len(shape))
    a = rng.standard_normal(shape).astype(np.float32)
    flat = a.reshape(-1)
    flat[: min(flat.size, 5)] = [np.nan, np.inf, -np.inf, -0.0, 3.0][: min(flat.size, 5)]
    if a.size:
        a[-1] = -np.inf  # a row (or slice) of -inf only
    try:
        expected = a.max(axis=axis, keepdims=True)
    except ValueError:  # NumPy's own error for an empty reduction: ours raises it too
        with pytest.raises(ValueError):
            max_keepdims(a, axis)
        return
    got = max_keepdims(a, axis)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_softmax_log_softmax_and_cross_entropy_keep_torch_values_through_the_fast_max():
    import torch

    import deepgrad

    rng = np.random.default_rng(7)
    z = rng.standard_normal((128, 10)).astype(np.float32) * 5
    z[3, :] = -np.inf
    z[3, 4] = 2.0  # one finite logit
    z[5, 2] = np.nan
    t = rng.integers(0, 10, 128)
    zd, zt = deepgrad.from_numpy(z), torch.from_numpy(z)
    for ours, theirs in [
        (deepgrad.softmax(zd, 1), torch.softmax(zt, 1)),
        (deepgrad.log_softmax(zd, 1), torch.log_softmax(zt, 1)),
    ]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    keep = np.isfinite(z).all(axis=1)
    ce_ours = deepgrad.nn.functional.cross_entropy(zd[keep], deepgrad.from_numpy(t[keep]))
    ce_theirs = torch.nn.functional.cross_entropy(zt[keep], torch.from_numpy(t[keep]))
    np.testing.assert_allclose(ce_ours.item(), ce_theirs.item(), rtol=1e-6)
