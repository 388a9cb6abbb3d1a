"""The compiled float32 kernels (deepgrad.kernels: conv, pool, relu) against PyTorch and
against deepgrad's NumPy references, which they replace where they can. They run at this
host's vector width (``compiler.host_width()``); test_kernels_widths.py checks the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from deepgrad.kernels import compiler
from deepgrad.kernels import conv as conv_kernels
from deepgrad.kernels import pool as pool_kernels
from deepgrad.kernels import relu as relu_kernels

pytestmark = pytest.mark.skipif(not compiler.available(), reason="needs llvmlite and AVX2/FMA")


def _rand(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls into the compiled kernels, so a test knows they really ran."""
    seen = {"conv": 0, "wgrad": 0, "pool": 0, "pool_grad": 0}
    for mod, name, key in [
        (conv_kernels, "forward", "conv"),
        (conv_kernels, "weight_grad", "wgrad"),
        (pool_kernels, "forward", "pool"),
        (pool_kernels, "backward", "pool_grad"),
    ]:
        original = getattr(mod, name)

        def spy(*args, _original=original, _key=key, **kwargs):
            seen[_key] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(mod, name, spy)
    return seen


def _conv_both(x, w, b, kwargs, kernels=True):
    """deepgrad's conv2d output and x, w, b gradients for one upstream gradient, with the
    compiled kernels or (``kernels=False``) with the NumPy path."""
    with pytest.MonkeyPatch.context() as m:
        if not kernels:
            m.setattr(compiler, "available", lambda: False)
        ts = [None if a is None else deepgrad.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.conv2d(*ts, **kwargs)
        y.backward(deepgrad.tensor(_rand(y.shape, seed=9)))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts if t is not None]


def _conv_torch(x, w, b, kwargs):
    ts = [torch.tensor(a, requires_grad=True) if a is not None else None for a in (x, w, b)]
    y = TF.conv2d(*ts, **kwargs)
    y.backward(torch.tensor(_rand(tuple(y.shape), seed=9)))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts if t is not None]


def _close(ours, theirs, tol=2e-6):
    """float32 sums of thousands of products: errors relative to each array's largest value."""
    for a, e in zip(ours, theirs):
        assert a.shape == e.shape and a.dtype == np.float32
        scale = float(np.abs(e).max(initial=1e-30))
        np.testing.assert_allclose(a, e, rtol=0, atol=tol * scale * 10)


CONV_CASES = [
    # (N, C, H, W), (O, C, kh, kw), kwargs: the course CNN's layers, then every option
    ((128, 1, 28, 28), (16, 1, 5, 5), {"padding": 2}),
    ((128, 16, 14, 14), (32, 16, 5, 5), {"padding": 2}),
    ((16, 3, 9, 8), (5, 3, 3, 3), {"stride": 2}),
    ((8, 3, 9, 8), (4, 3, 3, 2), {"stride": (2, 1), "padding": (1, 0)}),
    ((8, 3, 11, 12), (6, 3, 3, 3), {"dilation": (2, 1), "padding": "same"}),
    ((8, 4, 7, 8), (3, 4, 4, 2), {"padding": "same"}),  # even kernel: asymmetric padding
    ((5, 2, 7, 7), (7, 2, 3, 3), {"padding": 1}),  # batch not a multiple of 8, O of 4
    ((13, 6, 6, 6), (2, 6, 1, 1), {}),  # 1x1 kernel
    ((24, 5, 11, 10), (9, 5, 3, 3), {"stride": (3, 2), "dilation": (2, 1)}),
    ((1, 2, 6, 6), (3, 2, 6, 6), {}),  # kernel as large as the image, one output
    ((8, 9, 5, 6), (4, 9, 2, 3), {"padding": (3, 2)}),  # padding beyond k-1: col2im input grad
]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_kernels_match_torch(x_shape, w_shape, kwargs, bias, calls):
    x, w = _rand(x_shape), _rand(w_shape, seed=1, scale=0.3)
    b = _rand(w_shape[:1], seed=2) if bias else None
    ours = _conv_both(x, w, b, kwargs)
    assert calls["conv"] >= 1 and calls["wgrad"] == 1  # the compiled kernels did the work
    _close(ours, _conv_torch(x, w, b, kwargs))


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV_CASES[1:7])
def test_conv2d_kernels_match_numpy_path(x_shape, w_shape, kwargs):
    x, w, b = _rand(x_shape), _rand(w_shape, seed=1, scale=0.3), _rand(w_shape[:1], seed=2)
    _close(_conv_both(x, w, b, kwargs), _conv_both(x, w, b, kwargs, kernels=False))


