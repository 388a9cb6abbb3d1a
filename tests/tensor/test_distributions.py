"""deepgrad.distributions (Normal, Uniform, Bernoulli, Multinomial), bernoulli, multinomial."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.distributions as D


def _t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _d(x):
    return deepgrad.tensor(np.asarray(x, dtype=np.float64))


def _close(d, t):
    np.testing.assert_allclose(np.asarray(d._data), t.detach().numpy(), rtol=1e-10, atol=1e-12)


LOC, SCALE, VALUE = [0.0, 1.5, -2.0], [1.0, 0.5, 3.0], [0.3, 1.0, 4.0]


def test_normal_matches_torch():
    dn, tn = D.Normal(_d(LOC), _d(SCALE)), torch.distributions.Normal(_t(LOC), _t(SCALE))
    _close(dn.log_prob(_d(VALUE)), tn.log_prob(_t(VALUE)))
    _close(dn.entropy(), tn.entropy())
    _close(dn.cdf(_d(VALUE)), tn.cdf(_t(VALUE)))
    _close(dn.mean, tn.mean)
    _close(dn.variance, tn.variance)
    _close(dn.stddev, tn.stddev)
    assert dn.batch_shape == tuple(tn.batch_shape) and dn.event_shape == ()
    assert dn.sample((4, 2)).shape == tuple(tn.sample((4, 2)).shape)
    assert D.Normal(0.0, 1.0).sample().shape == ()


def test_normal_rsample_is_differentiable_and_sample_is_not():
    loc = deepgrad.tensor([0.5, -1.0], requires_grad=True)
    scale = deepgrad.tensor([2.0, 0.1], requires_grad=True)
    deepgrad.manual_seed(0)
    x = D.Normal(loc, scale).rsample((1000,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad._data, [1000.0, 1000.0])
    eps = (x._data - loc._data) / scale._data  # d x / d scale = eps
    np.testing.assert_allclose(scale.grad._data, eps.sum(0), rtol=1e-5)
    assert not D.Normal(loc, scale).sample().requires_grad
    deepgrad.manual_seed(1)
    big = D.Normal(2.0, 3.0).sample((20000,))._data
    assert abs(big.mean() - 2.0) < 0.1 and abs(big.std() - 3.0) < 0.1  # ~5 standard errors


def test_uniform_matches_torch():
    lo, hi = [0.0, -1.0], [2.0, 3.0]
    du, tu = D.Uniform(_d(lo), _d(hi)), torch.distributions.Uniform(_t(lo), _t(hi))
    v = [1.0, 2.5]
    _close(du.log_prob(_d(v)), tu.log_prob(_t(v)))
    _close(du.entropy(), tu.entropy())
    _close(du.cdf(_d(v)), tu.cdf(_t(v)))
    _close(du.mean, tu.mean)
    _close(du.variance, tu.variance)
    assert du.log_prob(_d([3.0, 2.0]))._data[0] == -np.inf
    deepgrad.manual_seed(2)
    s = du.sample((5000,))._data
    assert (s >= np.array(lo)).all() and (s < np.array(hi)).all()


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_bernoulli_matches_torch(kind):
    arg = [0.2, 0.5, 0.9] if kind == "probs" else [-1.0, 0.0, 2.5]
    db, tb = D.Bernoulli(**{kind: _d(arg)}), torch.distributions.Bernoulli(**{kind: _t(arg)})
    v = [1.0, 0.0, 1.0]
    _close(db.log_prob(_d(v)), tb.log_prob(_t(v)))
    _close(db.entropy(), tb.entropy())
    _close(db.mean, tb.mean)
    _close(db.variance, tb.variance)
    _close(db.probs, tb.probs)
    deepgrad.manual_seed(3)
    s = db.sample((4000,))
    assert s.shape == (4000, 3) and set(np.unique(s._data)) <= {0.0, 1.0}
    np.testing.assert_allclose(s._data.mean(0), tb.probs.numpy(), atol=0.05)


def test_multinomial_distribution_matches_torch():
    p = [0.2, 0.3, 0.5]
    dm, tm = D.Multinomial(10, probs=_d(p)), torch.distributions.Multinomial(10, probs=_t(p))
    v = [2.0, 3.0, 5.0]
    _close(dm.log_prob(_d(v)), tm.log_prob(_t(v)))
    _close(dm.mean, tm.mean)
    _close(dm.variance, tm.variance)
    dl = D.Multinomial(4, logits=_d([0.0, 1.0, -1.0]))
    tl = torch.distributions.Multinomial(4, logits=_t([0.0, 1.0, -1.0]))
    _close(dl.log_prob(_d([1.0, 3.0, 0.0])), tl.log_prob(_t([1.0, 3.0, 0.0])))
    deepgrad.manual_seed(4)
    s = dm.sample((500,))
    assert s.shape == (500, 3)
    np.testing.assert_array_equal(s._data.sum(-1), np.full(500, 10.0))
    np.testing.assert_allclose(s._data.mean(0), [2.0, 3.0, 5.0], atol=0.3)


def test_bernoulli_and_multinomial_functions():
    deepgrad.manual_seed(5)
    x = deepgrad.bernoulli(deepgrad.full((10000,), 0.3))
    assert x.dtype == deepgrad.float32 and abs(x._data.mean() - 0.3) < 0.03
    np.testing.assert_array_equal(deepgrad.bernoulli(deepgrad.tensor([0.0, 1.0]))._data, [0, 1])
    idx = deepgrad.multinomial(deepgrad.tensor([1.0, 0.0, 3.0]), 2)
    assert idx.dtype == deepgrad.int64 and sorted(idx.tolist()) == [0, 2]
    w = deepgrad.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 0.0]])
    draws = w.multinomial(1000, replacement=True)
    assert draws.shape == (2, 1000) and (draws._data[1] == 2).all()
    freq = np.bincount(draws._data[0], minlength=4) / 1000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.06)
    with pytest.raises(RuntimeError, match="without replacement"):
        deepgrad.multinomial(deepgrad.tensor([1.0, 0.0]), 2)


@pytest.mark.parametrize("name", ["Categorical", "Beta", "MultivariateNormal", "kl_divergence"])
def test_other_distributions_are_out_of_scope(name):
    assert hasattr(torch.distributions, name)
    with pytest.raises(NotImplementedError, match="out of scope"):
        getattr(D, name)
