"""Tensor behaviour: the course's worked examples, PyTorch's dtype rules and repr, the engine's
guarantees (accumulation, retain_graph, no_grad, deep graphs) and errors that speak."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
import torch

import deepgrad
from conftest import assert_close, to_torch

# ---------------------------------------------------------------- worked examples from the course


def test_seed002_add_mul_graph():
    """f = (x + y) z at x=-2, y=5, z=-4: df/dx = df/dy = z = -4, df/dz = x + y = 3."""
    x, y, z = (deepgrad.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_seed002_sigmoid_neuron():
    """w = (2, -3, -3), x = (-1, -2): dw ~ (-0.20, -0.39, 0.20), dx ~ (0.39, -0.59)."""
    w = deepgrad.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = deepgrad.tensor([-1.0, -2.0], requires_grad=True)
    f = 1 / (1 + deepgrad.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    f.backward()
    np.testing.assert_allclose(w.grad.numpy(), [-0.20, -0.39, 0.20], atol=0.006)
    np.testing.assert_allclose(x.grad.numpy(), [0.39, -0.59], atol=0.006)
    # the same neuron with the fused sigmoid gives the same gradients
    w2 = w.detach().requires_grad_()
    x2 = x.detach().requires_grad_()
    deepgrad.sigmoid(w2[:2] @ x2 + w2[2]).backward()
    assert_close(w2.grad, w.grad)
    assert_close(x2.grad, x.grad)


def test_seed001_softmax_example():
    out = deepgrad.softmax(deepgrad.tensor([2.6, 1.5, 0.2, 0.6]), dim=0)
    np.testing.assert_allclose(out.numpy(), [0.64, 0.21, 0.06, 0.09], atol=0.006)


def test_course_cross_entropy_indexing_idiom():
    """d2l's ``-log(y_hat[range(len(y_hat)), y])`` works and matches torch."""
    logits = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y = [0, 2, 1, 2, 2]
    y_hat = deepgrad.tensor(logits, requires_grad=True)
    loss = -deepgrad.log(
        deepgrad.softmax(y_hat, dim=1)[range(len(y_hat)), deepgrad.tensor(y)]
    ).mean()
    loss.backward()
    t = torch.tensor(logits, requires_grad=True)
    tl = -torch.log(torch.softmax(t, dim=1)[range(len(t)), torch.tensor(y)]).mean()
    tl.backward()
    assert_close(loss, tl)
    assert_close(y_hat.grad, t.grad)


def test_accuracy_idiom():
    y_hat = deepgrad.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    y = deepgrad.tensor([1, 0, 0])
    acc = (y_hat.argmax(1) == y).float().mean()
    assert acc.dtype == deepgrad.float32
    assert acc.item() == pytest.approx(2 / 3)


# ---------------------------------------------------------------- dtypes follow PyTorch


@pytest.mark.parametrize(
    "data",
    [
        1.5,
        3,
        True,
        [1.0, 2.0],
        [1, 2],
        [True, False],
        [[1, 2.5]],
        np.float64(2.0),
        np.array([1.0, 2.0]),
        np.array([1, 2], dtype=np.int32),
        np.array([1.0], dtype=np.float32),
    ],
)
def test_tensor_dtype_inference_matches_torch(data):
    assert (
        str(deepgrad.tensor(data).dtype).split(".")[1]
        == str(torch.tensor(data).dtype).split(".")[1]
    )


def _operand(kind):
    return {
        "f32": (lambda m: m.tensor([1.5, 2.0], dtype=m.float32)),
        "f64": (lambda m: m.tensor([1.5, 2.0], dtype=m.float64)),
        "i64": (lambda m: m.tensor([1, 2])),
        "i32": (lambda m: m.tensor([1, 2], dtype=m.int32)),
        "bool": (lambda m: m.tensor([True, False])),
        "f64_0d": (lambda m: m.tensor(2.0, dtype=m.float64)),
        "i64_0d": (lambda m: m.tensor(3)),
        "f32_0d": (lambda m: m.tensor(2.0)),
        "pyfloat": (lambda m: 2.5),
        "pyint": (lambda m: 3),
        "pybool": (lambda m: True),
    }[kind]