def test_conv2d_threads_split_the_work_without_changing_a_bit(monkeypatch):
    """Each output is computed by one thread in a fixed order, so 1 and 3 threads agree."""
    x, w, b = _rand((16, 6, 10, 10)), _rand((8, 6, 3, 3), seed=1), _rand((8,), seed=2)
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", "1")
    one = _conv_both(x, w, b, {"padding": 1})
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", "3")
    three = _conv_both(x, w, b, {"padding": 1})
    for a, e in zip(one, three):
        np.testing.assert_array_equal(a, e)


def test_conv2d_without_kernels_for_other_dtypes_and_groups(calls):
    """float64 and grouped convolutions take the NumPy path (and still match PyTorch)."""
    x = np.random.default_rng(0).standard_normal((8, 4, 6, 6))
    w = np.random.default_rng(1).standard_normal((4, 4, 3, 3))
    y = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w))
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w)).numpy())
    xg, wg = _rand((8, 4, 6, 6)), _rand((4, 2, 3, 3), seed=1)
    yg = F.conv2d(deepgrad.tensor(xg), deepgrad.tensor(wg), groups=2)
    ref = TF.conv2d(torch.tensor(xg), torch.tensor(wg), groups=2).numpy()
    np.testing.assert_allclose(yg.numpy(), ref, rtol=1e-5, atol=1e-5)
    assert calls["conv"] == 0


def test_first_layer_gets_no_input_gradient(calls):
    """The input of the first layer needs no gradient: only the weight-gradient kernel runs."""
    conv = nn.Conv2d(1, 4, 3)
    y = conv(deepgrad.tensor(_rand((8, 1, 6, 6))))
    y.sum().backward()
    assert calls == {"conv": 1, "wgrad": 1, "pool": 0, "pool_grad": 0}


def _pool_both(x_cnhw, kernel, stride, dilation=1):
    """(ours, torch): y and dx of max_pool2d on x given as the batch-innermost (C, H, W, N)
    layout of deepgrad's convolution outputs."""
    x = x_cnhw.transpose(3, 0, 1, 2)
    xo = deepgrad.from_numpy(x).requires_grad_()  # keeps the layout (a copy would not)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    yo = F.max_pool2d(xo, kernel, stride, dilation=dilation)
    yt = TF.max_pool2d(xt, kernel, stride, dilation=dilation)
    g = _rand(tuple(yt.shape), seed=5)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    return (yo.detach().numpy(), xo.grad.numpy()), (yt.detach().numpy(), xt.grad.numpy())


@pytest.mark.parametrize(
    "shape,kernel,stride,dilation",
    [
        ((16, 28, 28, 128), 2, 2, 1),  # the course CNN's pooling, windows tile the input
        ((3, 8, 9, 16), (2, 3), (2, 3), 1),  # rectangular tiles, a row left over
        ((2, 9, 7, 8), 3, 2, 1),  # overlapping windows
        ((4, 10, 10, 24), (2, 3), (1, 2), (2, 1)),  # dilated
    ],
)
def test_max_pool_kernel_matches_torch_on_ties_and_nan(shape, kernel, stride, dilation, calls):
    """Small integers make ties everywhere; PyTorch routes the gradient to the first maximum of
    each window (row-major) and a NaN always wins."""
    x = np.random.default_rng(0).integers(-2, 3, shape).astype(np.float32)
    x[0, 0, 0, :3] = np.nan
    (yo, go), (yt, gt) = _pool_both(x, kernel, stride, dilation)
    assert calls["pool"] == 1
    np.testing.assert_array_equal(yo, yt)
    # tiling windows: every gradient element is assigned once, so it is exact; overlapping
    # windows add up in another order than PyTorch
    if kernel == stride:
        assert calls["pool_grad"] == 1
        np.testing.assert_array_equal(go, gt)
    else:
        np.testing.assert_allclose(go, gt, rtol=1e-6, atol=1e-6)


