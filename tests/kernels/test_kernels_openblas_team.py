"""NumPy's OpenBLAS on the OpenMP team (deepgrad/kernels/openblas_team.py): one
single-threaded sgemm per thread on its block of the output, against float64, NumPy and
PyTorch; every layout, split direction and thread count; special values; OpenBLAS's thread
count restored; the cases left to NumPy. Runs on any host where NumPy's BLAS is an OpenBLAS
that exports what it needs (``DEEPGRAD_BLAS=openblas`` chooses it on Intel hosts too)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import deepgrad
from conftest import matrix_operands
from deepgrad.kernels import compiler, openblas_team

# (m, k, n): the course MLP's products, odd sizes no multiple of any vector, and a tall one
SHAPES = [(128, 784, 512), (512, 128, 784), (128, 256, 512), (131, 257, 67), (1000, 784, 512)]


@pytest.mark.parametrize("split", ["chosen", "rows", "columns"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("layout", ["CC", "CF", "FC", "FF"])
@pytest.mark.parametrize("shape", SHAPES)
def test_error_against_float64_is_numpys(openblas_team_products, shape, layout, bias, split):
    products = openblas_team_products
    a, b = matrix_operands(*shape, layout, seed=sum(shape))
    vector = np.random.default_rng(1).standard_normal(shape[2]).astype(np.float32)
    v = vector if bias else None
    if split == "chosen":
        got = products.matmul(a, b, v)
    else:
        ta, tb = products._operand(a), products._operand(b)
        got = openblas_team.matmul(a, b, v, ta, tb, 2, rows=split == "rows")
    assert got is not None and got.dtype == np.float32 and got.flags.c_contiguous
    exact = a.astype(np.float64) @ b.astype(np.float64) + (vector if bias else 0)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64) + 1
    numpy = a @ b + (vector if bias else 0)
    err_team = (np.abs(got - exact) / scale).max()
    err_numpy = (np.abs(numpy - exact) / scale).max()
    assert err_team <= 4 * err_numpy + 1e-7, (err_team, err_numpy)


@pytest.mark.parametrize("rows", [True, False])
@pytest.mark.parametrize("n_threads", [1, 2, 3, 4])
def test_every_block_is_written_for_any_thread_count(n_threads, rows):
    """Blocks of rows and of columns, however many threads share them (more than rows or
    columns included)."""
    if openblas_team.find() is None or not compiler.available():
        pytest.skip("NumPy's BLAS is not such an OpenBLAS, or no compiled kernels")
    from deepgrad.kernels.products import _operand

    for m, k, n in [(7, 33, 5), (5, 33, 7), (64, 100, 3), (3, 100, 64), (2, 50, 2)]:
        a, b = matrix_operands(m, k, n, "CF", seed=m)
        got = openblas_team.matmul(a, b, None, _operand(a), _operand(b), n_threads, rows)
        np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)


def test_split_follows_the_measured_rule():
    """The course MLP (batch 128) on two threads: the forward products x @ W.T by columns
    (each thread packs half of the weights), the weight and input gradients by rows; few rows
    by columns; a large plain b by columns (see ``openblas_team.by_rows``)."""
    n, t = 111, 112  # CBLAS's no-transpose and transpose
    assert not openblas_team.by_rows(128, 512, 784, n, t, 2)  # x @ W1.T
    assert openblas_team.by_rows(512, 784, 128, t, n, 2)  # g1.T @ x
    assert openblas_team.by_rows(256, 512, 128, t, n, 2)  # g2.T @ h1
    assert openblas_team.by_rows(128, 512, 256, n, n, 2)  # g2 @ W2
    assert openblas_team.by_rows(1000, 512, 784, n, t, 2)  # inference, batch 1000
    assert not openblas_team.by_rows(10, 784, 128, t, n, 2)  # 10 rows: 5 a thread
    assert not openblas_team.by_rows(64, 512, 784, n, t, 2)  # 32 rows a thread, n >= 256
    assert not openblas_team.by_rows(128, 1024, 1024, n, n, 2)  # b of 2**20 numbers
    assert openblas_team.by_rows(64, 128, 784, n, n, 1)  # one thread: 64 rows, n < 256
    assert not openblas_team.by_rows(64, 128, 784, n, n, 8)  # eight threads: 8 rows each


def test_openblas_thread_count_is_restored(openblas_team_products):
    _, set_threads, get_threads, _ = openblas_team.find()
    before = get_threads()
    try:
        set_threads(2)
        a, b = matrix_operands(128, 784, 512, "CF")
        assert openblas_team_products.matmul(a, b) is not None
        assert get_threads() == 2
    finally:
        set_threads(before)


def test_special_values_land_where_numpys_do(openblas_team_products):
    a, b = matrix_operands(128, 512, 256, "CF", seed=3)
    a[3, 7] = np.nan
    a[5, 9] = np.inf
    a[6, :] = 0.0
    b[:, 11] = 0.0
    b[9, 20] = -np.inf
    b[40, 30] = np.inf
    with np.errstate(invalid="ignore"):
        got, want = openblas_team_products.matmul(a, b), a @ b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-3)


def test_linear_and_its_gradients_match_pytorch(openblas_team_products):
    """The course MLP's first layer through the team: forward and all three gradients, the
    input and weight gradients as one pair of products and the bias's sums after them."""
    calls = []
    original, original_matmuls = openblas_team.matmul, openblas_team.matmuls

    def spy(*args):
        calls.append("product")
        return original(*args)

    def spy_matmuls(products, n_threads, sums_of=None):
        calls.append(("products", len(products), sums_of is not None))
        return original_matmuls(products, n_threads, sums_of)

    rng = np.random.default_rng(5)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = (rng.standard_normal((512, 784)) / 28).astype(np.float32)
    bias = rng.standard_normal(512).astype(np.float32)
    g = rng.standard_normal((128, 512)).astype(np.float32)
    ours = [deepgrad.tensor(v, requires_grad=True) for v in (x, w, bias)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, bias)]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(openblas_team, "matmul", spy)
        m.setattr(openblas_team, "matmuls", spy_matmuls)
        y = deepgrad.nn.functional.linear(*ours)
        y.backward(deepgrad.tensor(g))
    yt = torch.nn.functional.linear(*theirs)
    yt.backward(torch.from_numpy(g))
    assert calls == ["product", ("products", 2, True)]  # forward; the gradients together
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-4)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=2e-4)


