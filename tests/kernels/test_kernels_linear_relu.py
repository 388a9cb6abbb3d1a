"""Linear then ReLU in row blocks (kernels/products.py ``linear_relu``): the same bits as the
two steps it replaces (MKL's whole product with the bias as its start, then ReLU), special
values included; the first-call check that keeps a shape on the two steps when a split would
change its bits; and the cases left to the two steps. Two threads are asked for here, since
one thread never splits."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import nn
from deepgrad.kernels import compiler, openmp, products

pytestmark = [
    pytest.mark.skipif(
        not (compiler.available() and openmp.active()),
        reason="needs llvmlite and GCC's OpenMP runtime",
    ),
    pytest.mark.usefixtures("mkl_products"),  # MKL wherever its wheel loads (conftest.py)
]


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(products.threads, "num_threads", lambda: 2)
    monkeypatch.setattr(products, "_same_as_whole", {})


def _operands(m, k, n, seed=0, special=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = (rng.standard_normal((n, k)) / np.sqrt(k)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    if special:
        x[3, 5], x[m - 1, 0], x[m // 2, 1] = np.nan, np.inf, -np.inf
        b[0] = -0.0
    return x, w, b


def _two_steps(x, w, b):
    out = products.matmul(x, w.T, b)
    np.maximum(0, out, out=out)  # ReLU's reference: zero first, so -0.0 and NaN stay
    return out


def _same(a, e):
    np.testing.assert_array_equal(a, e)
    real = ~np.isnan(e)
    np.testing.assert_array_equal(np.signbit(a[real]), np.signbit(e[real]))


# The course MLP's inference at batch 1000, and an odd shape: MKL cuts these by rows.
@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("shape", [(1000, 784, 512), (1000, 512, 256), (1000, 256, 10),
                                   (1031, 300, 33)])  # fmt: skip
def test_row_blocks_give_the_two_steps_bits(shape, with_bias, special, two_threads):
    x, w, b = _operands(*shape, special=special)
    b = b if with_bias else None
    expected = _two_steps(x, w, b)
    first = products.linear_relu(x, w, b)  # checked against the two steps, which it returns
    _same(first, expected)
    second = products.linear_relu(x, w, b)  # now the row blocks alone
    assert second is not None, "MKL no longer cuts this shape by rows"
    assert second.ctypes.data != first.ctypes.data
    _same(second, expected)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    yt = torch.relu(torch.nn.functional.linear(xt, wt, None if b is None else torch.from_numpy(b)))
    fin = np.isfinite(yt.numpy())
    np.testing.assert_array_equal(fin, np.isfinite(second))
    np.testing.assert_allclose(second[fin], yt.numpy()[fin], rtol=1e-5, atol=1e-5)


def test_a_split_that_changes_the_bits_keeps_the_two_steps(two_threads, monkeypatch):
    """Where MKL cuts the whole product otherwise (its last bit then differs), the first call
    finds out, answers with the two steps' bits, and the shape is never split again."""
    real = products.threads.run_split

    def off_by_one_ulp(kernel, pointers, total, threads):
        real(kernel, pointers, total, threads)
        y = np.ctypeslib.as_array((ctypes.c_float * (total * 20)).from_address(pointers[3]))
        y[7] = np.nextafter(y[7], np.float32(np.inf))  # y has 20 columns: row 0, column 7

    monkeypatch.setattr(products.threads, "run_split", off_by_one_ulp)
    x, w, b = _operands(600, 500, 20, seed=3)
    x[0] = np.abs(x[0]) + 1  # so element 7's output is positive, not rectified to 0
    w[7] = np.abs(w[7])
    expected = _two_steps(x, w, b)
    _same(products.linear_relu(x, w, b), expected)
    assert products._same_as_whole == {(600, 20, 500, True, 2): False}
    assert products.linear_relu(x, w, b) is None


@pytest.mark.parametrize(
    "case",
    ["too few rows a thread", "float64", "strided x", "transposed weight", "bias of 2 dtypes"],
)
def test_left_to_the_two_steps(case, two_threads):
    x, w, b = _operands(1000, 256, 64)
    if case == "too few rows a thread":
        x = x[: 2 * products.MIN_ROWS_PER_THREAD - 1]
    elif case == "float64":
        x, w = x.astype(np.float64), w.astype(np.float64)
    elif case == "strided x":
        x = np.repeat(x, 2, axis=1)[:, ::2]
    elif case == "transposed weight":
        w = np.asfortranarray(w)
    else:
        b = b.astype(np.float64)
    assert products.linear_relu(x, w, b) is None


def test_one_thread_never_splits(monkeypatch):
    monkeypatch.setattr(products.threads, "num_threads", lambda: 1)
    assert products.linear_relu(*_operands(1000, 784, 512)) is None


def test_course_mlp_inference_equals_its_layers_one_by_one(two_threads):
    """The Sequential's fused inference against the same layers called one at a time (the
    two steps, on the same two MKL threads) bit for bit, and against PyTorch."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10),
    )  # fmt: skip
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )  # fmt: skip
    model.load_state_dict({k: deepgrad.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
    x = np.random.default_rng(7).standard_normal((1000, 1, 28, 28)).astype(np.float32)
    with deepgrad.no_grad():
        fused = [model(deepgrad.tensor(x)).numpy() for _ in range(2)]  # checked, then split
        h = deepgrad.tensor(x)
        for layer in model:
            h = layer(h)
    assert len(products._same_as_whole) == 2 and all(products._same_as_whole.values())
    _same(fused[0], h.numpy())
    _same(fused[1], h.numpy())
    with torch.no_grad():
        np.testing.assert_allclose(fused[1], tmodel(torch.from_numpy(x)).numpy(), atol=1e-5)
