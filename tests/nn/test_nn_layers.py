"""Layers with parameters or modes (Linear, Maxout, Dropout, BatchNorm, Flatten), vs PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from conftest import assert_close

DTYPES = [(np.float64, torch.float64), (np.float32, torch.float32)]


def _data(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run_both(ours, theirs, x, upstream_seed=1):
    """Forward both modules on x, back-propagate the same random upstream gradient; return
    (our output, their output, our input grad, their input grad)."""
    xo = deepgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    g = _data(tuple(yt.shape), x.dtype, upstream_seed)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    return yo, yt.detach(), xo.grad, xt.grad


def _assert_param_grads(ours, theirs):
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad is not None, name
        assert_close(p.grad, q.grad, rtol=1e-4 if p.dtype == deepgrad.float32 else None)


# ---------------------------------------------------------------------------- Linear
@pytest.mark.parametrize("np_dtype,t_dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5), (5,)])
def test_linear_matches_torch(np_dtype, t_dtype, bias, shape):
    theirs = torch.nn.Linear(5, 4, bias=bias).to(t_dtype)
    ours = nn.Linear(5, 4, bias=bias, dtype=deepgrad.float64 if np_dtype == np.float64 else None)
    ours.load_state_dict(theirs.state_dict())
    yo, yt, gxo, gxt = _run_both(ours, theirs, _data(shape, np_dtype))
    assert_close(yo, yt)
    assert_close(gxo, gxt)
    _assert_param_grads(ours, theirs)


@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear_matches_torch(bias):
    x, w, b = _data((3, 4), np.float64), _data((2, 4), np.float64, 1), _data((2,), np.float64, 2)
    ws = [deepgrad.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)]
    bs = [deepgrad.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)]
    yo = F.linear(deepgrad.tensor(x), ws[0], bs[0] if bias else None)
    yt = torch.nn.functional.linear(torch.tensor(x), ws[1], bs[1] if bias else None)
    assert_close(yo, yt.detach())
    yo.sum().backward()
    yt.sum().backward()
    assert_close(ws[0].grad, ws[1].grad)
    assert (bs[0].grad is None) == (not bias)


def test_linear_default_init_has_torchs_distribution():
    # weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); compare the spread with torch's
    ours, theirs = nn.Linear(400, 300), torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p, q in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        a, b = p._data, q.detach().numpy()
        assert a.dtype == np.float32
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        assert abs(a.std() - b.std()) < 0.05 * b.std()
        assert abs(a.mean()) < 0.1 * bound


def test_linear_init_is_reproducible_with_manual_seed():
    deepgrad.manual_seed(3)
    a = nn.Linear(3, 2).weight._data.copy()
    deepgrad.manual_seed(3)
    assert np.array_equal(nn.Linear(3, 2).weight._data, a)


def test_linear_3d_weights_gradients_match():
    theirs = torch.nn.Linear(3, 2).double()
    ours = nn.Linear(3, 2).double()
    ours.load_state_dict(theirs.state_dict())
    _run_both(ours, theirs, _data((4, 5, 3), np.float64))
    _assert_param_grads(ours, theirs)


def test_identity_flatten_unflatten():
    x = _data((2, 3, 4, 5), np.float32)
    for make in (
        lambda nn: nn.Identity(54, unused=True),
        lambda nn: nn.Flatten(),
        lambda nn: nn.Flatten(0, 2),
        lambda nn: nn.Flatten(2),
        lambda nn: nn.Unflatten(1, (3, 1)),
        lambda nn: nn.Sequential(nn.Flatten(), nn.Unflatten(1, [3, 20])),
    ):
        yo, yt, gxo, gxt = _run_both(make(nn), make(torch.nn), x)
        assert_close(yo, yt)
        assert_close(gxo, gxt)
    with pytest.raises(RuntimeError, match="unflattened_size"):
        nn.Unflatten(1, (2, 2))(deepgrad.tensor(x))


# ---------------------------------------------------------------------------- Maxout
def test_maxout_is_the_max_of_affine_pieces():
    ours = nn.Maxout(4, 3, pieces=2).double()
    lin = torch.nn.Linear(4, 6).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(ours.weight._data))
        lin.bias.copy_(torch.from_numpy(ours.bias._data))

    def theirs(x):  # the course's max(w1 x + b1, w2 x + b2), per output unit
        return lin(x).view(*x.shape[:-1], 3, 2).amax(-1)

    x = _data((5, 4), np.float64)
    xo = deepgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt.detach())
    g = _data((5, 3), np.float64, 2)
    yo.backward(deepgrad.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xo.grad, xt.grad)
    assert_close(ours.weight.grad, lin.weight.grad)
    assert_close(ours.bias.grad, lin.bias.grad)
    with pytest.raises(RuntimeError, match=r"Maxout layer \(in_features=4\)"):
        ours(deepgrad.zeros(2, 5).double())


def test_maxout_with_a_zero_piece_is_relu():
    m = nn.Maxout(3, 3, pieces=2, bias=False).double()
    w = np.zeros((6, 3))
    w[0::2] = np.eye(3)  # piece 0 = identity, piece 1 = 0
    m.weight._data[...] = w
    x = _data((4, 3), np.float64)
    assert_close(m(deepgrad.tensor(x)), torch.relu(torch.tensor(x)))


# ---------------------------------------------------------------------------- Dropout
def test_dropout_train_zeroes_and_rescales():
    d = nn.Dropout(0.25)
    x = deepgrad.ones(200, 500, requires_grad=True)
    y = d(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    assert np.allclose(y._data[kept], 1 / 0.75)
    y.sum().backward()
    assert np.array_equal(x.grad._data, y._data)  # gradient is the same scaled mask
    assert y.dtype == deepgrad.float32


def test_dropout_eval_and_edge_probabilities():
    x = deepgrad.randn(10, 10)
    d = nn.Dropout(0.5)
    d.eval()
    assert d(x) is x
    assert np.all(nn.Dropout(1.0)(x)._data == 0)
    assert np.array_equal(nn.Dropout(0.0)(x)._data, x._data)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        torch.nn.Dropout(1.5)
    # the functional form with training=False is the identity, as torch
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_is_reproducible_with_manual_seed():
    x = deepgrad.ones(50, 50)
    deepgrad.manual_seed(7)
    a = nn.Dropout()(x)._data
    deepgrad.manual_seed(7)
    assert np.array_equal(nn.Dropout()(x)._data, a)


# ---------------------------------------------------------------------------- BatchNorm
BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (3, 4, 5, 6)),
]
BN_OPTIONS = [
    {},
    {"affine": False},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"track_running_stats": False},
    {"bias": False},
]


@pytest.mark.parametrize("ours_cls,theirs_cls,shape", BN_CASES)
@pytest.mark.parametrize("options", BN_OPTIONS)
@pytest.mark.parametrize("np_dtype,t_dtype", DTYPES)
def test_batchnorm_matches_torch(ours_cls, theirs_cls, shape, options, np_dtype, t_dtype):
    theirs = theirs_cls(4, **options).to(t_dtype)
    ours = ours_cls(4, **options)
    if np_dtype == np.float64:
        ours.double()
    if theirs.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-0.5, 0.5)
    ours.load_state_dict(theirs.state_dict())
    for step in range(3):  # training steps update the running statistics
        x = _data(shape, np_dtype, step) * 2 + 1
        yo, yt, gxo, gxt = _run_both(ours, theirs, x, upstream_seed=10 + step)
        assert_close(yo, yt, rtol=1e-4 if np_dtype == np.float32 else None)
        assert_close(gxo, gxt, rtol=1e-4 if np_dtype == np.float32 else None, atol=1e-5)
        if theirs.weight is not None:
            _assert_param_grads(ours, theirs)
            ours.zero_grad()
            theirs.zero_grad()
    for k, v in theirs.state_dict().items():
        assert_close(ours.state_dict()[k], v, rtol=1e-5)
    ours.eval()
    theirs.eval()
    yo, yt, gxo, gxt = _run_both(ours, theirs, _data(shape, np_dtype, 9))
    assert_close(yo, yt, rtol=1e-4 if np_dtype == np.float32 else None)
    assert_close(gxo, gxt, rtol=1e-4 if np_dtype == np.float32 else None)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(deepgrad.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="4D"):
        nn.BatchNorm2d(3)(deepgrad.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(deepgrad.randn(1, 3))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3)(torch.randn(1, 3))  # torch refuses it too
    model = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(8))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d layer '1' \(num_features=8\)"):
        model(deepgrad.randn(4, 5))
    bn = nn.BatchNorm1d(3)
    bn.eval()
    assert bn(deepgrad.randn(1, 3)).shape == (1, 3)  # a single sample is fine in eval mode


def test_batchnorm_under_no_grad_still_updates_running_stats():
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    x = _data((5, 3), np.float32)
    with deepgrad.no_grad():
        ours(deepgrad.tensor(x))
    with torch.no_grad():
        theirs(torch.tensor(x))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)
    assert int(ours.num_batches_tracked.item()) == 1


def test_functional_batch_norm_matches_torch():
    x = _data((6, 3), np.float64)
    rm, rv = np.zeros(3), np.ones(3)
    w, b = _data((3,), np.float64, 4), _data((3,), np.float64, 5)
    ours_rm, ours_rv = deepgrad.tensor(rm.copy()), deepgrad.tensor(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    yo = F.batch_norm(deepgrad.tensor(x), ours_rm, ours_rv, deepgrad.tensor(w),
                      deepgrad.tensor(b), training=True, momentum=0.2)  # fmt: skip
    yt = torch.nn.functional.batch_norm(torch.tensor(x), theirs_rm, theirs_rv, torch.tensor(w),
                                        torch.tensor(b), training=True, momentum=0.2)  # fmt: skip
    assert_close(yo, yt)
    assert_close(ours_rm, theirs_rm)
    assert_close(ours_rv, theirs_rv)
    yo = F.batch_norm(deepgrad.tensor(x), ours_rm, ours_rv)
    yt = torch.nn.functional.batch_norm(torch.tensor(x), theirs_rm, theirs_rv)
    assert_close(yo, yt)


def test_batchnorm_gradcheck():
    from deepgrad.ops.normalization import BatchNorm

    x = deepgrad.tensor(_data((4, 3, 2), np.float64), requires_grad=True)
    w = deepgrad.tensor(_data((3,), np.float64, 1) + 2, requires_grad=True)
    b = deepgrad.tensor(_data((3,), np.float64, 2), requires_grad=True)
    assert deepgrad.autograd.gradcheck(lambda x, w, b: BatchNorm.apply(x, w, b), (x, w, b))
    mean, var = np.zeros(3), np.full(3, 2.0)
    assert deepgrad.autograd.gradcheck(
        lambda x, w, b: BatchNorm.apply(x, w, b, mean=mean, var=var), (x, w, b)
    )


# ---------------------------------------------------------------------------- one_hot
def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 3]])
    assert_close(F.one_hot(deepgrad.tensor(t)), torch.nn.functional.one_hot(torch.tensor(t)))
    assert_close(
        F.one_hot(deepgrad.tensor(t), num_classes=6),
        torch.nn.functional.one_hot(torch.tensor(t), num_classes=6),
    )
    with pytest.raises(RuntimeError, match="class value 3 is out of range for num_classes=3"):
        F.one_hot(deepgrad.tensor(t), 3)
