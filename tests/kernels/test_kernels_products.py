"""Float32 matrix products on MKL (deepgrad/kernels/products.py) against NumPy, float64 and
PyTorch: every layout sgemm is handed, special values, the cases it must leave to NumPy,
and the switches that turn it off."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import deepgrad
from conftest import matrix_operands
from deepgrad.kernels import products

# MKL on every host where the wheel loads (tests/conftest.py), not only where it is the default
needs_mkl = pytest.mark.usefixtures("mkl_products")

# (m, k, n): the course MLP's products, and odd sizes that are no multiple of any vector.
SHAPES = [(128, 784, 512), (128, 512, 256), (512, 128, 784), (131, 257, 67), (1000, 784, 512)]


@needs_mkl
@pytest.mark.parametrize("layout", ["CC", "CF", "FC", "FF"])
@pytest.mark.parametrize("shape", SHAPES)
def test_error_against_float64_is_numpys(shape, layout):
    a, b = matrix_operands(*shape, layout)
    got = products.matmul(a, b)
    assert got is not None and got.dtype == np.float32 and got.flags.c_contiguous
    exact = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    err_mkl = (np.abs(got - exact) / scale).max()
    err_numpy = (np.abs((a @ b) - exact) / scale).max()
    assert err_mkl <= 4 * err_numpy + 1e-7, (err_mkl, err_numpy)


@needs_mkl
def test_equals_pytorch_on_the_course_mlp_shapes():
    # PyTorch's CPU build multiplies with MKL too: where both pick the same kernel the
    # products agree to the last bit; float32 rounding is the tolerance either way.
    for m, k, n in SHAPES[:3]:
        a, b = matrix_operands(m, k, n, "CF", seed=m + n)
        want = (torch.from_numpy(a) @ torch.from_numpy(np.ascontiguousarray(b.T)).T).numpy()
        np.testing.assert_allclose(products.matmul(a, b), want, rtol=1e-5, atol=1e-4)


@needs_mkl
def test_special_values_land_where_numpys_do():
    a, b = matrix_operands(128, 512, 256, "CF", seed=3)
    a[3, 7] = np.nan
    a[5, 9] = np.inf
    a[6, :] = 0.0
    b[:, 11] = 0.0
    b[9, 20] = -np.inf  # meets a's inf in row 5: -inf; meets a finite row: +-inf
    b[40, 30] = np.inf
    with np.errstate(invalid="ignore"):
        got, want = products.matmul(a, b), a @ b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.ones((128, 784)), np.ones((784, 512))),  # float64
        (np.ones((8, 8), np.float32), np.ones((8, 8), np.float32)),  # below MIN_WORK
        (np.ones((128, 1568), np.float32)[:, ::2], np.ones((784, 512), np.float32)),  # strided
        (np.ones((2, 128, 784), np.float32), np.ones((784, 512), np.float32)),  # batched
        (np.ones((128, 784), np.int32), np.ones((784, 512), np.int32)),
    ],
    ids=["float64", "small", "strided", "batched", "int32"],
)
def test_left_to_numpy(a, b):
    assert products.matmul(a, b) is None


@needs_mkl
def test_a_forked_child_leaves_products_to_numpy(monkeypatch):
    """GCC's OpenMP runtime hangs in a forked child that starts a parallel region after its
    parent did, so a process other than the one that loaded MKL must not call it."""
    assert products.active()
    monkeypatch.setitem(products._state, "pid", os.getpid() + 1)
    a, b = matrix_operands(128, 784, 512, "CF")
    assert not products.active() and products.matmul(a, b) is None


def test_deepgrad_blas_numpy_turns_it_off(run_python):
    code = "from deepgrad.kernels import products as p; print(p.active(), p.describe())"
    out = run_python(code, DEEPGRAD_BLAS="numpy")
    assert out.startswith("False NumPy's BLAS (turned off")


@needs_mkl
def test_two_threads_give_the_same_product_as_numpy(run_python):
    code = (
        "import numpy as np\n"
        "from deepgrad.kernels import products as p\n"
        "r = np.random.default_rng(1)\n"
        "a = r.standard_normal((256, 784)).astype(np.float32)\n"
        "w = r.standard_normal((512, 784)).astype(np.float32)\n"
        "got = p.matmul(a, w.T)\n"
        "print(p._state['threads'], np.abs(got - a @ w.T).max() / np.abs(a @ w.T).max())\n"
    )
    env = {"DEEPGRAD_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "DEEPGRAD_BLAS": "mkl"}
    threads, rel = run_python(code, **env).split()
    assert threads == "2" and float(rel) < 1e-5


def test_linear_and_its_gradients_match_pytorch():
    """Whichever BLAS this process uses, the Linear op's forward and all three gradients on
    the course MLP's first layer stay within float32 rounding of PyTorch's."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = (rng.standard_normal((512, 784)) / 28).astype(np.float32)
    bias = rng.standard_normal(512).astype(np.float32)
    g = rng.standard_normal((128, 512)).astype(np.float32)
    ours = [deepgrad.tensor(v, requires_grad=True) for v in (x, w, bias)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, bias)]
    y = deepgrad.nn.functional.linear(*ours)
    yt = torch.nn.functional.linear(*theirs)
    y.backward(deepgrad.tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-4)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=2e-4)


@needs_mkl
def test_bias_added_by_the_kernel():
    """With a bias the output starts as the bias and sgemm adds the product (addmm's order):
    float32 rounding from the product plus the bias, and NumPy's order for anything else."""
    a, b = matrix_operands(128, 784, 512, "CF", seed=9)
    bias = np.random.default_rng(9).standard_normal(512).astype(np.float32)
    got = products.matmul(a, b, bias)
    want = a.astype(np.float64) @ b.astype(np.float64) + bias
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64) + np.abs(bias)
    assert (np.abs(got - want) / scale).max() < 1e-6
    assert products.matmul(a, b, bias.astype(np.float64)) is None
    assert products.matmul(a, b, bias[:-1]) is None


@pytest.mark.parametrize("n", [1, 7, 16, 17, 33, 512, 515])
def test_the_bias_rows_are_numpys_broadcast_bit_for_bit(n):
    """The compiled fill that starts a biased product copies every bit of the bias into every
    row (NaN payloads, -0.0 and infinities too), partial vectors included."""
    from deepgrad.kernels import compiler

    if not compiler.available():
        pytest.skip("no compiled kernels on this host")
    bias = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    special = np.array([np.nan, -0.0, np.inf, -np.inf], np.float32)
    special.view(np.uint32)[0] |= 0x1234  # a NaN with a payload
    bias[: min(n, 4)] = special[: min(n, 4)]
    for m in (0, 1, 5, 128):
        out = np.full((m, n), 7.0, np.float32)
        products._start_as_bias(out, bias)
        want = np.empty((m, n), np.float32)
        want[...] = bias
        assert out.tobytes() == want.tobytes()
