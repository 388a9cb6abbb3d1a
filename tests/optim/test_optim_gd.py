"""deepgrad.optim.GD: fixed-step gradient descent and the backtracking (Armijo) line search.

Oracles: torch.optim.SGD without momentum for the fixed step; for the line search, the rule
itself, re-run in NumPy on a quadratic whose gradient is known in closed form.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_optim_helpers import Pair, assert_params_close, train

import deepgrad
from deepgrad import optim


@pytest.mark.parametrize(
    "kwargs", [{"lr": 0.1}, {"lr": 0.2, "weight_decay": 0.05}, {"lr": 0.01, "maximize": True}]
)
def test_fixed_step_matches_torch_sgd_trajectory(kwargs):
    pair = Pair()
    dopt = optim.GD(pair.dp, **kwargs)
    topt = torch.optim.SGD(pair.tp, **kwargs)
    for _ in range(50):
        train(dopt, pair.deepgrad_loss, 1)
        train(topt, pair.torch_loss, 1)
        assert_params_close(pair.dp, pair.tp)  # every iterate, not only the last


def _quadratic(seed=0, n=6, cond=50.0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = q @ np.diag(np.geomspace(1.0, cond, n)) @ q.T
    b = rng.standard_normal(n)
    return A, b


def _f(A, b, x):
    return 0.5 * x @ A @ x - b @ x


def _armijo_reference(A, b, x, lr, beta, c, wd=0.0):
    """The documented rule, in NumPy: shrink t by beta until F(x - t g) <= F(x) - c t ||g||^2."""

    def F(z):
        return _f(A, b, z) + 0.5 * wd * z @ z

    g = A @ x - b + wd * x
    t = lr
    while F(x - t * g) > F(x) - c * t * (g @ g):
        t *= beta
    return x - t * g, t


@pytest.mark.parametrize(
    "lr, beta, c, wd", [(1.0, 0.5, 1e-4, 0.0), (3.0, 0.7, 0.3, 0.0), (1.0, 0.5, 0.1, 0.2)]
)
def test_armijo_on_quadratic_follows_the_rule(lr, beta, c, wd):
    A, b = _quadratic()
    x = deepgrad.tensor(np.zeros(6), requires_grad=True)
    At, bt = deepgrad.tensor(A), deepgrad.tensor(b)
    opt = optim.GD([x], lr=lr, line_search_fn="armijo", beta=beta, c=c, weight_decay=wd)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (At @ x)) - bt @ x
        loss.backward()
        return loss

    ref = np.zeros(6)
    losses = []
    shrunk = False
    for _ in range(40):
        start = x._data.copy()
        g = A @ start - b + wd * start
        F0 = _f(A, b, start) + 0.5 * wd * start @ start
        loss = opt.step(closure)
        assert float(loss) == pytest.approx(_f(A, b, start), rel=1e-12)  # the loss at the start
        t = opt.state[x]["step_size"]
        shrunk |= t < lr
        F1 = _f(A, b, x._data) + 0.5 * wd * x._data @ x._data
        # the accepted step satisfies Armijo's condition ...
        assert F1 <= F0 - c * t * (g @ g) + 1e-12
        # ... and is the first one of lr, lr*beta, lr*beta^2, ... that does (the reference rule)
        ref, t_ref = _armijo_reference(A, b, ref, lr, beta, c, wd)
        assert t == pytest.approx(t_ref, rel=1e-12)
        np.testing.assert_allclose(x._data, ref, rtol=1e-10, atol=1e-12)
        losses.append(F1)
    assert shrunk, "lr was small enough never to need backtracking: the test would be weak"
    assert all(b_ < a_ for a_, b_ in zip(losses, losses[1:])), "loss must decrease monotonically"
    x_star = np.linalg.solve(A + wd * np.eye(6), b)
    F_star = _f(A, b, x_star) + 0.5 * wd * x_star @ x_star
    assert losses[-1] - F_star < 0.05 * (0.0 - F_star)  # most of the way from F(0) = 0
    assert opt.state[x]["step"] == 40
    assert opt.state[x]["func_evals"] >= 80  # one at the start and at least one trial per step


def test_fixed_step_too_large_diverges_where_armijo_converges():
    """The course's point: with a too-long step GD blows up; the line search fixes it."""
    A, b = _quadratic(cond=50.0)

    def run(**kwargs):
        x = deepgrad.tensor(np.zeros(6), requires_grad=True)
        At, bt = deepgrad.tensor(A), deepgrad.tensor(b)
        opt = optim.GD([x], lr=0.1, **kwargs)  # 0.1 > 2 / 50: unstable without a line search

        def closure():
            opt.zero_grad()
            loss = 0.5 * (x @ (At @ x)) - bt @ x
            loss.backward()
            return loss

        for _ in range(30):
            opt.step(closure)
        return _f(A, b, x._data)

    f_star = _f(A, b, np.linalg.solve(A, b))
    assert run() > 1e3
    assert run(line_search_fn="armijo") < f_star + 0.1 * abs(f_star)


