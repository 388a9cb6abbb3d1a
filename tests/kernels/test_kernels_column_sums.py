"""Column sums (deepgrad/kernels/column_sums.py), a Linear's bias gradient summed by the team's
threads after their products: NumPy's ``add.reduce(g, axis=0)`` bit for bit (rows added in
order), special values, odd shapes, any thread count; and in a Linear's backward, against
NumPy and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.kernels import column_sums, compiler, threads

pytestmark = pytest.mark.skipif(not compiler.available(), reason="no compiled kernels here")


def _bits(x):
    return np.ascontiguousarray(x).view(np.uint32)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(128, 512), (128, 256), (1, 7), (300, 37), (5, 100), (2, 1)])
def test_sums_are_numpys_bit_for_bit(shape, n_threads):
    """Rows of different magnitudes, so that another order of additions would round
    differently; partial vectors at the end; more threads than vectors."""
    m, n = shape
    rng = np.random.default_rng(m * n)
    g = (rng.standard_normal((m, n)) * 10.0 ** rng.integers(-4, 5, (m, 1))).astype(np.float32)
    out, shares = column_sums.calls(g, n_threads)
    assert len(shares) <= n_threads
    threads.run_shares(shares)
    np.testing.assert_array_equal(_bits(out), _bits(np.add.reduce(g, axis=0)))


def test_special_values_are_numpys():
    g = np.random.default_rng(0).standard_normal((64, 40)).astype(np.float32)
    g[3, 0] = np.nan
    g[5, 1], g[9, 1] = np.inf, -np.inf  # inf - inf: NaN
    g[7, 2] = np.inf
    g[:, 3] = -0.0  # -0.0 + -0.0 stays -0.0
    g[:, 4] = 0.0
    g[0, 5], g[1:, 5] = -0.0, 0.0  # -0.0 + 0.0: +0.0
    g[2, 6] = np.float32(3e38)
    g[4, 6] = np.float32(3e38)  # overflows to inf
    out, shares = column_sums.calls(g, 2)
    with np.errstate(invalid="ignore", over="ignore"):
        threads.run_shares(shares)
        want = np.add.reduce(g, axis=0)
    np.testing.assert_array_equal(_bits(out), _bits(want))


@pytest.mark.parametrize("n_threads", [2, 3, 4])
@pytest.mark.parametrize("need_x", [True, False])
def test_linear_grads_with_the_sums(openblas_team_products, need_x, n_threads, monkeypatch):
    """``linear_grads``: one product (the first layer, whose input needs no gradient) or two,
    and the bias's sums after them: the sums NumPy's bits, the products NumPy's accuracy."""
    monkeypatch.setattr(openblas_team_products.threads, "num_threads", lambda: n_threads)
    rng = np.random.default_rng(n_threads)
    g = rng.standard_normal((128, 512)).astype(np.float32)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = rng.standard_normal((512, 784)).astype(np.float32)
    gx, gw, gb = openblas_team_products.linear_grads(g, x, w, need_x, True)
    assert (gx is None) != need_x
    np.testing.assert_array_equal(_bits(gb), _bits(np.add.reduce(g, axis=0)))
    np.testing.assert_allclose(gw, g.T @ x, rtol=1e-4, atol=1e-3)
    if need_x:
        np.testing.assert_allclose(gx, g @ w, rtol=1e-4, atol=1e-3)
    # g not C-ordered: no sums (the caller sums), the products still on the team
    gf = np.asfortranarray(g)
    assert openblas_team_products.linear_grads(gf, x, w, need_x, True)[2] is None


def test_course_mlp_layers_bias_gradients_match_numpy_and_torch(openblas_team_products):
    """A 784 -> 512 Linear in a graph, its input needing no gradient (as the first layer) and
    needing one (as the second): the bias gradient is NumPy's sum of the incoming gradient,
    bit for bit, and torch's within float32 rounding."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = (rng.standard_normal((512, 784)) / 28).astype(np.float32)
    b = rng.standard_normal(512).astype(np.float32)
    g = rng.standard_normal((128, 512)).astype(np.float32)
    for input_grad in (False, True):
        xs = deepgrad.tensor(x, requires_grad=input_grad)
        ws, bs = deepgrad.tensor(w, requires_grad=True), deepgrad.tensor(b, requires_grad=True)
        deepgrad.nn.functional.linear(xs, ws, bs).backward(deepgrad.tensor(g))
        np.testing.assert_array_equal(_bits(bs.grad.numpy()), _bits(np.add.reduce(g, axis=0)))
        bt = torch.tensor(b, requires_grad=True)
        torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w), bt).backward(
            torch.from_numpy(g)
        )
        np.testing.assert_allclose(bs.grad.numpy(), bt.grad.numpy(), rtol=1e-5, atol=1e-5)
        assert (xs.grad is not None) == input_grad
