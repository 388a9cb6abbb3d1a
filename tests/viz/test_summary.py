"""summary(): parameter counts, output shapes and memory checked against PyTorch building the
same architectures (and the course's hand count for the MLP 784-512-256-10)."""

from __future__ import annotations

import pytest
import torch

import deepgrad
import deepgrad.nn as nn
from deepgrad.viz import summary


def _course_mlp(lib):
    return lib.nn.Sequential(
        lib.nn.Flatten(),
        lib.nn.Linear(784, 512),
        lib.nn.ReLU(),
        lib.nn.Linear(512, 256),
        lib.nn.ReLU(),
        lib.nn.Linear(256, 10),
    )


def _torch_output_shapes(model, *inputs):
    shapes = {}

    def hook(name):
        def record(module, args, out):
            shapes.setdefault(name, tuple(out.shape))

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    return shapes


def _check_against_torch(s, tmodel, input_size=None):
    tparams = list(tmodel.parameters())
    assert s.total_params == sum(p.numel() for p in tparams)
    assert s.trainable_params == sum(p.numel() for p in tparams if p.requires_grad)
    assert s.bias_params == sum(p.numel() for n, p in tmodel.named_parameters() if "bias" in n)
    assert s.param_bytes == sum(p.numel() * p.element_size() for p in tparams)
    seen = set()  # a shared parameter is counted at its first module only
    rows = {r.path: r for r in s.rows}
    assert set(rows) == {p for p, m in tmodel.named_modules() if p or not list(m.children())}
    for path, module in tmodel.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        if path in rows:
            assert rows[path].params == sum(p.numel() for p in own), path
            assert rows[path].type == type(module).__name__
    if input_size is not None:
        shapes = _torch_output_shapes(tmodel, torch.rand(input_size))
        for row in s.rows:
            assert row.output_shape == shapes[row.path], row.path


def test_course_mlp_matches_torch_and_the_lecture():
    s = summary(_course_mlp(deepgrad), input_size=(64, 1, 28, 28))
    _check_against_torch(s, _course_mlp(torch), (64, 1, 28, 28))
    # seed 003: 784 x 512 + 512 x 256 + 256 x 10 weights, plus one bias per neuron
    assert s.weight_params == 784 * 512 + 512 * 256 + 256 * 10 == 535_040
    assert s.total_params == 535_040 + 512 + 256 + 10 == 535_818
    assert s.output_shape == (64, 10)
    text = str(s)
    assert "Total params: 535,818" in text and "weights 535,040" in text
    assert "[64, 512]" in text and "401,920" in text
    assert deepgrad.summary is summary  # the top-level name


def test_without_input_no_shapes():
    s = summary(_course_mlp(deepgrad))
    assert all(r.output_shape is None for r in s.rows) and s.output_bytes is None
    assert "Output shape" not in str(s)
    _check_against_torch(s, _course_mlp(torch))


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.Tanh())
            self.head = lib.nn.Linear(5, 6)
            self.tied = lib.nn.Linear(5, 6)
            self.tied.weight = self.head.weight  # shared: counted once

        def forward(self, x):
            h = self.encoder(x)
            return self.head(h) + self.tied(h)

    return Net()


def test_nested_modules_frozen_and_shared_parameters():
    model, tmodel = _net(deepgrad), _net(torch)
    for m in (model, tmodel):
        m.encoder[0].bias.requires_grad_(False)
    s = summary(model, input_size=(3, 6))
    _check_against_torch(s, tmodel, (3, 6))
    assert s.non_trainable_params == 5
    assert s["encoder.0"].trainable == "partial" and s["encoder.0"].depth == 1
    assert s["encoder"].params == 0 and "--" in str(s)
    assert s["tied"].params == 6  # only its own bias: the weight was counted under head


def test_several_inputs_and_calls_counted():
    class TwoInputs(deepgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, a, b):
            return self.fc(a) - self.fc(b)

    s = summary(TwoInputs(), input_size=[(3, 4), (3, 4)])
    assert s["fc"].output_shape == (3, 2) and s["fc"].calls == 2
    assert s.output_shape == (3, 2) and "×2" in str(s)
    assert s.output_bytes == 2 * 3 * 2 * 4  # two float32 outputs of fc


def test_leaves_the_model_and_the_random_state_alone():
    model = _course_mlp(deepgrad)
    model[1].weight.requires_grad_(True)
    deepgrad.manual_seed(7)
    expected = deepgrad.rand(3)
    deepgrad.manual_seed(7)
    summary(model, input_size=(2, 784))
    assert (deepgrad.rand(3) == expected).all()
    assert model.training and all(m.training for m in model.modules())


def test_float64_parameters_and_a_single_layer():
    s = summary(nn.Linear(3, 2).double(), input_size=(5, 3), dtype=deepgrad.float64)
    assert [r.path for r in s.rows] == [""] and s.rows[0].output_shape == (5, 2)
    assert s.param_bytes == 8 * 8 and "float64" in str(s)


@pytest.mark.skipif(not hasattr(nn, "Conv2d"), reason="nn.Conv2d not available yet")
def test_small_cnn_matches_torch():
    def cnn(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 8, 3, padding=1),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Conv2d(8, 16, 3),
            lib.nn.ReLU(),
            lib.nn.Flatten(),
            lib.nn.Linear(16 * 12 * 12, 10),
        )

    s = summary(cnn(deepgrad), input_size=(2, 1, 28, 28))
    _check_against_torch(s, cnn(torch), (2, 1, 28, 28))


def test_rejects_non_modules():
    with pytest.raises(TypeError, match="nn.Module"):
        summary(deepgrad.zeros(3))
