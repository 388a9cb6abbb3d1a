"""deepgrad.optim against torch.optim: trajectories, state, state_dict, errors.

Oracle: PyTorch. The same MLP with the same initial weights (drawn by torch) is trained 50 steps
by both frameworks; every parameter must agree to 1e-6 in float64.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from test_optim_helpers import Pair, assert_params_close, train

import deepgrad
from deepgrad import optim

CASES = [
    # (name, kwargs) -- the class has the same name in both frameworks
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3}),
    (
        "Adagrad",
        {
            "lr": 0.05,
            "lr_decay": 0.01,
            "weight_decay": 0.05,
            "initial_accumulator_value": 0.1,
            "maximize": True,
        },
    ),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "eps": 1e-4}),  # 1 - alpha >= 0.5: lerp's other branch
    ("RMSprop", {"lr": 0.01, "centered": True, "alpha": 0.4, "eps": 1e-4}),
    ("RMSprop", {"lr": 0.002, "momentum": 0.3, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.3, 0.5), "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "betas": (0.5, 0.9), "maximize": True}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-3}),
    ("Adamax", {"lr": 0.02, "maximize": True}),
]


def _ids(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def _pair_of_optimizers(name, kwargs, pair):
    return getattr(optim, name)(pair.dp, **kwargs), getattr(torch.optim, name)(pair.tp, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_50_steps_match_torch_float64(case):
    name, kwargs = case
    pair = Pair()
    dopt, topt = _pair_of_optimizers(name, kwargs, pair)
    dl = train(dopt, pair.deepgrad_loss, 50)
    tl = train(topt, pair.torch_loss, 50)
    np.testing.assert_allclose(dl, tl, rtol=1e-6, atol=1e-10)
    assert_params_close(pair.dp, pair.tp)
    # the unused parameter has no gradient and is left alone by both
    assert pair.dp[-1].grad is None and np.all(pair.dp[-1]._data == 1)
    # the loss went where it should (a test that the options do something)
    assert (dl[-1] > dl[0]) if kwargs.get("maximize") else (dl[-1] < dl[0])


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_state_matches_torch_layout_and_values(case):
    name, kwargs = case
    pair = Pair()
    dopt, topt = _pair_of_optimizers(name, kwargs, pair)
    train(dopt, pair.deepgrad_loss, 7)
    train(topt, pair.torch_loss, 7)
    dsd, tsd = dopt.state_dict(), topt.state_dict()
    assert sorted(dsd["state"]) == sorted(tsd["state"])
    for i, tstate in tsd["state"].items():
        assert set(dsd["state"][i]) == set(tstate), f"param {i}"
        for key, tval in tstate.items():
            dval = dsd["state"][i][key]
            if key == "step":
                assert isinstance(dval, float) and dval == float(tval)
            else:
                assert isinstance(dval, deepgrad.Tensor)
                np.testing.assert_allclose(dval._data, tval.numpy(), rtol=1e-6, atol=1e-10)
    for dg, tg in zip(dsd["param_groups"], tsd["param_groups"]):
        assert dg["params"] == tg["params"]
        for key, value in dg.items():
            assert tg[key] == value, key


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
        ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
        ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
        ("AdamW", {"lr": 0.01}),
        ("Adamax", {"lr": 0.02}),
    ],
)
def test_float32_stays_float32_and_tracks_torch(name, kwargs):
    pair = Pair(dtype=torch.float32)
    dopt, topt = _pair_of_optimizers(name, kwargs, pair)
    dl = train(dopt, pair.deepgrad_loss, 50)
    tl = train(topt, pair.torch_loss, 50)
    for p in pair.dp:
        assert p._data.dtype == np.float32
    for st in dopt.state.values():
        for key, value in st.items():
            if isinstance(value, deepgrad.Tensor):
                assert value._data.dtype == np.float32, key
    np.testing.assert_allclose(dl, tl, rtol=1e-4, atol=1e-6)
    assert_params_close(pair.dp, pair.tp, rtol=1e-4, atol=1e-5)


def test_param_groups_with_own_hyperparameters_match_torch():
    pair = Pair(extra_unused=False)

    def groups(ps):
        return [
            {"params": ps[:2], "lr": 0.05, "momentum": 0.9},
            {"params": ps[2:], "weight_decay": 0.1},
        ]

    dopt = optim.SGD(groups(pair.dp), lr=0.1)
    topt = torch.optim.SGD(groups(pair.tp), lr=0.1)
    assert [g["lr"] for g in dopt.param_groups] == [0.05, 0.1]
    assert [g["momentum"] for g in dopt.param_groups] == [0.9, 0]
    train(dopt, pair.deepgrad_loss, 50)
    train(topt, pair.torch_loss, 50)
    assert_params_close(pair.dp, pair.tp)


def test_add_param_group_midway_matches_torch():
    pair = Pair(extra_unused=False)
    dopt = optim.Adam(pair.dp[:2], lr=0.01)
    topt = torch.optim.Adam(pair.tp[:2], lr=0.01)
    train(dopt, pair.deepgrad_loss, 5)  # W2, b2 get gradients but are not optimised yet
    train(topt, pair.torch_loss, 5)
    dopt.add_param_group({"params": pair.dp[2:], "lr": 0.02, "amsgrad": True})
    topt.add_param_group({"params": pair.tp[2:], "lr": 0.02, "amsgrad": True})
    train(dopt, pair.deepgrad_loss, 20)
    train(topt, pair.torch_loss, 20)
    assert_params_close(pair.dp, pair.tp)


def test_adagrad_param_group_added_later_gets_state():
    pair = Pair(extra_unused=False)
    dopt = optim.Adagrad(pair.dp[:2], lr=0.1, initial_accumulator_value=0.2)
    dopt.add_param_group({"params": pair.dp[2:]})
    train(dopt, pair.deepgrad_loss, 3)
    assert dopt.state[pair.dp[3]]["step"] == 3.0


def test_lr_changed_between_steps_matches_torch():
    pair = Pair()
    dopt, topt = _pair_of_optimizers("Adam", {"lr": 0.01}, pair)
    for lr in (0.01, 0.03, 0.001, 0.02):
        for opt in (dopt, topt):
            opt.param_groups[0]["lr"] = lr
        train(dopt, pair.deepgrad_loss, 5)
        train(topt, pair.torch_loss, 5)
    assert_params_close(pair.dp, pair.tp)


# ------------------------------------------------------------------------- state_dict
ROUND_TRIP = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.2}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.01}),
    ("GD", {"lr": 0.5, "line_search_fn": "armijo"}),
]


@pytest.mark.parametrize("name, kwargs", ROUND_TRIP)
def test_state_dict_round_trip_continues_exactly(name, kwargs):
    use_closure = kwargs.get("line_search_fn") is not None
    ref = Pair()
    ref_opt = getattr(optim, name)(ref.dp, **kwargs)
    train(ref_opt, ref.deepgrad_loss, 20, closure=use_closure)

    first = Pair()
    opt = getattr(optim, name)(first.dp, **kwargs)
    train(opt, first.deepgrad_loss, 10, closure=use_closure)
    saved = copy.deepcopy(opt.state_dict())  # what deepgrad.save would write
    for key, value in _flat_state(saved):
        assert isinstance(value, (deepgrad.Tensor, int, float)), key

    second = Pair()  # fresh tensors with the trained values
    for p, q in zip(second.dp, first.dp):
        p._data[...] = q._data
    fresh = getattr(optim, name)(second.dp, **kwargs)
    fresh.load_state_dict(saved)
    train(fresh, second.deepgrad_loss, 10, closure=use_closure)
    for p, q in zip(second.dp, ref.dp):
        np.testing.assert_array_equal(p._data, q._data)
    # loading copied the buffers: the saved dict was not mutated by the further steps
    before = copy.deepcopy(saved)
    train(fresh, second.deepgrad_loss, 1, closure=use_closure)
    for (k1, v1), (_, v2) in zip(_flat_state(saved), _flat_state(before)):
        if isinstance(v1, deepgrad.Tensor):
            np.testing.assert_array_equal(v1._data, v2._data, err_msg=k1)


def _flat_state(sd):
    for i, st in sorted(sd["state"].items()):
        for key, value in sorted(st.items()):
            yield f"{i}.{key}", value


def test_load_torch_state_dict_then_continue_like_torch():
    """PyTorch's layout is ours: a torch optimiser's state_dict loads and training goes on."""
    pair = Pair()
    kwargs = {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}
    topt = torch.optim.Adam(pair.tp, **kwargs)
    train(topt, pair.torch_loss, 10)
    for d, t in zip(pair.dp, pair.tp):
        d._data[...] = t.detach().numpy()
    dopt = optim.Adam(pair.dp, **kwargs)
    dopt.load_state_dict(topt.state_dict())
    assert dopt.state[pair.dp[0]]["step"] == 10.0
    assert dopt.param_groups[0]["params"][0] is pair.dp[0]
    train(dopt, pair.deepgrad_loss, 15)
    train(topt, pair.torch_loss, 15)
    assert_params_close(pair.dp, pair.tp)


def test_load_state_dict_casts_buffers_and_accepts_string_keys():
    pair = Pair(dtype=torch.float32, extra_unused=False)
    opt = optim.SGD(pair.dp, lr=0.1, momentum=0.9)
    train(opt, pair.deepgrad_loss, 2)
    sd = opt.state_dict()
    as_json = {
        "state": {
            str(i): {"momentum_buffer": s["momentum_buffer"]._data.astype(np.float64)}
            for i, s in sd["state"].items()
        },
        "param_groups": sd["param_groups"],
    }
    fresh = optim.SGD(pair.dp, lr=0.1, momentum=0.9)
    fresh.load_state_dict(as_json)
    buf = fresh.state[pair.dp[0]]["momentum_buffer"]
    assert buf._data.dtype == np.float32
    np.testing.assert_array_equal(buf._data, sd["state"][0]["momentum_buffer"]._data)


def test_load_state_dict_mismatch_errors():
    pair = Pair(extra_unused=False)
    opt = optim.SGD(pair.dp, lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": pair.dp[:2]}, {"params": pair.dp[2:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD(pair.dp[:3], lr=0.1).load_state_dict(sd)


def test_load_state_dict_restores_hyperparameters():
    pair = Pair()
    opt = optim.SGD(pair.dp, lr=0.3, momentum=0.7)
    other = optim.SGD(pair.dp, lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.3 and other.param_groups[0]["momentum"] == 0.7
    assert other.param_groups[0]["params"] is pair.dp or other.param_groups[0]["params"] == [
        *pair.dp
    ]


def test_adamw_load_keeps_decoupled():
    pair = Pair()
    sd = optim.Adam(pair.dp, lr=0.01).state_dict()
    w = optim.AdamW(pair.dp)
    w.load_state_dict(sd)
    assert w.param_groups[0]["decoupled_weight_decay"] is True


# ------------------------------------------------------------------------- base-class behaviour
def test_lazy_state_and_skipping_none_grads():
    pair = Pair()
    opt = optim.Adam(pair.dp, lr=0.01)
    assert len(opt.state) == 0
    train(opt, pair.deepgrad_loss, 1)
    assert len(opt.state) == 4  # the unused parameter never got a gradient: no state
    assert pair.dp[-1] not in opt.state
    assert set(opt.state[pair.dp[0]]) == {"step", "exp_avg", "exp_avg_sq"}


def test_adagrad_state_is_created_eagerly_like_torch():
    pair = Pair()
    opt = optim.Adagrad(pair.dp, initial_accumulator_value=0.5)
    topt = torch.optim.Adagrad(pair.tp, initial_accumulator_value=0.5)
    assert len(opt.state) == len(topt.state) == 5
    np.testing.assert_array_equal(opt.state[pair.dp[0]]["sum"]._data, np.full((3, 8), 0.5))


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
        lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, maximize=True),
        lambda ps: optim.AdamW(ps, lr=0.1, maximize=True),
        lambda ps: optim.Adagrad(ps, weight_decay=0.1),
        lambda ps: optim.RMSprop(ps, weight_decay=0.1, centered=True),
        lambda ps: optim.Adamax(ps, weight_decay=0.1, maximize=True),
        lambda ps: optim.GD(ps, lr=0.1, weight_decay=0.1, maximize=True),
    ],
)
def test_step_never_modifies_grad(make):
    pair = Pair(extra_unused=False)
    opt = make(pair.dp)
    pair.deepgrad_loss().backward()
    before = [p.grad._data.copy() for p in pair.dp]
    ids = [id(p.grad._data) for p in pair.dp]
    opt.step()
    opt.step()
    for p, b, i in zip(pair.dp, before, ids):
        assert id(p.grad._data) == i
        np.testing.assert_array_equal(p.grad._data, b)


def test_zero_grad():
    pair = Pair(extra_unused=False)
    opt = optim.SGD(pair.dp, lr=0.1)
    pair.deepgrad_loss().backward()
    grads = [p.grad for p in pair.dp]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(pair.dp, grads):
        assert p.grad is g and not p.grad._data.any()
    opt.zero_grad()
    assert all(p.grad is None for p in pair.dp)


def test_step_returns_closure_loss_and_runs_it_with_grad_enabled():
    pair = Pair()
    opt = optim.SGD(pair.dp, lr=0.1)
    seen = []

    def closure():
        seen.append(deepgrad.is_grad_enabled())
        opt.zero_grad()
        loss = pair.deepgrad_loss()
        loss.backward()
        return loss

    with deepgrad.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert isinstance(loss, deepgrad.Tensor)
    assert opt.step() is None


def test_step_records_no_graph():
    pair = Pair()
    opt = optim.Adam(pair.dp, lr=0.01)
    pair.deepgrad_loss().backward()
    opt.step()
    assert all(p.is_leaf and p.requires_grad for p in pair.dp)


def test_params_as_generator_and_named_parameters():
    pair = Pair(extra_unused=False)
    opt = optim.SGD((p for p in pair.dp), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 4
    named = optim.SGD([(f"p{i}", p) for i, p in enumerate(pair.dp)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["p0", "p1", "p2", "p3"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["p0", "p1", "p2", "p3"]


def test_repr_lists_groups_like_torch():
    pair = Pair()
    text = repr(optim.SGD(pair.dp, lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")


def test_pickle_round_trip():
    import pickle

    pair = Pair()
    opt = optim.Adam(pair.dp, lr=0.01)
    train(opt, pair.deepgrad_loss, 2)
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.param_groups[0]["lr"] == 0.01
    assert len(clone.state) == 4


def test_tensor_learning_rate_is_accepted():
    pair = Pair()
    dopt = optim.SGD(pair.dp, lr=deepgrad.tensor(0.1, dtype=deepgrad.float64))
    topt = torch.optim.SGD(pair.tp, lr=0.1)
    train(dopt, pair.deepgrad_loss, 5)
    train(topt, pair.torch_loss, 5)
    assert_params_close(pair.dp, pair.tp)


# ------------------------------------------------------------------------- errors
BAD = [
    ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    (
        "SGD",
        {"momentum": 0.9, "dampening": 0.1, "nesterov": True},
        "Nesterov momentum requires a momentum and zero dampening",
    ),
    ("Adagrad", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ("Adagrad", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", {"eps": -1}, "Invalid epsilon value: -1"),
    ("RMSprop", {"lr": -1}, "Invalid learning rate: -1"),
    ("RMSprop", {"eps": -1}, "Invalid epsilon value: -1"),
    ("RMSprop", {"momentum": -1}, "Invalid momentum value: -1"),
    ("RMSprop", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("RMSprop", {"alpha": -1}, "Invalid alpha value: -1"),
    ("Adam", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adam", {"eps": -1}, "Invalid epsilon value: -1"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("AdamW", {"lr": -1}, "Invalid learning rate: -1"),
    ("AdamW", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adamax", {"eps": -1}, "Invalid epsilon value: -1"),
    ("Adamax", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
    ("Adamax", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD, ids=[f"{n}-{m}" for n, _, m in BAD])
def test_bad_hyperparameters_raise_torchs_message(name, kwargs, message):
    pair = Pair()
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)(pair.tp, **kwargs)
    assert str(theirs.value) == message  # the oracle says what the message is
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)(pair.dp, **kwargs)
    assert str(ours.value) == message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ({"line_search_fn": "wolfe"}, "unknown line_search_fn 'wolfe'"),
        ({"beta": 1.0}, "Invalid beta value: 1.0"),
        ({"c": 0}, "Invalid c value: 0"),
        ({"max_ls": 0}, "Invalid max_ls value: 0"),
    ],
)
def test_gd_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=_re(message)):
        optim.GD(Pair().dp, **kwargs)


def _re(s):
    import re

    return re.escape(s)


def test_construction_errors():
    pair = Pair()
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(pair.dp[0])
    with pytest.raises(TypeError, match="call it: model.parameters\\(\\)"):
        optim.SGD(lambda: pair.dp)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    gen = (p for p in pair.dp)
    list(gen)
    with pytest.raises(ValueError, match="consumed only once"):
        optim.SGD(gen)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([pair.dp[0] * 2])
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optim.SGD([{"params": pair.dp[:2]}, {"params": pair.dp[1:]}])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": set(pair.dp)}])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([pair.dp[0], pair.dp[0]])
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam(pair.dp, differentiable=True)


def test_compatibility_flags_are_accepted():
    pair = Pair()
    optim.SGD(pair.dp, foreach=False, fused=None)
    optim.Adam(pair.dp, foreach=None, capturable=False, fused=False)
    optim.RMSprop(pair.dp, 0.01, 0.99, 1e-8, 0, 0, False, False, None)
    optim.Adagrad(pair.dp, 0.01, 0, 0, 0, 1e-10, None, fused=None)
    optim.Adamax(pair.dp, 2e-3, (0.9, 0.999), 1e-8, 0, None, capturable=False)


def test_default_hyperparameters_match_torch():
    pair = Pair()
    for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax"):
        ours = getattr(optim, name)(pair.dp).defaults
        theirs = getattr(torch.optim, name)(pair.tp).defaults
        for key, value in ours.items():
            assert theirs[key] == value or (
                isinstance(value, float) and math.isclose(theirs[key], value)
            ), (name, key)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_zero_dim_parameter_matches_torch(case):
    name, kwargs = case
    w_d = deepgrad.tensor(0.5, dtype=deepgrad.float64, requires_grad=True)
    w_t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    dopt, topt = getattr(optim, name)([w_d], **kwargs), getattr(torch.optim, name)([w_t], **kwargs)
    train(dopt, lambda: (w_d - 3.0) ** 2 + 0.1 * w_d**4, 20)
    train(topt, lambda: (w_t - 3.0) ** 2 + 0.1 * w_t**4, 20)
    assert w_d.shape == ()
    assert_params_close([w_d], [w_t])


def test_zero_grad_without_none_on_zero_dim_parameter():
    w = deepgrad.tensor(0.5, dtype=deepgrad.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3.0).backward()
    opt.zero_grad(set_to_none=False)
    assert float(w.grad) == 0.0
