"""Pooling (max, average, adaptive; 1-D and 2-D; functions and modules) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from conftest import assert_close
from deepgrad.autograd import gradcheck


def _rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compare(dg_fn, th_fn, x, dtype=np.float64):
    """Forward both on x, back-propagate one random upstream gradient, compare output and dx."""
    xo = deepgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = dg_fn(xo), th_fn(xt)
    assert_close(yo, yt.detach())
    g = _rand(tuple(yt.shape), dtype, seed=7)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xo.grad, xt.grad)
    return yo


# ---------------------------------------------------------------------------- max pooling
MAX_CASES = [
    # (x shape, kwargs)
    ((2, 3, 8, 8), {"kernel_size": 2}),  # the tiling fast path
    ((2, 3, 9, 7), {"kernel_size": 2}),  # odd sizes: the last row/column is dropped
    ((2, 3, 9, 9), {"kernel_size": 3, "stride": 2}),  # overlapping windows
    ((2, 3, 8, 9), {"kernel_size": (2, 3), "stride": (1, 2)}),
    ((2, 3, 8, 8), {"kernel_size": 3, "stride": 1, "padding": 1}),
    ((2, 3, 7, 8), {"kernel_size": (3, 2), "padding": (1, 1)}),
    ((2, 3, 9, 9), {"kernel_size": 3, "stride": 2, "dilation": 2}),
    ((2, 3, 10, 9), {"kernel_size": 2, "dilation": (2, 1), "padding": 1}),
    ((2, 3, 9, 9), {"kernel_size": 2, "ceil_mode": True}),
    ((2, 3, 10, 11), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 6, 6), {"kernel_size": 4, "stride": 3, "ceil_mode": True}),
    ((1, 2, 5, 5), {"kernel_size": 5}),  # one window: global max
    ((3, 6, 6), {"kernel_size": 2}),  # unbatched
]


@pytest.mark.parametrize("x_shape,kwargs", MAX_CASES)
def test_max_pool2d_matches_torch(x_shape, kwargs):
    _compare(
        lambda x: F.max_pool2d(x, **kwargs), lambda x: TF.max_pool2d(x, **kwargs), _rand(x_shape)
    )


@pytest.mark.parametrize("x_shape,kwargs", MAX_CASES)
def test_max_pool2d_return_indices_match_torch(x_shape, kwargs):
    x = _rand(x_shape)
    yo, io = F.max_pool2d(deepgrad.tensor(x), return_indices=True, **kwargs)
    yt, it = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    assert_close(yo, yt)
    assert_close(io, it)
    with deepgrad.no_grad():  # without a recorded graph too
        _, io2 = F.max_pool2d(deepgrad.tensor(x, requires_grad=True), return_indices=True, **kwargs)
    assert_close(io2, it)


@pytest.mark.parametrize(
    "name,x",
    [
        ("all equal", np.ones((2, 3, 6, 6))),
        ("integers", np.random.default_rng(1).integers(0, 3, (2, 3, 8, 8)).astype(np.float64)),
        ("after relu", np.maximum(_rand((2, 3, 8, 8)), 0)),
        ("negative, padded", -np.ones((1, 2, 5, 5))),  # padding (-inf) must never win
        ("-inf, padded", np.full((1, 2, 5, 5), -np.inf)),  # ... not even when it ties
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 3, "stride": 1},
        {"kernel_size": 2, "stride": 2, "ceil_mode": True},
    ],
)
def test_max_pool2d_ties_route_the_gradient_like_torch(name, x, kwargs):
    # PyTorch (CPU) gives each window's gradient to its first maximum in row-major order.
    _compare(lambda t: F.max_pool2d(t, **kwargs), lambda t: TF.max_pool2d(t, **kwargs), x)
    yo, io = F.max_pool2d(deepgrad.tensor(x), return_indices=True, **kwargs)
    _, it = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    assert_close(io, it)


def test_max_pool2d_float32_stays_float32():
    x = _rand((4, 3, 8, 8), np.float32)
    y = _compare(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), x, np.float32)
    assert y.dtype == deepgrad.float32


def test_max_pool2d_propagates_nan_like_torch():
    x = _rand((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    yo = F.max_pool2d(deepgrad.tensor(x), 2)
    yt = TF.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(np.isnan(yo.numpy()), np.isnan(yt.numpy()))


@pytest.mark.parametrize(
    "x_shape,kwargs",
    [
        ((2, 3, 10), {"kernel_size": 2}),
        ((2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((2, 3, 11), {"kernel_size": 2, "dilation": 2, "ceil_mode": True}),
        ((3, 10), {"kernel_size": 3}),
    ],
)
def test_max_pool1d_matches_torch(x_shape, kwargs):
    _compare(
        lambda x: F.max_pool1d(x, **kwargs), lambda x: TF.max_pool1d(x, **kwargs), _rand(x_shape)
    )
    x = _rand(x_shape)
    _, io = F.max_pool1d(deepgrad.tensor(x), return_indices=True, **kwargs)
    _, it = TF.max_pool1d(torch.tensor(x), return_indices=True, **kwargs)
    assert_close(io, it)


# ---------------------------------------------------------------------------- average pooling
AVG_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 2}),
    ((2, 3, 9, 9), {"kernel_size": 3, "stride": 2}),
    ((2, 3, 8, 9), {"kernel_size": (2, 3), "stride": (1, 2)}),
    ((2, 3, 8, 8), {"kernel_size": 3, "stride": 1, "padding": 1}),
    ((2, 3, 8, 8), {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}),
    ((2, 3, 7, 8), {"kernel_size": (3, 2), "padding": (1, 1), "count_include_pad": False}),
    ((2, 3, 9, 9), {"kernel_size": 2, "ceil_mode": True}),
    ((2, 3, 10, 11), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    (
        (2, 3, 10, 11),
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
    ),
    ((2, 3, 8, 8), {"kernel_size": 3, "padding": 1, "divisor_override": 4}),
    ((2, 3, 7, 7), {"kernel_size": 7}),  # global: the loop over (few) outputs
    ((2, 3, 8, 8), {"kernel_size": 6, "stride": 2}),  # 2 x 2 outputs of 36-pixel windows
    ((2, 3, 8, 8), {"kernel_size": 5, "stride": 3, "padding": 2, "count_include_pad": False}),
    ((3, 6, 6), {"kernel_size": 2}),  # unbatched
]


@pytest.mark.parametrize("x_shape,kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(x_shape, kwargs):
    _compare(
        lambda x: F.avg_pool2d(x, **kwargs), lambda x: TF.avg_pool2d(x, **kwargs), _rand(x_shape)
    )


def test_avg_pool2d_float32_stays_float32():
    x = _rand((4, 3, 8, 8), np.float32)
    y = _compare(lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2), x, np.float32)
    assert y.dtype == deepgrad.float32


@pytest.mark.parametrize(
    "x_shape,kwargs",
    [
        ((2, 3, 10), {"kernel_size": 2}),
        ((2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((2, 3, 11), {"kernel_size": 3, "padding": 1, "count_include_pad": False}),
        ((2, 3, 11), {"kernel_size": 2, "ceil_mode": True}),
    ],
)
def test_avg_pool1d_matches_torch(x_shape, kwargs):
    _compare(
        lambda x: F.avg_pool1d(x, **kwargs), lambda x: TF.avg_pool1d(x, **kwargs), _rand(x_shape)
    )


# ---------------------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize(
    "x_shape,size",
    [
        ((2, 3, 7, 7), 1),  # global average pooling
        ((2, 3, 8, 6), (4, 3)),  # sizes divide: average pooling with kernel = stride
        ((2, 3, 7, 9), (3, 5)),  # overlapping windows of different sizes
        ((2, 3, 7, 9), (None, 4)),
        ((2, 3, 5, 5), 7),  # larger than the input: windows repeat pixels
        ((3, 6, 6), 2),  # unbatched
    ],
)
def test_adaptive_avg_pool2d_matches_torch(x_shape, size):
    _compare(
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        _rand(x_shape),
    )


def test_adaptive_avg_pool2d_keeps_nan_and_inf_in_their_windows():
    """Overlapping windows of different sizes, a NaN and infinities in the input and in the
    upstream gradient: each reaches exactly the windows (and pixels) PyTorch's do."""
    x = _rand((2, 3, 7, 9))
    x[0, 0, 1, 2], x[0, 1, 4, 4], x[1, 2, 6, 8] = np.nan, np.inf, -np.inf
    g = _rand((2, 3, 3, 5), seed=7)
    g[0, 0, 0, 0], g[1, 1, 2, 3], g[1, 2, 1, 1] = np.nan, np.inf, -np.inf
    xo, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = F.adaptive_avg_pool2d(xo, (3, 5)), TF.adaptive_avg_pool2d(xt, (3, 5))
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    for a, e in ((yo.detach(), yt.detach()), (xo.grad, xt.grad)):
        assert np.isnan(e.numpy()).any() and np.isfinite(e.numpy()).any()
        assert_close(a, e)  # NaN and infinities where torch has them, the rest close