KINDS = [
    "f32",
    "f64",
    "i64",
    "i32",
    "bool",
    "f64_0d",
    "i64_0d",
    "f32_0d",
    "pyfloat",
    "pyint",
    "pybool",
]


@pytest.mark.parametrize("op", ["add", "mul", "sub", "truediv"])
@pytest.mark.parametrize(
    "a,b", [(a, b) for a, b in itertools.product(KINDS, KINDS) if not a.startswith("py")]
)
def test_type_promotion_matches_torch(op, a, b):
    fn = {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "sub": lambda x, y: x - y,
        "truediv": lambda x, y: x / y,
    }[op]
    try:
        expected = fn(_operand(a)(torch), _operand(b)(torch))
    except RuntimeError:  # torch refuses (bool subtraction): so must we
        with pytest.raises(RuntimeError):
            fn(_operand(a)(deepgrad), _operand(b)(deepgrad))
        return
    got = fn(_operand(a)(deepgrad), _operand(b)(deepgrad))
    assert got.dtype.name == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_float32_stays_float32_through_a_step():
    w = deepgrad.randn(3, 2, requires_grad=True)
    x = deepgrad.randn(4, 3)
    loss = ((x @ w).tanh() * 0.5 + 1).sigmoid().pow(2).mean() / 3.0
    loss.backward()
    assert loss.dtype == deepgrad.float32 and w.grad.dtype == deepgrad.float32


# ---------------------------------------------------------------- repr like PyTorch


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
        lambda m: m.tensor(3.0),
        lambda m: m.tensor([1e-5, 1e5]),
        lambda m: m.tensor([0.1234567, 100.0]),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor([1.5, 2.25], dtype=m.float64, requires_grad=True),
        lambda m: m.tensor([]),
        lambda m: m.tensor([1.0, float("nan"), float("inf")]),
        lambda m: m.tensor([[-1.5, 0.25, 73.125], [104.5, -75.75, -240.5]]),
    ],
)
def test_repr_matches_torch(make):
    assert repr(make(deepgrad)).replace("deepgrad.", "torch.") == repr(make(torch))


def test_repr_shows_grad_fn():
    x = deepgrad.tensor([1.0], requires_grad=True)
    assert "grad_fn=<MulBackward0>" in repr(x * 2)


# ---------------------------------------------------------------- Tensor API basics


def test_attributes_and_conversions():
    x = deepgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.T.shape == (3, 2) and x.t().shape == (3, 2)
    assert x.double().dtype == deepgrad.float64 and x.long().dtype == deepgrad.int64
    assert x.to(deepgrad.float64).dtype == deepgrad.float64 and x.float() is x
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert float(x[1, 2]) == 6.0 and int(x[0, 1]) == 2 and bool(x[0, 0])
    assert [r.tolist() for r in x] == x.tolist()
    assert x.sum().item() == 21.0
    assert f"{x.mean():.2f}" == "3.50"
    assert x.detach().requires_grad is False
    assert deepgrad.tensor([True, False]).float().tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="exactly one element"):
        x.item()


def test_numpy_shares_memory_and_from_numpy():
    a = np.zeros(3, dtype=np.float32)
    t = deepgrad.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    t.numpy()[1] = 7
    assert a[1] == 7
    assert deepgrad.tensor(a)._data is not a  # tensor() copies


