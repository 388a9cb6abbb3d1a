"""The pieces of a ``deepgrad train`` run: settings, input normalisation, the L1 penalty and the
image resizing of ``deepgrad predict``. Oracles: PyTorch and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import models, nn
from deepgrad.data.images import resize_image
from deepgrad.train import run
from deepgrad.train.run import Data, L1Penalty, fit_normalization, normalize, resolve_config


def test_l1_penalty_value_and_gradient_match_torch():
    model = models.mlp(3, (4,), 2)
    ref = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    model.load_state_dict(ref.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    y = np.array([0, 1, 1, 0, 1])
    loss = L1Penalty(nn.CrossEntropyLoss(), model, 0.1)(model(deepgrad.tensor(x)),
                                                         deepgrad.tensor(y))  # fmt: skip
    loss.backward()
    out = ref(torch.from_numpy(x))
    # biases are not penalised
    penalty = sum(p.abs().sum() for n, p in ref.named_parameters() if n.endswith("weight"))
    expected = torch.nn.functional.cross_entropy(out, torch.from_numpy(y)) + 0.1 * penalty
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad._data, q.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    with deepgrad.no_grad():  # evaluation reports the data loss only
        plain = L1Penalty(nn.CrossEntropyLoss(), model, 0.1)(model(deepgrad.tensor(x)),
                                                             deepgrad.tensor(y))  # fmt: skip
    assert plain.item() == pytest.approx(
        torch.nn.functional.cross_entropy(out, torch.from_numpy(y)).item(), rel=1e-6
    )


def test_normalization_images_use_one_scalar_tables_one_per_feature():
    rng = np.random.default_rng(0)
    imgs = rng.random((20, 1, 4, 4)).astype(np.float32)
    d = Data("x", "images", deepgrad.tensor(imgs), None, None, None, ["a"])
    norm = fit_normalization(d)
    assert norm["mean"] == pytest.approx(float(imgs.astype(np.float64).mean()))
    assert norm["std"] == pytest.approx(float(imgs.astype(np.float64).std()))
    table = rng.normal(3, 2, size=(50, 3)).astype(np.float32)
    table[:, 2] = 7.0  # a constant feature keeps std 1 instead of dividing by 0
    d = Data("t", "table", deepgrad.tensor(table), None, None, None, ["a"])
    norm = fit_normalization(d)
    z = normalize(deepgrad.tensor(table), norm)._data
    assert z.dtype == np.float32
    np.testing.assert_allclose(z[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(0), 1, atol=1e-5)
    np.testing.assert_array_equal(z[:, 2], 0)


def test_resolve_config_defaults_and_overrides():
    c = resolve_config({"model": "mlp", "dataset": "fashion-mnist", "lr": None, "epochs": 2})
    assert c["epochs"] == 2 and c["hidden"] == [512, 256] and c["lr"] == 1e-3
    c = resolve_config({"model": "softmax", "dataset": "fashion-mnist", "optimizer": "momentum"})
    assert c["momentum"] == 0.9
    c = resolve_config({"model": "mlp", "dataset": "iris", "optimizer": "sgd"})
    assert c["momentum"] == 0.0
    with pytest.raises(run.RunError, match="needs images"):
        resolve_config({"model": "lenet5", "dataset": "xor"})
    with pytest.raises(run.RunError, match="unknown dataset"):
        resolve_config({"model": "mlp", "dataset": "cifar10"})


def test_resize_averages_blocks_and_repeats_pixels():
    img = np.random.default_rng(0).random((56, 84))
    np.testing.assert_allclose(
        resize_image(img, 28, 28), img.reshape(28, 2, 28, 3).mean(axis=(1, 3))
    )
    small = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(
        resize_image(small, 4, 6), np.repeat(np.repeat(small, 2, 0), 2, 1)
    )
    assert resize_image(img, 56, 84) is img