@pytest.mark.parametrize("size", [1, 3, 4])
def test_adaptive_avg_pool1d_matches_torch(size):
    f_dg, f_th = (
        (lambda x: F.adaptive_avg_pool1d(x, size)),
        (lambda x: TF.adaptive_avg_pool1d(x, size)),
    )
    _compare(f_dg, f_th, _rand((2, 3, 10)))


@pytest.mark.parametrize("size", [1, 2, (2, 3)])
def test_adaptive_max_pool2d_matches_torch_when_sizes_divide(size):
    x = _rand((2, 3, 6, 6))
    _compare(lambda t: F.adaptive_max_pool2d(t, size), lambda t: TF.adaptive_max_pool2d(t, size), x)
    _, io = F.adaptive_max_pool2d(deepgrad.tensor(x), size, return_indices=True)
    _, it = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    assert_close(io, it)
    with pytest.raises(NotImplementedError, match="does not divide"):
        F.adaptive_max_pool2d(deepgrad.tensor(_rand((2, 3, 7, 7))), 3)


# ---------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    ],
)
def test_pooling_gradcheck(fn):
    # distinct values: finite differences cannot judge a max with ties
    x = _rand((2, 2, 5, 6)) + np.arange(120).reshape(2, 2, 5, 6) * 1e-2
    report = gradcheck(fn, (deepgrad.tensor(x, requires_grad=True),))
    assert report, str(report)