def test_factories_match_torch_shapes_and_dtypes():
    for name, args in [
        ("zeros", (2, 3)),
        ("ones", ((2, 3),)),
        ("empty", (4,)),
        ("rand", (2, 2)),
        ("randn", (3,)),
        ("eye", (3,)),
    ]:
        got, exp = getattr(deepgrad, name)(*args), getattr(torch, name)(*args)
        assert got.shape == tuple(exp.shape) and got.dtype.name == str(exp.dtype)[6:], name
    assert_close(deepgrad.arange(5), torch.arange(5))
    assert_close(deepgrad.arange(0, 1, 0.25), torch.arange(0, 1, 0.25))
    assert_close(deepgrad.linspace(0, 1, 5), torch.linspace(0, 1, 5))
    assert_close(deepgrad.full((2,), 7), torch.full((2,), 7))
    assert_close(deepgrad.full((2,), 7.0), torch.full((2,), 7.0))
    x = deepgrad.zeros(2, 3, dtype=deepgrad.float64)
    for name in ["zeros_like", "ones_like", "rand_like", "randn_like"]:
        assert getattr(deepgrad, name)(x).shape == (2, 3)
        assert getattr(deepgrad, name)(x).dtype == deepgrad.float64
    assert deepgrad.randint(0, 10, (100,)).dtype == deepgrad.int64
    assert sorted(deepgrad.randperm(10).tolist()) == list(range(10))
    r = deepgrad.randint(3, 7, (1000,))
    assert r.min().item() >= 3 and r.max().item() <= 6
    n = deepgrad.normal(2.0, 3.0, size=(20000,))
    assert abs(n.mean().item() - 2.0) < 0.1 and abs(n.std().item() - 3.0) < 0.1
    u = deepgrad.rand(20000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.02


def test_manual_seed_makes_runs_reproducible():
    deepgrad.manual_seed(42)
    a = (deepgrad.rand(3), deepgrad.randn(2), deepgrad.randperm(5), deepgrad.randint(0, 9, (4,)))
    deepgrad.manual_seed(42)
    b = (deepgrad.rand(3), deepgrad.randn(2), deepgrad.randperm(5), deepgrad.randint(0, 9, (4,)))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    deepgrad.manual_seed(43)
    assert deepgrad.rand(3).tolist() != a[0].tolist()


def test_max_with_dim_returns_named_tuple_like_torch():
    data = np.array([[1.0, 5.0, 2.0], [7.0, 3.0, 7.0]], dtype=np.float32)
    got, exp = deepgrad.tensor(data).max(dim=1), torch.tensor(data).max(dim=1)
    values, indices = got
    assert_close(values, exp.values)
    assert_close(indices, exp.indices)
    assert_close(got.indices, exp.indices)
    assert_close(
        deepgrad.tensor(data).min(0, keepdim=True).values,
        torch.tensor(data).min(0, keepdim=True).values,
    )
    assert_close(deepgrad.tensor(data).argmax(), torch.tensor(data).argmax())
    assert_close(deepgrad.tensor(data).argmin(dim=-1), torch.tensor(data).argmin(dim=-1))


def test_max_ties_gradient_like_torch():
    data = np.array([[2.0, 2.0, 1.0], [0.0, 3.0, 3.0]])
    for fn in [
        lambda t: t.max(),
        lambda t: t.amax(1),
        lambda t: t.max(1).values,
        lambda t: t.amin(0),
    ]:
        x, t = deepgrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        fn(x).sum().backward()
        fn(t).sum().backward()
        assert_close(x.grad, t.grad)
    x, t = deepgrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, u = (
        deepgrad.tensor(data[::-1].copy(), requires_grad=True),
        torch.tensor(data[::-1].copy(), requires_grad=True),
    )
    deepgrad.maximum(x, y).sum().backward()
    torch.maximum(t, u).sum().backward()
    assert_close(x.grad, t.grad)
    assert_close(y.grad, u.grad)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.relu(),
        lambda t: t.abs(),
        lambda t: t.clamp(0.0, 1.0),
        lambda t: t.clamp(min=0.0),
        lambda t: t**0,
        lambda t: t.sqrt(),
    ],
)
def test_gradients_at_kinks_match_torch(fn):
    data = np.array([0.0, 1.0, -1.0, 2.0])
    x, t = deepgrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    fn(x).sum().backward()
    fn(t).sum().backward()
    assert_close(x.grad, t.grad)


def test_indexing_forms_match_torch():
    data = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    mask = data[0] > 5
    keys = [
        (lambda k: k[1]),
        (lambda k: k[:, 1:3]),
        (lambda k: k[..., -1]),
        (lambda k: k[None, 0]),
        (lambda k: k[0, [0, 2, 2]]),
        (lambda k: k[[1, 1, 0]]),
        (lambda k: k[range(2), [0, 2]]),
    ]
    for key in keys:
        x, t = deepgrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        (key(x) ** 2).sum().backward()
        (key(t) ** 2).sum().backward()
        assert_close(x.grad, t.grad)
    x, t = deepgrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    x[0][deepgrad.tensor(mask)].sum().backward()
    t[0][torch.tensor(mask)].sum().backward()
    assert_close(x.grad, t.grad)


