"""deepgrad.registry is the one list of names: every app offers exactly its names, and every
name works (activations and optimisers against PyTorch, models and data sets by training)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import cli, models, registry
from deepgrad.playground import export as playground_export
from deepgrad.playground import session, validation
from deepgrad.train import run

STATIC = Path(session.__file__).resolve().parent / "static"


def _choices(command: str, flag: str):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if flag in a.option_strings)
    return list(action.choices)


def _html_options(select_id: str) -> list[str]:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    block = re.search(rf'<select id="{select_id}">(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]+)"', block)


# ----------------------------------------------------------------------------- every app agrees
@pytest.mark.parametrize("command", ["train", "summary", "gradcheck"])
def test_cli_offers_the_registry_models_and_activations(command):
    assert _choices(command, "--model") == list(registry.MODELS)
    assert _choices(command, "--activation") == list(registry.ACTIVATIONS)


def test_cli_offers_the_registry_optimizers():
    assert _choices("train", "--optimizer") == list(registry.OPTIMIZERS)


def test_model_zoo_builds_exactly_the_registry_models():
    assert list(models.MODELS) == list(registry.MODELS)


def test_playground_offers_the_registry_names_in_checks_and_page():
    assert validation.CHOICES["activation"] == tuple(registry.ACTIVATIONS)
    assert validation.CHOICES["optimizer"] == tuple(registry.OPTIMIZERS)
    assert validation.CHOICES["dataset"] == registry.PLAYGROUND_DATASETS
    assert _html_options("activation") == list(registry.ACTIVATIONS)
    assert _html_options("optimizer") == list(registry.OPTIMIZERS)
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    names = re.search(r"const ACT_NAMES = \{(.*?)\};", script, re.S).group(1)
    assert re.findall(r"(\w+):", names) == list(registry.ACTIVATIONS)


def test_train_takes_what_deepgrad_datasets_lists(capsys):
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()[1:]
    listed = [line.split()[0] for line in table if line and not line.startswith(" ")]
    assert listed == list(registry.TRAIN_DATASETS)
    for name in listed:
        assert run.dataset_kind(name) in ("images", "points", "table")
    for name in registry.REGRESSION_DATASETS:  # playground only: train refuses them
        with pytest.raises(run.RunError, match="unknown dataset"):
            run.dataset_kind(name)


def test_image_models_are_refused_on_vectors():
    for name in registry.MODELS:
        given = {"model": name, "dataset": "xor"}
        if name in registry.IMAGE_MODELS:
            with pytest.raises(run.RunError, match="needs images"):
                run.resolve_config(given)
        else:
            run.resolve_config(given)


# ----------------------------------------------------------------------------- every name works
@pytest.mark.parametrize("name", list(registry.ACTIVATIONS))
def test_activation_matches_pytorch(name):
    x = np.linspace(-4, 4, 41, dtype=np.float64).reshape(1, -1)
    ours = registry.activation_layer(name)(deepgrad.tensor(x)).numpy()
    theirs = getattr(torch.nn, registry.ACTIVATIONS[name])()(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(registry.OPTIMIZERS))
def test_optimizer_steps_like_pytorch(name):
    # Three steps of the registry's optimiser against torch's class with the same defaults.
    w0 = np.random.default_rng(0).standard_normal((3, 2))
    ours = deepgrad.tensor(w0.copy(), requires_grad=True)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    cls, defaults = registry.OPTIMIZERS[name]
    opt = registry.build_optimizer(name, [ours], lr=0.05, weight_decay=0.01)
    topt = getattr(torch.optim, cls)([theirs], lr=0.05, weight_decay=0.01, **defaults)
    for _ in range(3):
        for w, o in ((ours, opt), (theirs, topt)):
            o.zero_grad()
            (w * w * w).sum().backward()
            o.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


def test_momentum_reaches_only_the_optimizers_that_take_it():
    assert registry.optimizer_kwargs("adam", momentum=0.5) == {}
    assert registry.optimizer_kwargs("momentum") == {"momentum": 0.9}
    assert registry.optimizer_kwargs("sgd", momentum=0.5, weight_decay=None) == {"momentum": 0.5}
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        registry.optimizer_kwargs("lion")


@pytest.mark.parametrize("name", list(registry.OPTIMIZERS))
def test_playground_export_writes_the_registry_optimizer_for_torch(name):
    code = playground_export._optimizer_code(name)
    model = torch.nn.Linear(2, 1)
    opt = eval(code, {"optim": torch.optim, "model": model, "LR": 0.1})  # noqa: S307
    cls, defaults = registry.OPTIMIZERS[name]
    assert type(opt) is getattr(torch.optim, cls)
    for key, value in defaults.items():
        assert opt.param_groups[0][key] == value


def _one_step(config) -> tuple[float, float]:
    """Loss before and after one optimiser step on the first batch of a prepared run."""
    data, model, loss_fn, opt = run.prepare(config)
    x, y = data.x_train[:32], run.targets(config, data.y_train[:32])
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[1]


@pytest.mark.parametrize(
    "dataset", [d for d in registry.TRAIN_DATASETS if d not in registry.IMAGE_DATASETS]
)
def test_every_vector_dataset_trains(dataset):
    config = run.resolve_config({"model": "mlp", "dataset": dataset, "samples": 200})
    first, second = _one_step(config)
    assert np.isfinite(first) and second < first


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_every_model_builds_for_its_data(name):
    image = name in registry.IMAGE_MODELS
    dataset = "fashion-mnist" if image else "xor"
    config = run.resolve_config({"model": name, "dataset": dataset})
    shape = (1, 28, 28) if image else (2,)
    model = run.build_model(config, shape, 2)
    out = model(deepgrad.randn(4, *shape))
    assert tuple(out.shape) == ((4, 1) if name == "logistic" else (4, 2))


@pytest.mark.parametrize("optimizer", list(registry.OPTIMIZERS))
@pytest.mark.parametrize("activation", ["linear", "gelu"])
def test_runner_trains_with_every_optimizer(optimizer, activation):
    config = run.resolve_config(
        {"model": "mlp", "dataset": "gauss", "samples": 200, "optimizer": optimizer,
         "activation": activation, "lr": 0.01}
    )  # fmt: skip
    first, second = _one_step(config)
    assert second < first


@pytest.mark.parametrize("name", list(registry.ACTIVATIONS))
def test_playground_session_builds_every_activation(name):
    config = validation.validate_update({"activation": name, "optimizer": "adamax"})
    net = session.build_model(2, config.hidden, config.activation, 1)
    opt = session.build_optimizer(config.optimizer, net.parameters(), config.lr)
    assert type(opt).__name__ == "Adamax"
    assert type(net[1]).__name__ == registry.ACTIVATIONS[name]