@pytest.mark.parametrize("n_threads", [2, 3, 4])
@pytest.mark.parametrize("shape", SHAPES)
def test_pair_error_against_float64_is_numpys(openblas_team_products, shape, n_threads):
    """A Linear's two gradients, g @ W and g.T @ x (x's columns k, W's n), side by side on the
    team: each as exact as NumPy's own product (odd thread counts give the second product the
    extra thread)."""
    m, k, n = shape
    rng = np.random.default_rng(sum(shape))
    g = rng.standard_normal((m, n)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    x = rng.standard_normal((m, k)).astype(np.float32)
    products = openblas_team_products
    first, second = (g, w, *products._operands(g, w)), (g.T, x, *products._operands(g.T, x))
    got, sums = openblas_team.matmuls([first, second], n_threads)
    assert sums is None
    for out, (a, b) in zip(got, [(g, w), (g.T, x)]):
        exact = a.astype(np.float64) @ b.astype(np.float64)
        scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64) + 1
        err_pair = (np.abs(out - exact) / scale).max()
        err_numpy = (np.abs(a @ b - exact) / scale).max()
        assert out.flags.c_contiguous and err_pair <= 4 * err_numpy + 1e-7, (err_pair, err_numpy)


def test_pair_puts_special_values_where_numpy_does(openblas_team_products):
    g, w = matrix_operands(128, 256, 512, "CC", seed=4)
    x = np.random.default_rng(5).standard_normal((128, 512)).astype(np.float32)
    g[3, 7], g[5, 9], g[6, :] = np.nan, np.inf, 0.0
    w[9, 20], x[40, 30] = -np.inf, np.inf
    got = openblas_team_products.linear_grads(g, x, w, True, True)
    assert got is not None
    with np.errstate(invalid="ignore"):
        wants = (g @ w, g.T @ x, np.add.reduce(g, axis=0))
    for out, want in zip(got, wants):
        for test in (np.isnan, np.isposinf, np.isneginf):
            np.testing.assert_array_equal(test(out), test(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(out[finite], want[finite], rtol=1e-4, atol=1e-3)


def test_pair_is_left_to_the_caller_where_it_does_not_apply(openblas_team_products, monkeypatch):
    """None (the caller multiplies in turn) for a small product, float64, or one thread."""
    products = openblas_team_products
    g, w = matrix_operands(128, 256, 512, "CC")
    x = np.ones((128, 512), np.float32)
    assert products.linear_grads(g, x, w, True, True) is not None
    assert products.linear_grads(g[:2], x[:2], w, True, True) is None  # 2 x 512 x 256: small
    assert products.linear_grads(g, x, w.astype(np.float64), True, True) is None
    monkeypatch.setattr(products.threads, "num_threads", lambda: 1)
    assert products.linear_grads(g, x, w, True, True) is None


def test_pair_is_not_used_with_mkl(mkl_products):
    """MKL multiplies the two gradients in turn, each on all threads (pairing on MKL was not
    measured)."""
    g, w = matrix_operands(128, 256, 512, "CC")
    assert mkl_products.linear_grads(g, np.ones((128, 512), np.float32), w, True, True) is None


def test_one_thread_and_small_products_stay_on_numpy(openblas_team_products, monkeypatch):
    products = openblas_team_products
    a, b = matrix_operands(128, 784, 512, "CF")
    small_a, small_b = matrix_operands(8, 8, 8, "CC")
    assert products.matmul(small_a, small_b) is None
    monkeypatch.setattr(products.threads, "num_threads", lambda: 1)
    assert products.matmul(a, b) is None


def test_describe_names_it(openblas_team_products):
    assert openblas_team_products.backend() == "openblas"
    assert "OpenBLAS on deepgrad's OpenMP team" in openblas_team_products.describe()


def test_a_forked_child_leaves_products_to_numpy(openblas_team_products, monkeypatch):
    products = openblas_team_products
    monkeypatch.setitem(products._state, "pid", os.getpid() + 1)
    assert (
        products.backend() is None
        and products.matmul(*matrix_operands(128, 784, 512, "CF")) is None
    )


@pytest.mark.parametrize("env", [{"DEEPGRAD_OPENMP": "0"}, {"DEEPGRAD_BLAS": "numpy"}])
def test_without_the_team_or_when_turned_off_numpy_multiplies(run_python, env):
    code = "from deepgrad.kernels import products as p; print(p.backend())"
    base = {k: v for k, v in os.environ.items() if k != "DEEPGRAD_BLAS"}
    assert run_python(code, base, DEEPGRAD_NUM_THREADS="2", **env) in ("None", "mkl")


@pytest.mark.parametrize("bits", [32, 64])
def test_both_integer_widths_compile(bits):
    """NumPy's wheels call sgemm with 64-bit integers; other OpenBLAS builds with 32."""
    if compiler.host_width() is None:
        pytest.skip("no compiled kernels on this host")
    code = compiler.object_code(openblas_team.team_sgemm_ir(compiler.host_width(), bits),
                                compiler.host_width(), assembly=True)  # fmt: skip
    assert "team_sgemm" in code


def _bits(x):
    return np.ascontiguousarray(x).view(np.uint32)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("rows", [True, False])
@pytest.mark.parametrize("n_threads", [1, 2, 3, 4])
def test_relu_in_the_blocks_gives_the_product_then_relus_bits(n_threads, rows, bias):
    """Each thread rectifying its own block right after its sgemm: the bits of the same
    product and then ReLU's reference (``maximum(0, y)``: NaN and -0.0 kept), for blocks of
    rows and of columns, vector tails, more threads than rows, and special values."""
    if openblas_team.find() is None or not compiler.available():
        pytest.skip("NumPy's BLAS is not such an OpenBLAS, or no compiled kernels")
    from deepgrad.kernels.products import _operand

    for m, k, n in [(128, 784, 512), (131, 257, 67), (3, 40, 17), (40, 9, 3)]:
        a, b = matrix_operands(m, k, n, "CF", seed=m + n)
        a[1, 2], a[m - 1, 0] = np.nan, np.inf  # rows of NaN, and of +-inf and NaN
        b[:, 1] = 0.0  # a column of zeros: -0.0 where the bias is -0.0
        v = np.random.default_rng(n).standard_normal(n).astype(np.float32) if bias else None
        if bias:
            v[1] = -0.0
        ta, tb = _operand(a), _operand(b)
        with np.errstate(invalid="ignore"):
            want = openblas_team.matmul(a, b, v, ta, tb, n_threads, rows)
            np.maximum(0, want, out=want)
            got = openblas_team.matmul(a, b, v, ta, tb, n_threads, rows, relu=True)
        np.testing.assert_array_equal(_bits(got), _bits(want))
        assert not (got < 0).any()


def _course_mlp(nn):
    """784 -> 512 -> 256 -> 10 with ReLUs, from ``torch.nn`` or ``deepgrad.nn``."""
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def test_course_mlp_training_step_rectifies_in_the_blocks(openblas_team_products):
    """In training, a Sequential's Linear + ReLU pairs ask the team for rectified products,
    and the outputs, loss and gradients are bit for bit those of the layers called one by one
    (a hook on each ReLU keeps them apart), and torch's within float32 rounding."""
    torch.manual_seed(0)
    tmodel = _course_mlp(torch.nn)
    state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    models = [_course_mlp(deepgrad.nn) for _ in range(2)]
    for model in models:
        model.load_state_dict({k: deepgrad.tensor(v) for k, v in state.items()})
    for relu in (models[1][1], models[1][3]):
        relu.register_forward_hook(lambda module, args, out: None)

    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    calls = []
    original = openblas_team.matmul

    def spy(*args, **kwargs):
        calls.append(kwargs.get("relu", False))
        return original(*args, **kwargs)

    results = []
    for model in models:
        calls.clear()
        with pytest.MonkeyPatch.context() as m:
            m.setattr(openblas_team, "matmul", spy)
            out = model(deepgrad.tensor(x))
            loss = deepgrad.nn.functional.cross_entropy(out, deepgrad.tensor(y))
            loss.backward()
        results.append((out, loss, [p.grad.numpy() for p in model.parameters()], list(calls)))
    (out, loss, grads, calls_pair), (out2, loss2, grads2, calls_apart) = results
    assert calls_pair[:2] == [True, True] and not any(calls_apart)
    assert out.grad_fn.name() == "AddmmBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "ReluBackward0"
    np.testing.assert_array_equal(_bits(out.detach().numpy()), _bits(out2.detach().numpy()))
    assert loss.item() == loss2.item()
    for g, g2 in zip(grads, grads2):
        np.testing.assert_array_equal(_bits(g), _bits(g2))

    tloss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
    for g, p in zip(grads, tmodel.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)