def test_shape_methods_match_torch():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x, t = deepgrad.tensor(data), torch.tensor(data)
    for fn in [
        lambda a: a.view(6, 4),
        lambda a: a.reshape(-1),
        lambda a: a.flatten(1),
        lambda a: a.unsqueeze(0).squeeze(0),
        lambda a: a.permute(2, 0, 1),
        lambda a: a.transpose(0, 2),
        lambda a: a[:, :1].expand(2, 3, 4),
        lambda a: a.repeat(2, 1, 1),
        lambda a: a.split(2, dim=2)[1],
        lambda a: a.chunk(3, dim=1)[2],
        lambda a: a.unflatten(2, (2, 2)),
        lambda a: a.squeeze(),
    ]:
        assert_close(fn(x), fn(t))


def test_comparisons_return_bool_without_grad():
    x = deepgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in [x > 1, x >= 2, x < 3, x <= 1, x == 2, x != 2]:
        assert c.dtype == deepgrad.bool and not c.requires_grad
    assert (x > 1).tolist() == [False, True, True]


def test_inplace_updates_under_no_grad():
    w = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with deepgrad.no_grad():
        w -= 0.1 * w.grad
        w *= 2
        w += 1
    np.testing.assert_allclose(w.detach().numpy(), [2.6, 4.2], rtol=1e-6)
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    b = deepgrad.zeros(3)
    b.fill_(2.0).add_(deepgrad.ones(3), alpha=3).mul_(0.5)
    assert b.tolist() == [2.5, 2.5, 2.5]
    b.copy_(deepgrad.tensor([1.0, 2.0, 3.0]))
    assert b.tolist() == [1.0, 2.0, 3.0]
    b.uniform_(-1, 1)
    assert b.abs().max().item() <= 1
    b.normal_()
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1


def test_inplace_on_graph_tensor_is_out_of_place():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y += 1  # Python rebinds y to y + 1
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------- the engine


def test_gradients_accumulate_across_backward_calls():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]  # 2x + 3


def test_zero_dim_leaf_gradient_is_an_array_that_updates_in_place():
    w = deepgrad.tensor(0.5, dtype=deepgrad.float64, requires_grad=True)
    (w * 3.0).backward()
    assert type(w.grad._data) is np.ndarray
    w.grad.zero_()
    assert w.grad.item() == 0.0


def test_copy_gate_sums_gradients():
    x = deepgrad.tensor(3.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad.item() == 7.0


def test_shared_upstream_gradient_is_not_aliased():
    a = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    b = deepgrad.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(10)  # must not change b.grad
    assert b.grad.tolist() == [1.0, 1.0]


def test_retain_graph():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_no_grad_context_and_decorator_and_set_grad_enabled():
    x = deepgrad.tensor([1.0], requires_grad=True)
    with deepgrad.no_grad():
        assert not (x * 2).requires_grad
        with deepgrad.enable_grad():
            assert (x * 2).requires_grad

    @deepgrad.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert (x * 2).requires_grad
    with deepgrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert deepgrad.is_grad_enabled()


def test_grad_mode_is_per_thread_like_torch():
    import threading

    w = deepgrad.ones(2, requires_grad=True)
    inside, done = threading.Event(), threading.Event()

    def other():
        with deepgrad.no_grad():
            inside.set()
            done.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    try:
        assert (w * 2).sum().requires_grad
    finally:
        done.set()
        t.join()


def test_chain_of_100000_ops_backpropagates():
    x = deepgrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    assert sys.getrecursionlimit() < 100_000
    y.backward()
    assert x.grad.item() == 1.0


def test_unbroadcast_matches_torch_for_bias_like_shapes():
    a = np.random.default_rng(0).standard_normal((4, 1, 3))
    b = np.random.default_rng(1).standard_normal((5, 1))
    x, y = deepgrad.tensor(a, requires_grad=True), deepgrad.tensor(b, requires_grad=True)
    t, u = to_torch(x, True), to_torch(y, True)
    (x * y + x).sum().backward()
    (t * u + t).sum().backward()
    assert_close(x.grad, t.grad)
    assert_close(y.grad, u.grad)


def test_retain_grad_and_autograd_grad():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    (g,) = deepgrad.autograd.grad((x * x).sum(), [x])
    assert g.tolist() == [2.0, 4.0]


def test_gradcheck_reports_per_input_errors():
    x = deepgrad.tensor([0.5, -1.0], requires_grad=True, dtype=deepgrad.float64)
    y = deepgrad.tensor([2.0, 3.0], requires_grad=True, dtype=deepgrad.float64)
    report = deepgrad.autograd.gradcheck(lambda a, b: (a * b).exp(), (x, y))
    assert report.passed and len(report.inputs) == 2
    assert report.inputs[0].max_abs_error < 1e-6
    assert "max abs err" in str(report)


def test_gradcheck_catches_a_wrong_backward_and_converts_to_float64():
    class BadSquare(deepgrad.autograd.Op):
        def forward(ctx, a):
            ctx.saved = (a,)
            return a * a

        def backward(ctx, g):
            (a,) = ctx.saved
            return g * a  # wrong: should be 2a

    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)  # float32 on purpose
    with pytest.warns(UserWarning, match="float64"):
        report = deepgrad.autograd.gradcheck(lambda a: BadSquare.apply(a).sum(), (x,))
    assert not report.passed
    assert report.inputs[0].max_abs_error == pytest.approx(2.0, rel=1e-4)


