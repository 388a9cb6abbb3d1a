"""One semantics for every fast path: each compiled kernel against the NumPy reference it
replaces, on NaN, +-inf, -0.0, empty arrays and odd sizes (sizes around the vector width, so
the masked tails are exercised), and the references themselves against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepgrad
import deepgrad.nn.functional as F
from deepgrad.kernels import compiler
from deepgrad.kernels import relu as relu_kernels

pytestmark = pytest.mark.skipif(not compiler.available(), reason="needs llvmlite and AVX2/FMA")

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0, 1.0, 3e38, -3e38, 1e-45]


def _same(a, e):
    assert a.dtype == e.dtype and a.shape == e.shape
    np.testing.assert_array_equal(a, e)
    real = ~np.isnan(e)
    np.testing.assert_array_equal(np.signbit(a[real]), np.signbit(e[real]))


def _special(size, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size).astype(np.float32)
    x[: min(size, len(SPECIAL))] = SPECIAL[:size]
    return rng.permutation(x)


def test_relu_example_of_the_issue_on_both_paths():
    """g = [inf, 5, 2] at outputs [0, nan, 1]: PyTorch gives [0, 5, 2]; so must the small
    (NumPy reference) and the large (kernel) path."""
    for size in (3, relu_kernels.BACKWARD_MIN_ONE_THREAD + 5, relu_kernels.BACKWARD_MIN + 5):
        x = np.ones(size, np.float32)
        x[:3] = [0.0, np.nan, 1.0]
        g = np.ones(size, np.float32)
        g[:3] = [np.inf, 5.0, 2.0]
        xo = deepgrad.tensor(x, requires_grad=True)
        F.relu(xo).backward(deepgrad.tensor(g))
        xt = torch.tensor(x, requires_grad=True)
        torch.relu(xt).backward(torch.tensor(g))
        np.testing.assert_array_equal(xo.grad.numpy()[:3], [0.0, 5.0, 2.0])
        _same(xo.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_reference_backward_equals_where_bit_for_bit(dtype):
    """The NumPy reference's branch-free backward against ``np.where(y <= 0, 0, g)`` and
    torch's threshold_backward, signs of zeros included."""
    from deepgrad.ops.elementwise import _zero_where

    y = np.maximum(0, _special(1000)).astype(dtype)
    g = _special(1000, seed=1).astype(dtype)
    dx = _zero_where(y <= 0, g)
    _same(dx, np.where(y <= 0, 0, g))
    expected = torch.ops.aten.threshold_backward(torch.from_numpy(g), torch.from_numpy(y), 0)
    _same(dx, expected.numpy())


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 4099])
def test_relu_kernels_equal_reference_and_torch(size):
    x = _special(size)
    g = _special(size, seed=1)
    y = relu_kernels.forward(x)
    ref = np.maximum(0, x)  # the reference of ops/elementwise.py's ReLU
    _same(y, ref)
    _same(y, torch.relu(torch.from_numpy(x)).numpy())
    dx = relu_kernels.backward(g, ref)
    _same(dx, np.where(ref <= 0, 0, g))
    gt = torch.ops.aten.threshold_backward(torch.from_numpy(g), torch.from_numpy(ref), 0)
    _same(dx, gt.numpy())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("size", [0, 1, 7, 15, 16, 17, 33, 1023, 4099, 70_001])
def test_relu_inplace_kernel_equals_reference_and_torch(size, threads, monkeypatch):
    """``relu_inplace`` on one and two threads (the threshold lowered so that every size runs
    the kernel), in the array's own memory, against NumPy's ``maximum(0, x)`` and torch.relu_."""
    monkeypatch.setattr(relu_kernels, "INPLACE_MIN_THREADS", 0 if threads == 2 else 1 << 40)
    monkeypatch.setattr(relu_kernels.threads, "num_threads", lambda: threads)
    x = _special(size)
    expected = torch.relu_(torch.from_numpy(x.copy())).numpy()
    address = x.ctypes.data
    assert relu_kernels.forward_inplace(x)
    assert x.ctypes.data == address
    _same(x, np.maximum(0, _special(size)))
    _same(x, expected)


def test_relu_inplace_kernel_follows_any_dense_layout_and_refuses_the_rest():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((64, 3, 40)).astype(np.float32)
    x = base.transpose(2, 0, 1)  # dense, not C-ordered: done in its own layout
    expected = np.maximum(0, x)
    assert relu_kernels.forward_inplace(x)
    _same(x, expected)
    strided = rng.standard_normal((64, 80)).astype(np.float32)[:, ::2]
    before = strided.copy()
    assert not relu_kernels.forward_inplace(strided)  # not one block: left to NumPy
    _same(strided, before)
    frozen = rng.standard_normal(1 << 17).astype(np.float32)
    frozen.flags.writeable = False
    assert not relu_kernels.forward_inplace(frozen)


