"""autograd.grad has no side effects; backward(inputs=...) accumulates only into its inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad

RNG = np.random.default_rng(7)
XA, YA, ZA = (RNG.standard_normal((3, 2)) for _ in range(3))


def _leaves(lib):
    return [lib.tensor(a, requires_grad=True) for a in (XA, YA, ZA)]


def _f(x, y, z):
    h = (x * y).tanh()
    return (h * h + x).sum(), h


def test_grad_returns_gradients_and_touches_no_grad():
    x, y, z = _leaves(deepgrad)
    tx, ty, tz = _leaves(torch)
    y.grad = deepgrad.ones(3, 2)  # an existing .grad must stay as it is
    out, h = _f(x, y, z)
    tout, th = _f(tx, ty, tz)
    (gx,) = deepgrad.autograd.grad(out, x, retain_graph=True)
    (tgx,) = torch.autograd.grad(tout, tx, retain_graph=True)
    np.testing.assert_allclose(gx._data, tgx.numpy(), rtol=1e-12)
    assert x.grad is None and z.grad is None and h.grad is None
    np.testing.assert_array_equal(y.grad._data, np.ones((3, 2)))
    # a non-leaf input, then several inputs at once
    gh, gy = deepgrad.autograd.grad(out, [h, y])
    tgh, tgy = torch.autograd.grad(tout, [th, ty])
    np.testing.assert_allclose(gh._data, tgh.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy._data, tgy.numpy(), rtol=1e-12)
    assert x.grad is None and h.grad is None
    np.testing.assert_array_equal(y.grad._data, np.ones((3, 2)))


def test_grad_unused_inputs_and_grad_outputs():
    x, y, z = _leaves(deepgrad)
    out = x * y
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        deepgrad.autograd.grad(out.sum(), [x, z], retain_graph=True)
    gx, gz = deepgrad.autograd.grad(out.sum(), [x, z], allow_unused=True, retain_graph=True)
    assert gz is None
    _, gz = deepgrad.autograd.grad(out.sum(), [x, z], materialize_grads=True, retain_graph=True)
    np.testing.assert_array_equal(gz._data, np.zeros((3, 2)))
    w = RNG.standard_normal((3, 2))
    (gx,) = deepgrad.autograd.grad(out, x, grad_outputs=deepgrad.tensor(w))
    tx, ty = torch.tensor(XA, requires_grad=True), torch.tensor(YA)
    (tgx,) = torch.autograd.grad(tx * ty, tx, grad_outputs=torch.tensor(w))
    np.testing.assert_allclose(gx._data, tgx.numpy(), rtol=1e-12)
    assert x.grad is None and y.grad is None


def test_grad_sums_over_several_outputs_like_torch():
    x, _, _ = _leaves(deepgrad)
    tx, _, _ = _leaves(torch)
    a, b = x.sin(), x.exp()
    ta, tb = tx.sin(), tx.exp()
    (g,) = deepgrad.autograd.grad([a.sum(), (a * b).sum()], x)
    (tg,) = torch.autograd.grad([ta.sum(), (ta * tb).sum()], tx)
    np.testing.assert_allclose(g._data, tg.numpy(), rtol=1e-12)


def test_backward_inputs_accumulates_only_into_inputs():
    x, y, z = _leaves(deepgrad)
    tx, ty, tz = _leaves(torch)
    for inputs in ([0], [0, 1]):
        out, h = _f(x, y, z)
        tout, th = _f(tx, ty, tz)
        out.backward(inputs=[(x, y, z)[i] for i in inputs])
        tout.backward(inputs=[(tx, ty, tz)[i] for i in inputs])
        for d, t in ((x, tx), (y, ty), (z, tz), (h, th)):
            assert (d.grad is None) == (t.grad is None)
            if t.grad is not None:
                np.testing.assert_allclose(d.grad._data, t.grad.numpy(), rtol=1e-12)


def test_backward_inputs_can_name_a_non_leaf():
    x, y, _ = _leaves(deepgrad)
    tx, ty, _ = _leaves(torch)
    h, th = x * 2, tx * 2
    (h * y).sum().backward(inputs=[h])
    (th * ty).sum().backward(inputs=[th])
    np.testing.assert_allclose(h.grad._data, th.grad.numpy())
    assert x.grad is None and tx.grad is None


def test_grad_skips_branches_that_lead_to_no_input():
    calls = []
    for lib in (deepgrad, torch):

        class Loud(lib.autograd.Function):
            @staticmethod
            def forward(ctx, y):
                return y * 3

            @staticmethod
            def backward(ctx, g):
                calls.append("backward ran")
                return g * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        out = (x * 2 + Loud.apply(y)).sum()
        (gx,) = lib.autograd.grad(out, x)
        np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
        assert y.grad is None
    assert calls == []  # neither library runs the branch through y