def test_armijo_on_mlp_decreases_loss_monotonically():
    pair = Pair()
    opt = optim.GD(pair.dp, lr=2.0, line_search_fn="backtracking")
    losses = train(opt, pair.deepgrad_loss, 30, closure=True)
    assert all(b < a for a, b in zip(losses, losses[1:]))
    # and it beats the fixed step it starts from on the same budget of steps (torch's SGD at
    # a safe fixed lr as the baseline)
    tp = Pair()
    baseline = train(torch.optim.SGD(tp.tp, lr=0.1), tp.torch_loss, 30)
    assert losses[-1] < baseline[-1]


def test_armijo_maximize():
    x = deepgrad.tensor(np.array([3.0, -2.0]), requires_grad=True)
    opt = optim.GD([x], lr=1.0, line_search_fn="armijo", maximize=True)

    def closure():
        opt.zero_grad()
        loss = -((x - 1.0) ** 2).sum()  # maximum 0 at x = 1
        loss.backward()
        return loss

    values = [float(opt.step(closure)) for _ in range(20)]
    assert all(b > a for a, b in zip(values, values[1:]) if a < -1e-12)
    np.testing.assert_allclose(x._data, [1.0, 1.0], atol=1e-6)


def test_armijo_gives_up_with_a_warning_and_leaves_params():
    x = deepgrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.GD([x], lr=1.0, line_search_fn="armijo", max_ls=5)

    def wrong_sign_closure():  # returns f but back-propagates -f: an ascent direction
        opt.zero_grad()
        loss = (x**2).sum()
        (-loss).backward()
        return loss

    with pytest.warns(RuntimeWarning, match="left unchanged"):
        opt.step(wrong_sign_closure)
    np.testing.assert_array_equal(x._data, [1.0, 2.0])
    assert opt.state[x]["step_size"] == 0.0
    assert opt.state[x]["func_evals"] == 1 + 5 + 1


def test_armijo_at_a_stationary_point_does_nothing():
    x = deepgrad.tensor(np.array([0.0, 0.0]), requires_grad=True)
    opt = optim.GD([x], lr=1.0, line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(closure)
    np.testing.assert_array_equal(x._data, [0.0, 0.0])


def test_armijo_needs_closure_and_one_group():
    pair = Pair()
    opt = optim.GD(pair.dp, lr=1.0, line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="needs a closure"):
        opt.step()
    two = optim.GD(
        [{"params": pair.dp[:2]}, {"params": pair.dp[2:]}], lr=1.0, line_search_fn="armijo"
    )
    with pytest.raises(ValueError, match="single parameter group"):
        two.step(lambda: pair.deepgrad_loss())


def test_armijo_keeps_float32():
    x = deepgrad.tensor(np.array([3.0, -2.0], dtype=np.float32), requires_grad=True)
    opt = optim.GD([x], lr=1.0, line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = ((x - 1.0) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    assert x._data.dtype == np.float32
    np.testing.assert_allclose(x._data, [1.0, 1.0], atol=1e-5)
