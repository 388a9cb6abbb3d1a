"""Convolution (conv2d, conv1d, Conv2d, Conv1d) against PyTorch: forward and every gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from conftest import assert_close
from deepgrad.autograd import gradcheck
from deepgrad.ops import conv as conv_ops


def _rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compare(dg_fn, th_fn, arrays, requires, dtype=np.float64, rtol=None, atol=None):
    """Run dg_fn/th_fn on the same arrays, back-propagate one random upstream gradient, and
    compare the outputs and the gradient of every input that requires one.

    ``atol`` is relative to each compared array's largest magnitude: float32 sums of
    thousands of products carry absolute rounding errors of about 1e-7 times that scale."""
    ours = [
        None if a is None else deepgrad.tensor(a, requires_grad=r) for a, r in zip(arrays, requires)
    ]
    theirs = [
        None if a is None else torch.tensor(a, requires_grad=r) for a, r in zip(arrays, requires)
    ]
    yo, yt = dg_fn(*ours), th_fn(*theirs)

    def close(a, t):
        scale = float(np.abs(t.detach().numpy()).max(initial=0))
        assert_close(a, t.detach(), rtol=rtol, atol=None if atol is None else atol * scale)

    close(yo, yt)
    g = _rand(tuple(yt.shape), dtype, seed=99)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    for o, t, r in zip(ours, theirs, requires):
        if o is None:
            continue
        if r:
            assert o.grad is not None
            close(o.grad, t.grad)
        else:
            assert o.grad is None
    return yo


# ---------------------------------------------------------------------------- conv2d, float64
@pytest.fixture(params=["im2col", "rowwise", "col2im-dx"])
def strategy(request, monkeypatch):
    """Run a test with each way of computing the convolution (see deepgrad.ops.conv): im2col
    columns, row-wise columns, and the input gradient by col2im instead of by convolution."""
    if request.param == "im2col":
        monkeypatch.setattr(conv_ops, "_ROWWISE_MIN", 10**9)
    else:
        monkeypatch.setattr(conv_ops, "_ROWWISE_MIN", 1)
    if request.param == "col2im-dx":
        monkeypatch.setattr(conv_ops, "_input_grad_by_conv", lambda *args: None)
    return request.param


CONV2D_CASES = [
    # (x shape, weight shape, kwargs)
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"stride": 2}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"stride": (2, 1)}),
    ((2, 3, 9, 10), (4, 3, 3, 3), {"stride": 3, "padding": 1}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 3, 7, 8), (4, 3, 3, 2), {"padding": (2, 1)}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": "same"}),
    ((2, 3, 7, 8), (4, 3, 4, 2), {"padding": "same"}),  # even kernels: asymmetric padding
    ((2, 3, 7, 8), (4, 3, 3, 4), {"padding": "same", "dilation": (1, 3)}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": "valid"}),
    ((2, 3, 9, 9), (4, 3, 3, 3), {"dilation": 2}),
    ((2, 3, 9, 11), (4, 3, 3, 2), {"dilation": (1, 3), "padding": (1, 2), "stride": (1, 2)}),
    ((2, 4, 7, 8), (6, 2, 3, 3), {"groups": 2}),
    ((2, 6, 7, 8), (6, 2, 3, 3), {"groups": 3, "stride": 2, "padding": 1}),
    ((2, 4, 7, 8), (4, 1, 3, 3), {"groups": 4, "padding": 1}),  # depthwise
    ((2, 3, 7, 8), (6, 1, 3, 3), {"groups": 3}),  # depthwise with channel multiplier 2
    ((2, 3, 6, 9), (5, 3, 1, 4), {}),  # rectangular kernels
    ((2, 3, 6, 9), (5, 3, 4, 1), {"stride": (1, 2)}),
    ((2, 3, 5, 5), (4, 3, 1, 1), {}),  # 1x1 convolution
    ((1, 3, 7, 8), (4, 3, 3, 3), {"padding": 1}),  # batch size 1
    ((3, 2, 5, 6), (4, 2, 5, 6), {}),  # kernel as large as the input: one output pixel
    ((2, 1, 28, 28), (4, 1, 5, 5), {"padding": 2}),  # the CNN's first layer
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's, not ours
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV2D_CASES)
def test_conv2d_matches_torch_float64(x_shape, w_shape, kwargs, bias, strategy):
    arrays = [_rand(x_shape), _rand(w_shape, seed=1), _rand(w_shape[:1], seed=2) if bias else None]
    _compare(
        lambda x, w, b: F.conv2d(x, w, b, **kwargs),
        lambda x, w, b: TF.conv2d(x, w, b, **kwargs),
        arrays,
        [True, True, True],
    )


def test_conv2d_positional_arguments_follow_torch_order():
    x, w, b = _rand((2, 4, 8, 8)), _rand((6, 2, 3, 3), seed=1), _rand((6,), seed=2)
    ours = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w), deepgrad.tensor(b), 2, 1, 2, 2)
    theirs = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), 2, 1, 2, 2)
    assert_close(ours, theirs)


def test_conv2d_many_chunks_matches_torch(monkeypatch, strategy):
    # Small chunk budgets: several chunks of output rows, the last one short, and the work
    # buffers reused between them (and between forward and backward).
    arrays = [_rand((3, 4, 9, 7)), _rand((6, 2, 3, 3), seed=1), _rand((6,), seed=2)]
    for budget in [1, 3 * 36 * 21 * 8]:  # 1 byte, then about 3 rows of im2col columns
        monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", budget)
        geo = conv_ops._ConvGeometry((3, 4, 9, 7), (6, 2, 3, 3), (1, 1), (1,) * 4, (1, 1), 2, 8)
        chunks = geo.chunks()
        assert len(chunks) > 1 and chunks[-1][1] - chunks[-1][0] <= geo.rows
        _compare(
            lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
            lambda x, w, b: TF.conv2d(x, w, b, padding=1, groups=2),
            arrays,
            [True, True, True],
        )


@pytest.mark.parametrize("keep", [True, False])
def test_conv2d_weight_grad_survives_later_convolutions(monkeypatch, strategy, keep):
    # The forward pass keeps its column matrix for dW when it is built in one chunk (with a
    # 1-byte chunk budget there are several, and backward builds them again). Another
    # convolution of the same shapes in between reuses every work buffer: the kept matrix must
    # not be one of them.
    if not keep:
        monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", 1)
    x1, x2, w = _rand((2, 3, 7, 8)), _rand((2, 3, 7, 8), seed=1), _rand((4, 3, 3, 3), seed=2)
    wd = deepgrad.tensor(w, requires_grad=True)
    y1 = F.conv2d(deepgrad.tensor(x1), wd, padding=1)
    F.conv2d(deepgrad.tensor(x2), deepgrad.tensor(w, requires_grad=True), padding=1)
    y1.sum().backward()
    wt = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x1), wt, padding=1).sum().backward()
    assert_close(wd.grad, wt.grad)


@pytest.mark.parametrize(
    "requires", [(False, True, True), (True, False, False), (True, True, False)]
)
def test_conv2d_computes_only_the_gradients_needed(requires):
    # The first layer's input needs no gradient; a frozen layer's weight needs none.
    arrays = [_rand((2, 3, 6, 6)), _rand((4, 3, 3, 3), seed=1), _rand((4,), seed=2)]
    _compare(
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        arrays,
        list(requires),
    )


def test_conv2d_unbatched_input_matches_torch():
    arrays = [_rand((3, 7, 8)), _rand((4, 3, 3, 3), seed=1), _rand((4,), seed=2)]
    y = _compare(
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        arrays,
        [True, True, True],
    )
    assert y.shape == (4, 7, 8)


def test_conv2d_output_flattens_and_reshapes_like_torch():
    # The output is stored batch-innermost; every view of it must still read torch's values.
    x, w = _rand((3, 2, 6, 5)), _rand((4, 2, 3, 3), seed=1)
    yo = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w), padding=1)
    yt = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert_close(yo.flatten(1), yt.flatten(1))
    assert_close(yo.view(-1), yt.reshape(-1))
    assert_close(yo[1, 2], yt[1, 2])
    assert_close(yo.permute(0, 2, 3, 1), yt.permute(0, 2, 3, 1))
    assert_close(yo.numpy(), yt.numpy())


# ---------------------------------------------------------------------------- float32
@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs",
    [
        ((16, 1, 28, 28), (16, 1, 5, 5), {"padding": 2}),
        ((16, 16, 14, 14), (32, 16, 5, 5), {"padding": 2}),
        ((4, 8, 9, 9), (8, 2, 3, 3), {"groups": 4, "stride": 2, "padding": "valid"}),
    ],
)
def test_conv2d_float32_matches_torch_and_stays_float32(x_shape, w_shape, kwargs):
    arrays = [
        _rand(x_shape, np.float32),
        _rand(w_shape, np.float32, seed=1) * 0.2,
        _rand(w_shape[:1], np.float32, seed=2),
    ]
    y = _compare(
        lambda x, w, b: F.conv2d(x, w, b, **kwargs),
        lambda x, w, b: TF.conv2d(x, w, b, **kwargs),
        arrays,
        [True, True, True],
        dtype=np.float32,
        rtol=1e-5,
        atol=1e-5,
    )
    assert y.dtype == deepgrad.float32


# ---------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize(
    "kwargs",
    [
        {"stride": 2, "padding": 1},
        {"padding": "same", "dilation": 2},
        {"groups": 2, "padding": (0, 1)},
    ],
)
def test_conv2d_gradcheck(kwargs):
    x = deepgrad.tensor(_rand((2, 2, 5, 6)), requires_grad=True)
    w = deepgrad.tensor(_rand((2, 2 // kwargs.get("groups", 1), 3, 2), seed=1), requires_grad=True)
    b = deepgrad.tensor(_rand((2,), seed=2), requires_grad=True)
    report = gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))
    assert report, str(report)


def test_conv1d_gradcheck():
    x = deepgrad.tensor(_rand((2, 3, 7)), requires_grad=True)
    w = deepgrad.tensor(_rand((2, 3, 3), seed=1), requires_grad=True)
    report = gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1), (x, w))
    assert report, str(report)


# ---------------------------------------------------------------------------- conv1d
CONV1D_CASES = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 3), {"stride": 2, "padding": 1}),
    ((2, 3, 10), (4, 3, 4), {"padding": "same", "dilation": 2}),
    ((2, 4, 10), (6, 2, 3), {"groups": 2, "padding": (2,)}),
    ((1, 3, 10), (4, 3, 5), {"padding": "valid"}),
    ((3, 10), (4, 3, 3), {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV1D_CASES)
def test_conv1d_matches_torch(x_shape, w_shape, kwargs):
    arrays = [_rand(x_shape), _rand(w_shape, seed=1), _rand(w_shape[:1], seed=2)]
    _compare(
        lambda x, w, b: F.conv1d(x, w, b, **kwargs),
        lambda x, w, b: TF.conv1d(x, w, b, **kwargs),
        arrays,
        [True, True, True],
    )


# ---------------------------------------------------------------------------- modules
MODULE_CASES = [
    (nn.Conv2d, torch.nn.Conv2d, (1, 16, 5), {"padding": 2}, (4, 1, 12, 12)),
    (nn.Conv2d, torch.nn.Conv2d, (4, 6, (3, 2)), {"stride": 2, "groups": 2}, (2, 4, 9, 9)),
    (nn.Conv2d, torch.nn.Conv2d, (3, 4, 4), {"padding": "same", "bias": False}, (2, 3, 7, 6)),
    (nn.Conv2d, torch.nn.Conv2d, (3, 4, 3), {"padding": "valid", "dilation": 2}, (2, 3, 9, 9)),
    (nn.Conv1d, torch.nn.Conv1d, (3, 5, 3), {"padding": 1, "stride": 2}, (2, 3, 11)),
    (nn.Conv1d, torch.nn.Conv1d, (2, 4, 4), {"padding": "same"}, (2, 2, 9)),
]


@pytest.mark.parametrize("ours_cls,theirs_cls,args,kwargs,x_shape", MODULE_CASES)
def test_conv_modules_match_torch(ours_cls, theirs_cls, args, kwargs, x_shape):
    theirs = theirs_cls(*args, **kwargs).double()
    ours = ours_cls(*args, **kwargs, dtype=deepgrad.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight.shape == tuple(theirs.weight.shape)
    ours.load_state_dict(theirs.state_dict())
    x = _rand(x_shape)
    xo, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt.detach())
    g = _rand(tuple(yt.shape), seed=5)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xo.grad, xt.grad)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad)


def test_conv2d_module_attributes_match_torch():
    for kwargs in [{}, {"padding": "same", "dilation": 2}, {"stride": (2, 1), "padding": (1, 0)}]:
        ours, theirs = nn.Conv2d(2, 4, 3, **kwargs), torch.nn.Conv2d(2, 4, 3, **kwargs)
        names = "in_channels out_channels kernel_size stride padding dilation groups padding_mode"
        for name in names.split() + ["transposed", "output_padding"]:
            assert getattr(ours, name) == getattr(theirs, name), name


def test_conv2d_default_init_follows_torch_bounds():
    # PyTorch: weight ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and the
    # bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels/groups * kH * kW.
    deepgrad.manual_seed(3)
    layer = nn.Conv2d(8, 64, (5, 3), groups=2)
    fan_in = 4 * 5 * 3
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.98 * bound  # filled, not just bounded
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-a, a): a/sqrt(3)
    theirs = torch.nn.Conv2d(8, 64, (5, 3), groups=2)  # the same bound, as torch draws it
    assert theirs.weight.abs().max().item() <= bound


def test_conv2d_reset_parameters_redraws_from_the_seed():
    deepgrad.manual_seed(0)
    a = nn.Conv2d(2, 3, 3)
    deepgrad.manual_seed(0)
    b = nn.Conv2d(2, 3, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    before = a.weight.detach().numpy().copy()
    a.reset_parameters()
    assert not np.array_equal(before, a.weight.detach().numpy())


# ---------------------------------------------------------------------------- errors
def _conv_error(layer, x_shape, match):
    x = deepgrad.zeros(x_shape)
    with pytest.raises(RuntimeError, match=match) as info:
        layer(x)
    return str(info.value)


def test_conv2d_flattened_input_error_suggests_view():
    msg = _conv_error(nn.Conv2d(1, 16, 5), (128, 784), r"x\.view\(-1, 1, 28, 28\)")
    assert "Conv2d" in msg and "(N, C, H, W)" in msg and "(128, 784)" in msg
    with pytest.raises(RuntimeError):  # torch rejects it too
        torch.nn.Conv2d(1, 16, 5)(torch.zeros(128, 784))


def test_conv2d_missing_channel_dimension_error_suggests_unsqueeze():
    msg = _conv_error(nn.Conv2d(1, 16, 5), (128, 28, 28), r"unsqueeze\(1\)")
    assert "(128, 28, 28)" in msg and "1 input channel " in msg
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(1, 16, 5)(torch.zeros(128, 28, 28))


def test_conv2d_channel_mismatch_error_names_layer_path_and_channels():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(16, 8, 3))
    msg = _conv_error(model, (2, 3, 10, 10), "16 input channels")
    assert "'2'" in msg and "(2, 8, 8, 8)" in msg and "out_channels" in msg
    msg = _conv_error(nn.Conv2d(3, 8, 3), (2, 32, 32, 3), r"permute\(0, 3, 1, 2\)")
    assert "(2, 32, 32, 3)" in msg


def test_conv2d_kernel_larger_than_padded_input_error():
    msg = _conv_error(nn.Conv2d(1, 4, 5, padding=1), (2, 1, 2, 2), "smaller than the kernel")
    assert "(2, 1, 2, 2)" in msg and "4 x 4" in msg and "5 x 5" in msg
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(1, 4, 5, padding=1)(torch.zeros(2, 1, 2, 2))


def test_functional_conv_errors_name_the_function():
    w = deepgrad.zeros(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"conv2d expects 3 input channels.*\(2, 5, 8, 8\)"):
        F.conv2d(deepgrad.zeros(2, 5, 8, 8), w)
    with pytest.raises(RuntimeError, match="conv2d got input of dtype float64"):
        F.conv2d(deepgrad.zeros(2, 3, 8, 8, dtype=deepgrad.float64), w)
    with pytest.raises(RuntimeError, match=r"conv1d expects input of shape \(N, C, L\)"):
        F.conv1d(deepgrad.zeros(2, 3, 8, 8), deepgrad.zeros(4, 3, 3))
    with pytest.raises(ValueError, match="bias must have shape"):
        F.conv2d(deepgrad.zeros(2, 3, 8, 8), w, deepgrad.zeros(3))
    with pytest.raises(ValueError, match="not supported for strided"):
        F.conv2d(deepgrad.zeros(2, 3, 8, 8), w, stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(deepgrad.zeros(2, 3, 8, 8), w, padding="full")


def test_conv2d_constructor_errors_match_torch():
    for kwargs, exc in [
        ({"groups": 2}, ValueError),  # in_channels 3 not divisible by 2
        ({"padding": "same", "stride": 2}, ValueError),
        ({"padding": "full"}, ValueError),
        ({"padding_mode": "mirror"}, ValueError),
    ]:
        with pytest.raises(exc):
            torch.nn.Conv2d(3, 4, 3, **kwargs)
        with pytest.raises(exc):
            nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")


@pytest.mark.parametrize(
    "w2_shape,kwargs",
    [
        ((5, 4, 1, 1), {}),
        ((5, 4, 3, 1), {}),
        ((5, 4, 1, 1), {"stride": 2}),
        ((6, 2, 3, 3), {"groups": 2}),
    ],
)
def test_conv_of_a_conv_output_matches_torch(w2_shape, kwargs, strategy):
    # A conv output is stored batch-innermost; without padding the next conv reads it in place
    # (and a kernel one column wide needs no column copy at all).
    arrays = [_rand((3, 2, 7, 6)), _rand((4, 2, 3, 3), seed=1), _rand(w2_shape, seed=2)]
    _compare(
        lambda x, w1, w2: F.conv2d(F.conv2d(x, w1, padding=1), w2, **kwargs),
        lambda x, w1, w2: TF.conv2d(TF.conv2d(x, w1, padding=1), w2, **kwargs),
        arrays,
        [True, True, True],
    )