@pytest.mark.parametrize("n", [0, 1, 3, 9, 17])
def test_conv_kernels_on_special_values_and_odd_batches(n, monkeypatch):
    """NaN and infinities propagate through the sums as in the reference; batches of any
    size, empty included. Finite outputs agree to float32 rounding."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3, 7, 6)).astype(np.float32)
    if n:
        x[0, 0, 3, 3] = np.nan
        x[-1, 1, 0, 0] = np.inf
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)

    def run(kernels):
        with pytest.MonkeyPatch.context() as m:
            if not kernels:
                m.setattr(compiler, "available", lambda: False)
            xo = deepgrad.tensor(x, requires_grad=True)
            wo = deepgrad.tensor(w, requires_grad=True)
            y = F.conv2d(xo, wo, padding=1)
            y.backward(deepgrad.tensor(np.ones(y.shape, np.float32)))
            return y.detach().numpy(), xo.grad.numpy(), wo.grad.numpy()

    ours, ref = run(True), run(False)
    torch_y = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    for a, e in zip(ours, ref):
        assert a.shape == e.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(e))
        fin = np.isfinite(e)
        np.testing.assert_allclose(a[fin], e[fin], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(np.isnan(ours[0]), np.isnan(torch_y))


@pytest.mark.parametrize("n", [1, 9])
def test_conv_with_special_weights_matches_torch_float64_on_both_paths(n):
    """NaN and infinite weights (and inputs): the forward multiplies the padding's zeros by
    every weight (0 * inf is NaN), the input gradient only multiplies weights by real output
    gradients (an input that no window reads gets 0), on the kernel and the NumPy path alike.
    The oracle is PyTorch in float64 (im2col and col2im); its float32 oneDNN kernels skip the
    padding in forward, so there its answer depends on the algorithm it picks."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 2, 6, 7)).astype(np.float32)
    # no values near float32's largest: their sums overflow in float32 but not in float64
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = np.inf
    x[rng.random(x.shape) < 0.1] = -0.0
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    w[0, 0, 0, 0], w[1, 1, 2, 1], w[2, 0, 1, 2] = np.inf, np.nan, -np.inf
    g = rng.standard_normal((n, 3, 6, 7)).astype(np.float32)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    wt = torch.tensor(w.astype(np.float64), requires_grad=True)
    yt = TF.conv2d(xt, wt, padding=1)
    yt.backward(torch.from_numpy(g.astype(np.float64)))
    expected = [t.detach().numpy() for t in (yt, xt.grad, wt.grad)]
    for kernels in (True, False):
        with pytest.MonkeyPatch.context() as m:
            if not kernels:
                m.setattr(compiler, "available", lambda: False)
            xo = deepgrad.tensor(x, requires_grad=True)
            wo = deepgrad.tensor(w, requires_grad=True)
            y = F.conv2d(xo, wo, padding=1)
            y.backward(deepgrad.tensor(g))
        for a, e in zip((y.detach().numpy(), xo.grad.numpy(), wo.grad.numpy()), expected):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
            np.testing.assert_array_equal(np.isposinf(a), np.isposinf(e))
            np.testing.assert_array_equal(np.isneginf(a), np.isneginf(e))
            fin = np.isfinite(e)
            np.testing.assert_allclose(a[fin], e[fin], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 33])
def test_max_pool_kernels_equal_reference_on_special_values(n):
    """Pooling only compares and copies: kernels and reference agree bit for bit, and the
    gradient is exactly 0 off the maximum even where dy is inf or NaN (PyTorch's scatter)."""
    rng = np.random.default_rng(n)
    x = rng.choice(np.array(SPECIAL, np.float32), (4, 6, 6, n)).astype(np.float32)
    xs = x.transpose(3, 0, 1, 2)  # batch-innermost, as the kernel wants it
    g = rng.choice(np.array(SPECIAL, np.float32), (n, 4, 3, 3)).astype(np.float32)

    def run(kernels):
        with pytest.MonkeyPatch.context() as m:
            if not kernels:
                m.setattr(compiler, "available", lambda: False)
            xo = deepgrad.from_numpy(xs).requires_grad_()
            y = F.max_pool2d(xo, 2)
            y.backward(deepgrad.tensor(g))
            return y.detach().numpy(), xo.grad.numpy()

    ours, ref = run(True), run(False)
    for a, e in zip(ours, ref):
        _same(a, e)
    xt = torch.tensor(np.ascontiguousarray(xs), requires_grad=True)
    yt = TF.max_pool2d(xt, 2)
    yt.backward(torch.from_numpy(g))
    _same(ours[0], yt.detach().numpy())
    _same(ours[1], xt.grad.numpy())
