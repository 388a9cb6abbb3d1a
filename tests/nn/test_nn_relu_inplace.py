"""ReLU written into its input: ``relu_``, ``F.relu(inplace=True)``, ``nn.ReLU(inplace=True)``,
and the ReLU that a Sequential runs in place after a product when no graph is recorded.
PyTorch is the oracle for every value; for the Sequential, hooks that keep a layer's output
show that nothing a user can see changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.conftest import assert_close

import deepgrad
import deepgrad.nn.functional as F
from deepgrad import nn
from deepgrad.kernels import relu as relu_kernels

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0, 1.0, -3e38, 1e-45]


def _values(size, seed=0):
    x = np.random.default_rng(seed).standard_normal(size).astype(np.float32)
    x[: len(SPECIAL)] = SPECIAL[:size]
    return x


def _same(a, e):
    np.testing.assert_array_equal(a, e)
    real = ~np.isnan(e)
    np.testing.assert_array_equal(np.signbit(a[real]), np.signbit(e[real]))


FORMS = {
    "Tensor.relu_": lambda t: t.relu_(),
    "deepgrad.relu_": lambda t: deepgrad.relu_(t),
    "F.relu(inplace=True)": lambda t: F.relu(t, inplace=True),
    "nn.ReLU(inplace=True)": lambda t: nn.ReLU(inplace=True)(t),
}


@pytest.mark.parametrize("size", [9, relu_kernels.INPLACE_MIN + 3])  # NumPy, then the kernel
@pytest.mark.parametrize("form", FORMS)
def test_inplace_forms_write_the_input_as_torch_does(form, size):
    x = deepgrad.tensor(_values(size))
    xt = torch.tensor(_values(size))
    out = FORMS[form](x)
    torch.relu_(xt)
    assert out is x
    _same(x.numpy(), xt.numpy())


def test_inplace_on_integers_matches_torch():
    x = deepgrad.tensor([-3, 0, 5])
    xt = torch.tensor([-3, 0, 5])
    assert x.relu_() is x
    np.testing.assert_array_equal(x.numpy(), torch.relu_(xt).numpy())


def test_inplace_where_a_graph_is_recorded():
    """F.relu(inplace=True) inside a graph: the same output and gradient as torch (deepgrad
    returns a new tensor there, documented); relu_ itself refuses, naming the fix."""
    x = deepgrad.tensor(_values(20)[9:], requires_grad=True)
    xt = torch.tensor(_values(20)[9:], requires_grad=True)
    h, ht = x * 2, xt * 2
    before = h.detach().numpy().copy()
    y, yt = F.relu(h, inplace=True), torch.relu(ht * 1)
    assert_close(y, yt)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    assert_close(x.grad, xt.grad)
    np.testing.assert_array_equal(h.detach().numpy(), before)
    y2 = nn.ReLU(inplace=True)(x * 2)
    assert y2.requires_grad
    with pytest.raises(RuntimeError, match=r"relu_\(\).*no_grad"):
        (x * 2).relu_()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.relu_()
    with deepgrad.no_grad():
        assert x.relu_() is x  # a parameter-style update under no_grad is allowed


def _twins(*layers):
    """A deepgrad Sequential and its PyTorch twin (same weights), from layer builders."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(*(make(torch.nn) for make in layers))
    dmodel = nn.Sequential(*(make(nn) for make in layers))
    dmodel.load_state_dict({k: deepgrad.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
    return dmodel, tmodel


MLP = (
    lambda m: m.Flatten(),
    lambda m: m.Linear(12, 40),
    lambda m: m.ReLU(),
    lambda m: m.Linear(40, 30),
    lambda m: m.ReLU(),
    lambda m: m.Linear(30, 3),
)
CNN = (
    lambda m: m.Conv2d(2, 4, 3, padding=1),
    lambda m: m.ReLU(),
    lambda m: m.MaxPool2d(2),
    lambda m: m.Flatten(),
    lambda m: m.Linear(4 * 3 * 2, 5),
    lambda m: m.ReLU(),
)


@pytest.fixture
def inplace_calls(monkeypatch):
    """The layers whose ReLU the Sequentials ran in place, recorded."""
    from deepgrad.nn.modules import container

    calls = []
    original = container.layer_then_relu

    def spy(layer, input):
        out, done = original(layer, input)
        if done:
            calls.append(layer)
        return out, done

    monkeypatch.setattr(container, "layer_then_relu", spy)
    return calls


# In a graph only a Linear's ReLU runs in place (its backward never reads its output).
@pytest.mark.parametrize(
    "layers,shape,fused,fused_in_graph",
    [(MLP, (64, 3, 4), 2, 2), (CNN, (64, 2, 6, 4), 2, 1)],
    ids=["mlp", "cnn"],
)
def test_sequential_runs_relu_in_place(layers, shape, fused, fused_in_graph, inplace_calls):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    dmodel, tmodel = _twins(*layers)
    xd = deepgrad.tensor(x)
    with deepgrad.no_grad():
        out = dmodel(xd)
    assert len(inplace_calls) == fused
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x))
    assert_close(out, expected)
    np.testing.assert_array_equal(xd.numpy(), x)  # the input is never written

    inplace_calls.clear()
    out = dmodel(deepgrad.tensor(x))  # training: a graph
    assert [type(layer) for layer in inplace_calls] == [nn.Linear] * fused_in_graph
    out.square().sum().backward()
    out_t = tmodel(torch.from_numpy(x))
    out_t.square().sum().backward()
    assert_close(out, out_t)
    for p, pt in zip(dmodel.parameters(), tmodel.parameters()):
        assert_close(p.grad, pt.grad)
    assert out.grad_fn.name() == out_t.grad_fn.name()


