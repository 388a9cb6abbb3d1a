"""deepgrad.optim.lr_scheduler against torch.optim.lr_scheduler.

Oracle: PyTorch. Each schedule drives the same optimiser on the same MLP in both frameworks for
30 epochs; the learning-rate sequences must agree and so must the parameters.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from test_optim_helpers import Pair, assert_params_close, train

import deepgrad
from deepgrad import optim
from deepgrad.optim import lr_scheduler


class Scale:
    """A callable object (not a function): LambdaLR's state_dict saves its __dict__."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return 1.0 / (1.0 + self.rate * epoch)


SCHEDULES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),  # 30 epochs: past T_max, twice
    ("CosineAnnealingLR", {"T_max": 30}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.95**e}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (1 + e), lambda e: (e % 5 + 1) / 5]}),
]


def _ids(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}" for k in kw) + ")"


def _two_groups(params):
    return [{"params": params[:2], "lr": 0.05}, {"params": params[2:], "lr": 0.2}]


def _epochs(opt, sched, loss_fn, n):
    lrs = []
    for _ in range(n):
        train(opt, loss_fn, 1)
        sched.step()
        lrs.append(list(sched.get_last_lr()))
    return lrs


@pytest.mark.parametrize("case", SCHEDULES, ids=[_ids(c) for c in SCHEDULES])
def test_schedule_matches_torch_over_30_epochs(case):
    name, kwargs = case
    pair = Pair()
    dopt = optim.SGD(_two_groups(pair.dp), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(_two_groups(pair.tp), lr=0.1, momentum=0.9)
    dsched = getattr(lr_scheduler, name)(dopt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert dsched.get_last_lr() == tsched.get_last_lr()
    assert dsched.last_epoch == tsched.last_epoch == 0
    dl = _epochs(dopt, dsched, pair.deepgrad_loss, 30)
    tl = _epochs(topt, tsched, pair.torch_loss, 30)
    np.testing.assert_allclose(dl, tl, rtol=1e-12, atol=1e-15)
    assert dsched.last_epoch == tsched.last_epoch == 30
    assert [g["initial_lr"] for g in dopt.param_groups] == [0.05, 0.2]
    assert len({tuple(x) for x in dl}) > 1  # the schedule did change the rate
    assert_params_close(pair.dp, pair.tp)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", {"step_size": 4, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [3, 8], "gamma": 0.3}),
        ("ExponentialLR", {"gamma": 0.8}),
        ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.01}),
    ],
)
def test_step_with_epoch_uses_closed_form_and_warns_like_torch(name, kwargs):
    pair = Pair()
    dopt, topt = optim.SGD(pair.dp, lr=0.1), torch.optim.SGD(pair.tp, lr=0.1)
    dsched = getattr(lr_scheduler, name)(dopt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in (2, 5, 9, 4):
        dopt.step()
        topt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            dsched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(epoch)
        np.testing.assert_allclose(dsched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [4, 13], "gamma": 0.3}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 8, "eta_min": 0.001}),
        ("LambdaLR", {"lr_lambda": Scale(0.3)}),
    ],
)
def test_resume_from_state_dicts_equals_uninterrupted(name, kwargs):
    ref = Pair()
    ref_opt = optim.Adam(ref.dp, lr=0.01)
    ref_sched = getattr(lr_scheduler, name)(ref_opt, **kwargs)
    ref_lrs = _epochs(ref_opt, ref_sched, ref.deepgrad_loss, 20)

    first = Pair()
    opt = optim.Adam(first.dp, lr=0.01)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    lrs = _epochs(opt, sched, first.deepgrad_loss, 10)
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_sd

    second = Pair()
    for p, q in zip(second.dp, first.dp):
        p._data[...] = q._data
    opt2 = optim.Adam(second.dp, lr=0.01)
    fresh_kwargs = dict(kwargs)
    if name == "LambdaLR":
        fresh_kwargs["lr_lambda"] = Scale(999.0)  # its rate comes back from the state_dict
    sched2 = getattr(lr_scheduler, name)(opt2, **fresh_kwargs)
    opt2.load_state_dict(opt_sd)  # after building the scheduler, as PyTorch's docs say
    sched2.load_state_dict(sched_sd)
    lrs += _epochs(opt2, sched2, second.deepgrad_loss, 10)
    assert lrs == ref_lrs
    for p, q in zip(second.dp, ref.dp):
        np.testing.assert_array_equal(p._data, q._data)


