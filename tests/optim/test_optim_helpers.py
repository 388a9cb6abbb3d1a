"""Shared model for the optimiser tests: a 2-layer MLP on raw tensors, run in deepgrad and torch.

loss = mean((tanh(X @ W1 + b1) @ W2 + b2 - Y)^2), with the initial weights drawn by PyTorch and
copied into deepgrad, so both frameworks start from the same point.
"""

from __future__ import annotations

import numpy as np
import torch

import deepgrad

N, D_IN, D_HID, D_OUT = 16, 3, 8, 2


def torch_init(dtype=torch.float64, seed=0):
    """Initial weights (W1, b1, W2, b2) and data (X, Y), drawn by PyTorch."""
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(D_IN, D_HID, generator=g, dtype=dtype) * 0.5
    b1 = torch.randn(D_HID, generator=g, dtype=dtype) * 0.1
    W2 = torch.randn(D_HID, D_OUT, generator=g, dtype=dtype) * 0.5
    b2 = torch.randn(D_OUT, generator=g, dtype=dtype) * 0.1
    X = torch.randn(N, D_IN, generator=g, dtype=dtype)
    Y = torch.randn(N, D_OUT, generator=g, dtype=dtype)
    return [W1, b1, W2, b2], (X, Y)


class Pair:
    """The same parameters and data in both frameworks (deepgrad copies of torch's arrays)."""

    def __init__(self, dtype=torch.float64, seed=0, extra_unused=True):
        weights, (X, Y) = torch_init(dtype, seed)
        self.tp = [w.clone().requires_grad_(True) for w in weights]
        self.dp = [deepgrad.tensor(w.numpy().copy(), requires_grad=True) for w in weights]
        if extra_unused:  # in the optimiser but never in the loss: its grad stays None
            self.tp.append(torch.ones(3, dtype=dtype, requires_grad=True))
            self.dp.append(deepgrad.ones(3, dtype=self.dp[0].dtype, requires_grad=True))
        self.tX, self.tY = X, Y
        self.dX, self.dY = deepgrad.tensor(X.numpy()), deepgrad.tensor(Y.numpy())

    @staticmethod
    def _loss(mod, params, X, Y):
        W1, b1, W2, b2 = params[:4]
        h = mod.tanh(X @ W1 + b1)
        return ((h @ W2 + b2 - Y) ** 2).mean()

    def torch_loss(self):
        return self._loss(torch, self.tp, self.tX, self.tY)

    def deepgrad_loss(self):
        return self._loss(deepgrad, self.dp, self.dX, self.dY)


def train(opt, loss_fn, steps, scheduler=None, closure=False):
    """``steps`` of zero_grad / forward / backward / step; returns the losses."""
    losses = []
    for _ in range(steps):
        if closure:

            def c():
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss

            losses.append(opt.step(c).item())
        else:
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if scheduler is not None:
            scheduler.step()
    return losses


def assert_params_close(dparams, tparams, rtol=1e-6, atol=1e-8):
    for i, (d, t) in enumerate(zip(dparams, tparams)):
        assert d._data.dtype == t.detach().numpy().dtype, f"param {i}: dtype {d._data.dtype}"
        np.testing.assert_allclose(
            d._data, t.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"param {i}"
        )