def test_training_trajectory_with_in_place_relus_matches_torch(inplace_calls):
    """Ten SGD steps of the MLP with its ReLUs written into the Linears' outputs: the losses
    and weights stay torch's."""
    dmodel, tmodel = _twins(*MLP)
    opt = deepgrad.optim.SGD(dmodel.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(5)
    for _ in range(10):
        x = rng.standard_normal((32, 12)).astype(np.float32)
        y = rng.integers(0, 3, 32)
        losses = []
        for model, optimiser, lib in ((dmodel, opt, deepgrad), (tmodel, opt_t, torch)):
            optimiser.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert len(inplace_calls) == 20
    for p, pt in zip(dmodel.parameters(), tmodel.parameters()):
        assert_close(p, pt.detach(), rtol=1e-5, atol=1e-6)


def test_sequential_frozen_model_is_fused_with_grad_mode_on(inplace_calls):
    """No parameter requires grad: no graph is recorded, so in place even outside no_grad."""
    dmodel, tmodel = _twins(*MLP)
    dmodel.requires_grad_(False)
    x = np.random.default_rng(2).standard_normal((8, 12)).astype(np.float32)
    out = dmodel(deepgrad.tensor(x))
    assert len(inplace_calls) == 2 and not out.requires_grad
    with torch.no_grad():
        assert_close(out, tmodel(torch.from_numpy(x)))


def _keep_outputs(model, kept):
    def hook(module, inputs, output):
        kept.append(output)

    return hook


@pytest.mark.parametrize("hooked", [1, 2])  # the Linear before the ReLU, or the ReLU itself
def test_sequential_with_hooks_keeps_every_visible_output(hooked, inplace_calls):
    """A hook sees the layer's output, so it must stay what torch's hook sees (the Linear's
    negative values, or the ReLU's input that a pre-hook got)."""
    dmodel, tmodel = _twins(*MLP)
    kept, kept_t = [], []
    if hooked == 1:
        dmodel[1].register_forward_hook(_keep_outputs(dmodel, kept))
        tmodel[1].register_forward_hook(_keep_outputs(tmodel, kept_t))
    else:
        dmodel[2].register_forward_pre_hook(lambda m, inputs: kept.append(inputs[0]))
        tmodel[2].register_forward_pre_hook(lambda m, inputs: kept_t.append(inputs[0]))
    x = np.random.default_rng(3).standard_normal((16, 12)).astype(np.float32)
    with deepgrad.no_grad(), torch.no_grad():
        out, expected = dmodel(deepgrad.tensor(x)), tmodel(torch.from_numpy(x))
    assert_close(out, expected)
    assert len(kept) == 1 and (kept[0].numpy() < 0).any()
    assert_close(kept[0], kept_t[0])
    assert len(inplace_calls) == 1  # only the second ReLU, after an unhooked Linear


class _RememberingLinear(nn.Linear):
    """A subclass may keep its output: never fused."""

    def forward(self, input):
        self.last = super().forward(input)
        return self.last


def test_sequential_never_writes_what_a_subclass_or_a_view_could_hold(inplace_calls):
    torch.manual_seed(0)
    layer = _RememberingLinear(6, 5)
    x = deepgrad.tensor(np.random.default_rng(4).standard_normal((7, 6)).astype(np.float32))
    with deepgrad.no_grad():
        out = nn.Sequential(layer, nn.ReLU())(x)
        assert (layer.last.numpy() < 0).any()
        np.testing.assert_array_equal(out.numpy(), np.maximum(0, layer.last.numpy()))
        y = deepgrad.tensor(np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32))
        nn.Sequential(nn.Flatten(), nn.ReLU())(y)  # Flatten's output is a view of y
        np.testing.assert_array_equal(y.numpy(), [[-1.0, 2.0], [3.0, -4.0]])
    assert inplace_calls == []