# ---------------------------------------------------------------- errors that speak


def test_matmul_shape_error_names_dimensions():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\).*\(3\).*\(4\)"):
        deepgrad.ones(2, 3) @ deepgrad.ones(4, 5)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"Add: shapes \(2, 3\) and \(4,\).*dimension -1 is 3"):
        deepgrad.ones(2, 3) + deepgrad.ones(4)


def test_backward_on_non_scalar_says_what_to_pass():
    y = deepgrad.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="gradient=deepgrad.ones_like"):
        y.backward()


def test_integer_tensor_cannot_require_grad_and_says_why():
    with pytest.raises(RuntimeError, match="floating-point.*int64.*float"):
        deepgrad.tensor([1, 2], requires_grad=True)


def test_backward_without_requires_grad_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        deepgrad.ones(1).sum().backward()


def test_dim_out_of_range_like_torch():
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        deepgrad.ones(2, 3).sum(2)


def test_device_idiom_runs_on_cpu():
    device = deepgrad.device("cuda" if deepgrad.cuda.is_available() else "cpu")
    assert str(device) == "cpu" and device == deepgrad.device("cpu")
    x = deepgrad.ones(2).to(device)
    assert x.device == "cpu" and not x.is_cuda
    if not deepgrad.cuda.is_available():
        with pytest.raises(RuntimeError, match="no GPU"):
            x.to("cuda")


@pytest.mark.parametrize(
    "shape,start,end",
    [((2, 3, 4), 1, -1), ((2, 3, 4), 0, -1), ((2, 3, 4), 0, 1), ((2, 3, 4, 5), 1, 2),
     ((0, 3, 4), 1, -1), ((2, 0, 4), 0, -1), ((5,), 0, -1), ((), 0, -1), ((2, 3), 1, 1)],
)  # fmt: skip
def test_flatten_shapes_and_gradient_match_torch(shape, start, end):
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    ours = deepgrad.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    yo, yt = ours.flatten(start, end), theirs.flatten(start, end)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(yo.detach().numpy(), yt.detach().numpy())
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    "key",
    [slice(2, 9), slice(None, None, 3), slice(-4, None), slice(5, 2), [3, -1, 0, 3], [], [9, 2]],
)
def test_batch_indexing_without_a_graph_matches_torch(key):
    """The per-step fast path of ``__getitem__`` (a slice, or a 1-D integer tensor, on a
    tensor outside any graph) gives torch's values, shapes and dtypes."""
    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    if isinstance(key, list):
        ours_key = deepgrad.tensor(key, dtype=deepgrad.int64)
        their_key = torch.tensor(key, dtype=torch.int64)
    else:
        ours_key = their_key = key
    ours, theirs = deepgrad.from_numpy(x)[ours_key], torch.from_numpy(x)[their_key]
    assert tuple(ours.shape) == tuple(theirs.shape) and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(IndexError):
        deepgrad.from_numpy(x)[deepgrad.tensor([10])]
    w = deepgrad.from_numpy(x.copy()).requires_grad_()  # in a graph: the Index op, as before
    w[ours_key].sum().backward()
    tw = torch.from_numpy(x.copy()).requires_grad_()
    tw[their_key].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())