def test_max_pool_return_indices_with_kernel():
    x = np.random.default_rng(0).integers(-2, 3, (4, 6, 6, 8)).astype(np.float32)
    xt = np.ascontiguousarray(x.transpose(3, 0, 1, 2))
    _, idx = F.max_pool2d(deepgrad.from_numpy(x.transpose(3, 0, 1, 2)), 2, return_indices=True)
    _, ref = TF.max_pool2d(torch.tensor(xt), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), ref.numpy())


def test_max_pool_kernel_needs_batch_innermost_float32(calls):
    """Standard (N, C, H, W) arrays and float64 use the NumPy code."""
    F.max_pool2d(deepgrad.from_numpy(_rand((2, 4, 4, 8)).transpose(3, 0, 1, 2)), 2)
    assert calls["pool"] == 1  # the layout the kernel is for
    for x in [
        _rand((8, 2, 4, 4)),
        _rand((2, 4, 4, 8)).astype(np.float64).transpose(3, 0, 1, 2),
    ]:
        F.max_pool2d(deepgrad.from_numpy(x), 2)
    assert calls["pool"] == 1


@pytest.mark.parametrize("n", [1, 5, 13, 21])
def test_max_pool_kernel_masks_a_partial_vector_of_images(n, calls):
    """Batches that are not whole vectors: the last images are read and written under a lane
    mask, and equal PyTorch exactly (ties and NaN included)."""
    x = np.random.default_rng(n).integers(-2, 3, (3, 6, 6, n)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    (yo, go), (yt, gt) = _pool_both(x, 2, 2)
    assert calls["pool"] == 1 and calls["pool_grad"] == 1
    np.testing.assert_array_equal(yo, yt)
    np.testing.assert_array_equal(go, gt)


def test_compiled_kernels_are_cached_on_disk(tmp_path):
    """A second process loads the object code instead of compiling, and gets the same numbers."""
    script = (
        "import numpy as np, deepgrad, deepgrad.nn.functional as F\n"
        "x = np.random.default_rng(0).standard_normal((8, 2, 5, 5)).astype(np.float32)\n"
        "w = np.random.default_rng(1).standard_normal((3, 2, 3, 3)).astype(np.float32)\n"
        "print(float(F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w)).sum()))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    objects = sorted((tmp_path / "deepgrad" / "jit").glob("forward-*.o"))
    assert len(objects) == 1
    stamp = objects[0].stat().st_mtime_ns
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert second.stdout == first.stdout and second.stdout.strip()
    assert objects[0].stat().st_mtime_ns == stamp  # read, not written again


def test_quieting_openblas_workers_keeps_products_right():
    """After ``quiet_workers`` OpenBLAS reports the shortest spin and still multiplies right;
    a value the user set is left alone."""
    script = (
        "import ctypes, numpy as np\n"
        "from deepgrad.kernels import blas_threads\n"
        "a = np.random.default_rng(0).standard_normal((300, 300))\n"
        "before = a @ a\n"
        "print(blas_threads.quiet_workers())\n"
        "libs = {l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l.lower()}\n"
        "print(sorted(ctypes.CDLL(p).openblas_thread_timeout() for p in libs))\n"
        "print(np.array_equal(a @ a, before))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    changed, timeouts, same = out.stdout.split("\n")[:3]
    if timeouts == "[]":
        pytest.skip("NumPy is not linked to OpenBLAS here")
    assert (changed, timeouts, same) == ("True", "[4]", "True")
    env["OPENBLAS_THREAD_TIMEOUT"] = "20"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.stdout.split("\n")[:2] == ["False", "[20]"]


@pytest.mark.parametrize(
    "mem_shape,perm,grad_perm",
    [
        ((16, 28, 28, 128), (3, 0, 1, 2), (3, 0, 1, 2)),  # a conv output and its gradient
        ((16, 28, 28, 128), (3, 0, 1, 2), (0, 1, 2, 3)),  # gradient laid out otherwise
        ((2048, 515), (0, 1), (0, 1)),  # size not a multiple of the vector: a masked tail
        ((1031, 1021), (0, 1), (1, 0)),  # prime sizes, the gradient transposed
    ],
)
def test_relu_kernel_matches_torch_exactly(mem_shape, perm, grad_perm, monkeypatch):
    """Special values included: a NaN output passes its gradient, an infinite gradient at a
    zero output gives 0 (PyTorch's threshold_backward)."""
    seen = []
    for name in ("forward", "backward"):
        original = getattr(relu_kernels, name)
        monkeypatch.setattr(
            relu_kernels, name, lambda *a, _o=original, _n=name: seen.append(_n) or _o(*a)
        )
    x = _rand(mem_shape)
    x.reshape(-1)[:6] = [np.nan, 0.0, -0.0, np.inf, -np.inf, -1.0]
    x = x.transpose(perm)
    g = _rand(x.shape, seed=1)
    g.reshape(-1)[:6] = [1.0, np.inf, 2.0, np.nan, 3.0, np.inf]
    g = np.ascontiguousarray(g.transpose(np.argsort(grad_perm))).transpose(grad_perm)
    xo = deepgrad.from_numpy(x).requires_grad_()
    yo = F.relu(xo)
    yo.backward(deepgrad.from_numpy(g))
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    yt = torch.relu(xt)
    yt.backward(torch.tensor(np.ascontiguousarray(g)))
    assert seen == ["forward", "backward"]
    np.testing.assert_array_equal(yo.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())
    assert yo.detach().numpy().strides == x.strides  # the layout is kept


def test_relu_kernel_leaves_small_arrays_to_numpy():
    relu_jit = relu_kernels
    assert not relu_jit.usable(_rand((64, 32)), backward=True)
    assert relu_jit.usable(_rand((128, 512)), backward=True)  # on the calling thread
    assert relu_jit.usable(_rand((128, 4096)), backward=True)
    assert not relu_jit.usable(_rand((128, 2048)))  # the forward pays only from ~400k elements
    assert relu_jit.usable(_rand((1000, 512)))  # the MLP's first ReLU at batch 1000
    assert not relu_jit.usable(_rand((256, 4096)).astype(np.float64))


def test_a_forked_child_gets_threads_of_its_own(monkeypatch):
    """After fork the parent's pool threads are gone; the child must not wait on them."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", "2")
    x, w = _rand((8, 3, 6, 6)), _rand((4, 3, 3, 3), seed=1)
    expected = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w)).numpy()  # starts the pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: convolve again and report
        try:
            got = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w)).numpy()
            os.write(write, b"same" if np.array_equal(got, expected) else b"different")
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the child hung waiting for threads it does not have")
        time.sleep(0.05)
    assert os.read(read, 16) == b"same"


@pytest.mark.parametrize(
    "kwargs", [{"padding": 2}, {"stride": 2}, {"padding": "same", "dilation": 3}]
)
def test_conv1d_goes_through_the_kernels_and_matches_torch(kwargs, calls):
    """conv1d is conv2d over images of height 1: kernels with one row."""
    x, w, b = _rand((16, 3, 40)), _rand((5, 3, 5), seed=1, scale=0.3), _rand((5,), seed=2)
    ts = [deepgrad.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.conv1d(*ts, **kwargs)
    g = _rand(y.shape, seed=9)
    y.backward(deepgrad.tensor(g))
    tt = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    yt = TF.conv1d(*tt, **kwargs)
    yt.backward(torch.tensor(g))
    assert calls["conv"] >= 1
    ours = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    _close(ours, [yt.detach().numpy()] + [t.grad.numpy() for t in tt])
