"""deepgrad.autograd.Function (PyTorch's custom-function API) and torch-named grad_fn nodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn.functional as dF


def _make(lib):
    """The same custom functions written against ``lib`` (torch or deepgrad)."""

    class LinearFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output = output + bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class ScaledCube(lib.autograd.Function):  # a non-tensor argument gets a None gradient
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            ctx.save_for_backward(x)
            return scale * x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * ctx.scale * x**2, None

    class MaxWithIndex(lib.autograd.Function):  # two outputs, one not differentiable
        @staticmethod
        def forward(ctx, x):
            values, idx = x.max(dim=1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return values, idx

        @staticmethod
        def backward(ctx, g_values, g_idx):
            x, idx = ctx.saved_tensors
            mask = lib.arange(x.shape[1]).unsqueeze(0) == idx.unsqueeze(1)
            return g_values.unsqueeze(1) * mask.to(x.dtype)

    class SinCos(lib.autograd.Function):  # two differentiable outputs
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    return LinearFunction, ScaledCube, MaxWithIndex, SinCos


DG, TH = _make(deepgrad), _make(torch)
RNG = np.random.default_rng(11)


def _pair(*shape):
    a = RNG.standard_normal(shape)
    return deepgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(d, t):
    np.testing.assert_allclose(d._data, t.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_function_from_the_docs_matches_torch(with_bias):
    (xd, xt), (wd, wt), (bd, bt) = _pair(4, 3), _pair(2, 3), _pair(2)
    out_d = DG[0].apply(xd, wd, bd if with_bias else None)
    out_t = TH[0].apply(xt, wt, bt if with_bias else None)
    _close(out_d, out_t)
    g = RNG.standard_normal((4, 2))
    out_d.backward(deepgrad.tensor(g))
    out_t.backward(torch.tensor(g))
    for d, t in ((xd, xt), (wd, wt)) + (((bd, bt),) if with_bias else ()):
        _close(d.grad, t.grad)
    assert out_d.grad_fn.name() == "LinearFunctionBackward" == out_t.grad_fn.name()
    assert deepgrad.autograd.gradcheck(DG[0].apply, (xd, wd, bd))


def test_needs_input_grad_and_non_tensor_arguments():
    xd, xt = _pair(5)
    out_d, out_t = DG[1].apply(xd, 2.5), TH[1].apply(xt, 2.5)
    _close(out_d, out_t)
    out_d.sum().backward()
    out_t.sum().backward()
    _close(xd.grad, xt.grad)
    seen = {}

    class Probe(deepgrad.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    Probe.apply(deepgrad.ones(2, requires_grad=True), deepgrad.ones(2), 3).sum().backward()
    assert seen["needs"] == (True, False, False)


def test_mark_non_differentiable_and_multiple_outputs():
    xd, xt = _pair(3, 4)
    vd, id_ = DG[2].apply(xd)
    vt, it = TH[2].apply(xt)
    _close(vd, vt)
    assert not id_.requires_grad and not it.requires_grad and vd.requires_grad
    vd.sum().backward()
    vt.sum().backward()
    _close(xd.grad, xt.grad)

    xd, xt = _pair(6)
    sd, cd = DG[3].apply(xd)
    st, ct = TH[3].apply(xt)
    (2 * sd + 3 * cd).sum().backward()
    (2 * st + 3 * ct).sum().backward()
    _close(xd.grad, xt.grad)
    assert deepgrad.autograd.gradcheck(lambda x: DG[3].apply(x)[0] * DG[3].apply(x)[1], (xd,))


def test_function_is_not_instantiated_and_backward_is_required():
    class NoBackward(deepgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    y = NoBackward.apply(deepgrad.ones(2, requires_grad=True))
    with pytest.raises(NotImplementedError, match="backward"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="apply"):
        NoBackward()


def test_forward_runs_without_recording_and_saved_tensors_are_freed():
    class Square(deepgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            assert y.grad_fn is None  # forward runs under no_grad, as in PyTorch
            ctx.save_for_backward(x)
            return y

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad._data, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time|freed"):
        y.backward()


# the same expression in both libraries; grad_fn.name() must agree
NAMED = [
    "x + 1", "x - 1", "x * 2", "x / 2", "-x", "x ** 2", "x ** x", "x.exp()", "x.log()",
    "x.sqrt()", "x.abs()", "x.sin()", "x.cos()", "x.tanh()", "x.sigmoid()", "x.relu()",
    "x.clamp(0, 1)", "lib.maximum(x, x)", "lib.where(x > 0, x, x)", "x.float()", "x.sum()",
    "x.sum(0)", "x.mean()", "x.mean(0)", "x.var(0)", "x.max()", "x.max(0)[0]", "x.amax(0)",
    "x.logsumexp(0)", "x.softmax(0)", "x.log_softmax(0)", "x.cumsum(0)", "x.cumprod(0)",
    "x.prod()", "x.prod(0)", "x.sinh()", "x.cosh()", "x.reshape(12)", "x.permute(1, 0)",
    "x[0]", "x[:2]", "x[[0, 1]]", "lib.cat([x, x])", "lib.stack([x, x])", "x @ w", "x @ v",
    "v @ v", "F.mse_loss(x, x.detach())", "F.cross_entropy(x, lib.tensor([0, 1, 2]))",
]  # fmt: skip


@pytest.mark.parametrize("expr", NAMED)
def test_grad_fn_names_match_torch(expr):
    names = []
    for lib, F in ((deepgrad, dF), (torch, torch.nn.functional)):
        x = lib.tensor(RNG.random((3, 4)) + 0.5, requires_grad=True)
        w = lib.tensor(RNG.random((4, 5)), requires_grad=True)
        v = lib.tensor(RNG.random(4), requires_grad=True)
        names.append(eval(expr, {"lib": lib, "F": F, "x": x, "w": w, "v": v}).grad_fn.name())
    assert names[0] == names[1]


def _structure(node, lib_leaves):
    """next_functions as nested (name, children) with leaves named by position."""
    if node is None:
        return None
    if not hasattr(node, "next_functions") or node.name().endswith("AccumulateGrad"):
        var = node.variable
        return ("leaf", next(i for i, t in enumerate(lib_leaves) if t is var))
    return (node.name(), tuple(_structure(n, lib_leaves) for n, k in node.next_functions))


def test_next_functions_match_torch():
    shapes = []
    for lib in (deepgrad, torch):
        a = lib.tensor(RNG.random((2, 3)), requires_grad=True)
        b = lib.tensor(RNG.random(3), requires_grad=True)
        c = lib.tensor(RNG.random(3))  # no grad: (None, 0)
        out = ((a * c + b).exp() * 2).sum()
        assert all(k == 0 for _, k in out.grad_fn.next_functions)
        shapes.append(_structure(out.grad_fn, [a, b]))
    assert shapes[0] == shapes[1]
    assert "<MulBackward0 object at" in repr((deepgrad.ones(2, requires_grad=True) * 2).grad_fn)


def test_setup_context_style_matches_torch():
    grads = []
    for lib in (deepgrad, torch):

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x**3 * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.save_for_backward(x)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x**2 * ctx.k * g, None

        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        Cube.apply(x, 2.0).sum().backward()
        grads.append(x.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1])