def test_resume_with_last_epoch_matches_torch():
    """Building with last_epoch=k (needs initial_lr) continues the schedule, as in PyTorch."""
    pair = Pair()
    results = []
    for opt_mod, sched_mod, params in (
        (optim, lr_scheduler, pair.dp),
        (torch.optim, torch.optim.lr_scheduler, pair.tp),
    ):
        opt = opt_mod.SGD(params, lr=0.1)
        for g in opt.param_groups:
            g["initial_lr"] = 0.1
        seq = []
        for name, kw in (("ExponentialLR", {"gamma": 0.5}), ("CosineAnnealingLR", {"T_max": 6})):
            opt.param_groups[0]["lr"] = 0.03
            sched = getattr(sched_mod, name)(opt, last_epoch=3, **kw)
            seq.append(sched.get_last_lr()[0])
            for _ in range(4):
                opt.step()
                sched.step()
                seq.append(sched.get_last_lr()[0])
        results.append(seq)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_resume_without_initial_lr_raises():
    pair = Pair()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD(pair.dp, lr=0.1), step_size=2, last_epoch=5)


def test_scheduler_before_optimizer_step_warns_like_torch():
    pair = Pair()
    opt = optim.SGD(pair.dp, lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD(pair.dp, lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()  # the right order: no warning


def test_lambda_lr_list_length_and_get_lr_outside_step():
    pair = Pair()
    opt = optim.SGD(_two_groups(pair.dp), lr=0.1)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


# ------------------------------------------------------------------------- ReduceLROnPlateau
METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7, 0.7, 0.7, 0.7, 0.7]
METRICS += [0.69999, 0.69, 0.68, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2},
        {"patience": 0, "factor": 0.5},
        {"patience": 1, "cooldown": 2, "factor": 0.5},
        {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
        {"patience": 1, "threshold": 0.2},
        {"patience": 1, "factor": 0.2, "min_lr": [0.01, 0.001]},
        {"patience": 1, "factor": 0.5, "min_lr": 0.02, "eps": 1e-3},
        {"mode": "max", "patience": 1, "factor": 0.5},
        {"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.01},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    pair = Pair()
    dopt = optim.SGD(_two_groups(pair.dp), lr=0.1)
    topt = torch.optim.SGD(_two_groups(pair.tp), lr=0.1)
    dsched = lr_scheduler.ReduceLROnPlateau(dopt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    dl, tl = [], []
    for i, m in enumerate(METRICS):
        train(dopt, pair.deepgrad_loss, 1)
        train(topt, pair.torch_loss, 1)
        if i % 2:  # a 0-d tensor works too
            dsched.step(deepgrad.tensor(m, dtype=deepgrad.float64))
            tsched.step(torch.tensor(m, dtype=torch.float64))
        else:
            dsched.step(m)
            tsched.step(m)
        dl.append(dsched.get_last_lr())
        tl.append(tsched.get_last_lr())
        assert dsched.num_bad_epochs == tsched.num_bad_epochs
        assert dsched.best == tsched.best
    assert dl == tl
    assert dsched.last_epoch == tsched.last_epoch == len(METRICS)
    assert_params_close(pair.dp, pair.tp)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    pair = Pair()
    opt = optim.SGD(pair.dp, lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for m in METRICS[:8]:
        sched.step(m)
    saved = copy.deepcopy(sched.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    fresh_opt = optim.SGD(pair.dp, lr=0.1)
    fresh = lr_scheduler.ReduceLROnPlateau(fresh_opt, mode="max")
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    assert fresh.mode == "min" and fresh.get_last_lr() == sched.get_last_lr() != [0.1]
    for m in METRICS[8:]:
        sched.step(m)
        fresh.step(m)
        assert fresh.get_last_lr() == sched.get_last_lr()
        assert fresh.best == sched.best


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"factor": 1.0}, ValueError, "Factor should be < 1.0."),
        ({"mode": "lowest"}, ValueError, "mode lowest is unknown!"),
        ({"threshold_mode": "pct"}, ValueError, "threshold mode pct is unknown!"),
        ({"min_lr": [0.1, 0.2, 0.3]}, ValueError, "expected 1 min_lrs, got 3"),
    ],
)
def test_reduce_lr_on_plateau_errors(kwargs, exc, message):
    pair = Pair()
    with pytest.raises(exc) as theirs:
        torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(pair.tp), **kwargs)
    assert str(theirs.value).startswith(message)
    with pytest.raises(exc) as ours:
        lr_scheduler.ReduceLROnPlateau(optim.SGD(pair.dp), **kwargs)
    assert str(ours.value).startswith(message)
