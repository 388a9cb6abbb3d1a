"""The course's models, written as in the lectures, run unchanged on deepgrad and give PyTorch's
numbers.

The ``MyTwoLayerMLP`` source is seed 004 verbatim; it is executed once with
``import deepgrad as torch; from deepgrad import nn`` and once with the real PyTorch, the
weights are copied across, and a few steps of the lectures' manual gradient descent
(theta <- theta - alpha grad) must give the same losses.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch

import deepgrad
from conftest import assert_close

# seed 004, "MLP neural network model for ... - PyTorch" (k = number of outputs)
LECTURE_CLASS = """
class MyTwoLayerMLP(nn.Module):
    def __init__(self, input_dim, h_dim):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(input_dim, h_dim),
            nn.ReLU(),
            nn.Linear(h_dim, {out}){extra}
    )
    def forward(self, x):
        return self.layers(x)
"""

# the lectures' gradient descent, written against whichever `torch` is in scope
TRAINING = """
model = MyTwoLayerMLP(input_dim, h_dim)
model.load_state_dict(weights)
losses = []
for step in range(steps):
    loss = loss_fn(model(X), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for theta in model.parameters():
            theta -= alpha * theta.grad
    losses.append(loss.item())
"""

CASES = {
    "regression": ("1", "", "nn.MSELoss()"),
    "regression_k": ("k", "", "nn.MSELoss()"),
    "binary": ("1", ",\n            nn.Sigmoid()", "nn.BCELoss()"),
    "multiclass": ("k", "", "nn.CrossEntropyLoss()"),
}


def _targets(case, n, k, rng):
    if case == "regression":
        return rng.standard_normal((n, 1)).astype(np.float32)
    if case == "regression_k":
        return rng.standard_normal((n, k)).astype(np.float32)
    if case == "binary":
        return (rng.random((n, 1)) > 0.5).astype(np.float32)
    return rng.integers(0, k, n)


def _run(torch_module, case, X, y, weights):
    out, extra, loss = CASES[case]
    source = LECTURE_CLASS.format(out=out, extra=extra)
    namespace = {"torch": torch_module, "nn": torch_module.nn, "k": 3}
    exec(source, namespace)  # the lecture code, unchanged
    namespace["loss_fn"] = eval(loss, namespace)
    namespace.update(
        X=torch_module.tensor(X), y=torch_module.tensor(y), weights=weights, input_dim=X.shape[1],
        h_dim=16, steps=5, alpha=0.1,
    )  # fmt: skip
    exec(TRAINING, namespace)
    return namespace["losses"], namespace["model"]


@pytest.mark.parametrize("case", list(CASES))
def test_lecture_mlp_trains_like_torch(case):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 5)).astype(np.float32)
    y = _targets(case, 32, 3, rng)
    # build torch's model first to take its (random) initial weights
    out, extra, _ = CASES[case]
    ns = {"nn": real_torch.nn, "k": 3}
    exec(LECTURE_CLASS.format(out=out, extra=extra), ns)
    weights = ns["MyTwoLayerMLP"](5, 16).state_dict()
    theirs, their_model = _run(real_torch, case, X, y, weights)
    ours, our_model = _run(deepgrad, case, X, y, weights)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert theirs[-1] < theirs[0]  # it did learn: the comparison is not of constants
    for p, q in zip(our_model.parameters(), their_model.parameters()):
        assert_close(p, q.detach(), rtol=1e-5, atol=1e-6)
    assert repr(our_model) == repr(their_model)


def test_lecture_logistic_regression_snippets():
    # seed 004: z = torch.nn.Linear(X.shape[1], 1)(X); h = torch.nn.functional.sigmoid(z);
    # loss = torch.nn.BCELoss()(h, y)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 3)).astype(np.float32)
    y = (rng.random((10, 1)) > 0.5).astype(np.float32)
    lin_t = real_torch.nn.Linear(X.shape[1], 1)
    results = []
    for torch in (real_torch, deepgrad):
        lin = torch.nn.Linear(X.shape[1], 1)
        lin.load_state_dict(lin_t.state_dict())
        z = lin(torch.tensor(X))
        h = torch.nn.functional.sigmoid(z)
        loss = torch.nn.BCELoss()(h, torch.tensor(y))
        results.append(loss.item())
    assert np.isclose(results[0], results[1], rtol=1e-6)


def test_seed_003_mnist_mlp_has_535818_parameters():
    # seed 003: 784 inputs, 512 and 256 hidden units, 10 outputs, ReLU between layers;
    # the lecture counts 784*512 + 512*256 + 256*10 = 535040 weights, plus 778 biases
    for torch in (deepgrad, real_torch):
        nn = torch.nn
        model = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )
        assert sum(p.numel() for p in model.parameters()) == 535818
        assert (
            sum(p.numel() for p in model.parameters() if p.ndim > 1)
            == 784 * 512 + 512 * 256 + 256 * 10
        )
    ours = deepgrad.nn.Sequential(
        deepgrad.nn.Flatten(),
        deepgrad.nn.Linear(784, 512),
        deepgrad.nn.ReLU(),
        deepgrad.nn.Linear(512, 256),
        deepgrad.nn.ReLU(),
        deepgrad.nn.Linear(256, 10),
    )
    images = deepgrad.rand(4, 1, 28, 28)
    assert ours(images).shape == (4, 10)
    probs = deepgrad.nn.functional.softmax(ours(images), dim=1)  # "softmax at the final layer"
    np.testing.assert_allclose(probs.sum(1)._data, 1, rtol=1e-5)


def test_seed_003_mlp_training_steps_match_torch():
    rng = np.random.default_rng(2)
    X = rng.random((16, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 16)
    losses = {}
    theirs = None
    for torch in (real_torch, deepgrad):
        nn = torch.nn
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
            nn.Linear(256, 10),
        )  # fmt: skip
        if theirs is None:  # a copy: torch's state_dict shares storage with the model
            theirs = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict(theirs)
        loss_fn = nn.CrossEntropyLoss()
        out = []
        for _ in range(3):
            loss = loss_fn(model(torch.tensor(X)), torch.tensor(y))
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.05 * p.grad
            out.append(loss.item())
        losses[torch.__name__] = out
    np.testing.assert_allclose(losses["deepgrad"], losses["torch"], rtol=1e-5)
