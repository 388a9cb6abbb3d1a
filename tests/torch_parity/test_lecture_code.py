"""Lecture-style code written for PyTorch runs unchanged with ``import deepgrad as torch``.

Each program is written once as a function of the module it imports, run with both libraries
from the same data and initial weights, and must give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch

import deepgrad


def linear_regression_from_scratch(torch, X, y, w0, b0, lr=0.03, batch_size=10, epochs=3):
    """d2l's linear regression 'from scratch' (seed 000's companion code)."""
    features, labels = torch.tensor(X), torch.tensor(y)
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)

    def linreg(X, w, b):
        return torch.matmul(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    losses = []
    for _ in range(epochs):
        for i in range(0, len(features), batch_size):
            Xb, yb = features[i : i + batch_size], labels[i : i + batch_size]
            loss = squared_loss(linreg(Xb, w, b), yb)
            loss.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            losses.append(float(squared_loss(linreg(features, w, b), labels).mean()))
    return losses, w.detach().numpy().copy(), b.detach().numpy().copy()


def softmax_regression_from_scratch(torch, X, y, W0, b0, lr=0.1, batch_size=32, epochs=2):
    """d2l's softmax regression 'from scratch' with the course's cross-entropy idiom."""
    features, labels = torch.tensor(X), torch.tensor(y)
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)

    def softmax(X):
        X_exp = torch.exp(X)
        partition = X_exp.sum(1, keepdim=True)
        return X_exp / partition

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    def accuracy(y_hat, y):
        return float(y_hat.argmax(1).eq(y).float().sum())

    history = []
    for _ in range(epochs):
        for i in range(0, len(features), batch_size):
            Xb, yb = features[i : i + batch_size], labels[i : i + batch_size]
            l = cross_entropy(net(Xb), yb)
            l.mean().backward()
            with torch.no_grad():
                for p in (W, b):
                    p -= lr * p.grad
                    p.grad.zero_()
        with torch.no_grad():
            y_hat = net(features)
            history.append((float(cross_entropy(y_hat, labels).mean()), accuracy(y_hat, labels)))
    return history, W.detach().numpy().copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_regression_from_scratch_matches_torch(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 2)).astype(dtype)
    y = (X @ np.array([2.0, -3.4]) + 4.2 + rng.normal(0, 0.01, 1000)).astype(dtype).reshape(-1, 1)
    w0 = rng.normal(0, 0.01, (2, 1)).astype(dtype)
    b0 = np.zeros(1, dtype=dtype)
    ours = linear_regression_from_scratch(deepgrad, X, y, w0, b0)
    theirs = linear_regression_from_scratch(real_torch, X, y, w0, b0)
    tol = 1e-6 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tol, atol=1e-7)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=tol)
    assert ours[0][-1] < 1e-3  # it actually learned: w ~ (2, -3.4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_regression_from_scratch_matches_torch(dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((256, 12)).astype(dtype)
    y = (X[:, :3].argmax(1)).astype(np.int64)
    W0 = rng.normal(0, 0.01, (12, 3)).astype(dtype)
    b0 = np.zeros(3, dtype=dtype)
    ours = softmax_regression_from_scratch(deepgrad, X, y, W0, b0)
    theirs = softmax_regression_from_scratch(real_torch, X, y, W0, b0)
    tol = 1e-6 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(np.array(ours[0]), np.array(theirs[0]), rtol=tol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=tol, atol=1e-6)
