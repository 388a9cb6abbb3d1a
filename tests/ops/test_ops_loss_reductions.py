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