# ---------------------------------------------------------------------------- modules
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool2d(2),
        lambda m: m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        lambda m: m.MaxPool2d((2, 3), dilation=(1, 2)),
        lambda m: m.AvgPool2d(2),
        lambda m: m.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        lambda m: m.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=2),
        lambda m: m.AdaptiveAvgPool2d(1),
        lambda m: m.AdaptiveAvgPool2d((None, 3)),
        lambda m: m.AdaptiveMaxPool2d(2),
    ],
)
def test_pooling_modules_match_torch(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, _rand((2, 3, 8, 6)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool1d(2),
        lambda m: m.MaxPool1d(3, stride=2, padding=1),
        lambda m: m.AvgPool1d(2),
        lambda m: m.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
    ],
)
def test_pooling1d_modules_match_torch(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, _rand((2, 3, 9)))


def test_max_pool2d_module_return_indices():
    x = _rand((2, 3, 6, 6))
    yo, io = nn.MaxPool2d(2, return_indices=True)(deepgrad.tensor(x))
    yt, it = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert_close(yo, yt)
    assert_close(io, it)
    assert io.dtype == deepgrad.int64


def test_pooling_a_conv_output_matches_torch():
    # Convolutions store their output batch-innermost; pooling must read it (and send its
    # gradient back) in that layout with PyTorch's results.
    x, w = _rand((3, 2, 8, 8)), _rand((4, 2, 3, 3), seed=1)
    xo, wo = deepgrad.tensor(x, requires_grad=True), deepgrad.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    for pool_dg, pool_th in [
        (lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2)),
        (lambda t: F.max_pool2d(t, 3, 2, 1), lambda t: TF.max_pool2d(t, 3, 2, 1)),
        (lambda t: F.avg_pool2d(t, 3, 1, 1), lambda t: TF.avg_pool2d(t, 3, 1, 1)),
        (lambda t: F.adaptive_avg_pool2d(t, 3), lambda t: TF.adaptive_avg_pool2d(t, 3)),
    ]:
        xo.grad = wo.grad = xt.grad = wt.grad = None
        yo = pool_dg(F.conv2d(xo, wo, padding=1).relu()).flatten(1)
        yt = pool_th(TF.conv2d(xt, wt, padding=1).relu()).flatten(1)
        assert_close(yo, yt.detach())
        g = _rand(tuple(yt.shape), seed=3)
        yo.backward(deepgrad.tensor(g))
        yt.backward(torch.tensor(g))
        assert_close(xo.grad, xt.grad)
        assert_close(wo.grad, wt.grad)


# ---------------------------------------------------------------------------- errors
def test_pooling_errors_name_the_layer_and_shapes():
    model = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(2), nn.MaxPool2d(2))
    with pytest.raises(RuntimeError, match=r"MaxPool2d layer '2'.*\(2, 1, 1, 1\)"):
        model(deepgrad.zeros(2, 1, 5, 5))
    with pytest.raises(RuntimeError):  # torch rejects it too
        torch.nn.Sequential(*[torch.nn.MaxPool2d(2)] * 3)(torch.zeros(2, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"\(N, C, H, W\).*\(4, 784\).*view\(-1, 1, 28, 28\)"):
        nn.AvgPool2d(2)(deepgrad.zeros(4, 784))
    with pytest.raises(RuntimeError, match=r"max_pool1d expects input of shape \(N, C, L\)"):
        F.max_pool1d(deepgrad.zeros(4), 2)


def test_pooling_argument_errors_match_torch():
    x, xt = deepgrad.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8)
    for kwargs in [
        {"kernel_size": 2, "padding": 2},
        {"kernel_size": 0},
        {"kernel_size": 2, "stride": 0},
    ]:
        with pytest.raises((RuntimeError, ValueError)):
            TF.max_pool2d(xt, **kwargs)
        with pytest.raises(ValueError):
            F.max_pool2d(x, **kwargs)
    with pytest.raises(RuntimeError):
        TF.avg_pool2d(xt, 2, divisor_override=0)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
