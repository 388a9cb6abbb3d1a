"""The row gather ``x[index]`` (deepgrad.kernels.gather): a batch picked from a data set.

Oracles: NumPy's own ``x[index]`` bit for bit (special values and NaN payloads included), and
PyTorch's ``index_select`` through the Tensor API. The kernel runs at this host's vector width
(test_kernels_widths.py generates the other).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.kernels import compiler, gather

#: The tests that need the kernel to run; the others hold with NumPy alone too.
needs_kernels = pytest.mark.skipif(
    not compiler.available(), reason="the kernel needs llvmlite and a CPU with AVX2/FMA"
)


def _special(shape, seed=0):
    """Random floats with NaN (two payloads), +-inf and -0.0 sprinkled in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    spots = rng.choice(flat.size, size=5 * max(1, flat.size // 50), replace=False)
    quiet_nan = np.array([0x7FC00001], np.uint32).view(np.float32)[0]
    signal_bits = np.array([0xFFA00002], np.uint32).view(np.float32)[0]
    specials = np.array([quiet_nan, signal_bits, np.inf, -np.inf, -0.0], np.float32)
    flat[spots] = np.resize(specials, spots.size)
    return x


@needs_kernels
@pytest.mark.parametrize(
    "shape,picks",
    [
        ((300, 1, 28, 28), 128),  # a Fashion-MNIST batch
        ((500, 785), 100),  # rows that end in a partial vector
        ((70000, 3), 30000),  # tiny rows, many of them
        ((200, 17, 19), 250),  # more picks than rows: repeats
        ((5, 256, 256), 3),  # rows longer than the prefetch; a row a thread
    ],
)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_kernel_equals_numpy_bit_for_bit(shape, picks, threads, monkeypatch):
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", str(threads))
    x = _special(shape)
    index = np.random.default_rng(1).integers(0, shape[0], picks)
    index[:3] = [0, shape[0] - 1, 0]  # both ends, and a repeat
    out = gather.take_rows(x, index)
    assert out is not None, "the kernel should apply to these shapes"
    ref = x[index]
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert np.array_equal(out.view(np.uint32), ref.view(np.uint32))


@needs_kernels
def test_tensor_indexing_takes_the_kernel_and_equals_torch(monkeypatch):
    """A training loop's batch, ``x[perm[i:i + 128]]``, goes through the kernel and gives
    what PyTorch gives."""
    seen = []
    original = gather.take_rows
    monkeypatch.setattr(gather, "take_rows", lambda *a: seen.append(1) or original(*a))
    x = _special((600, 1, 28, 28), seed=2)
    perm = np.random.default_rng(3).permutation(600)
    xt, idx = deepgrad.from_numpy(x), deepgrad.from_numpy(perm)
    got = xt[idx[128:256]].numpy()
    want = torch.from_numpy(x)[torch.from_numpy(perm)[128:256]].numpy()
    assert seen == [1]
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize(
    "x,index",
    [
        (np.zeros((4000, 100), np.float32), np.arange(10)),  # too little to copy: NumPy
        (np.zeros((4000, 100), np.float64), np.arange(1000)),  # another dtype
        (np.zeros((4000, 100), np.float32)[:, ::2], np.arange(1000)),  # not C-ordered
        (np.zeros((4000, 100), np.float32), np.arange(1000, dtype=np.int32)),  # int32
        (np.zeros((4000, 100), np.float32), np.arange(2000)[::2]),  # a strided index
        (np.zeros(100000, np.float32), np.arange(90000)),  # 1-D: elements, not rows
        (np.zeros((4000, 100), np.float32), np.arange(0)),  # empty
    ],
)
def test_other_inputs_stay_with_numpy(x, index):
    assert gather.take_rows(x, index) is None


def test_negative_and_out_of_range_indices_follow_numpy():
    """Negative indices count from the end and an index past the end raises, as in NumPy
    and PyTorch: the kernel leaves both to NumPy."""
    x = _special((1000, 100), seed=4)
    index = np.arange(-900, 100)
    assert gather.take_rows(x, index) is None
    got = deepgrad.from_numpy(x)[deepgrad.from_numpy(index)].numpy()
    want = torch.from_numpy(x)[torch.from_numpy(index)].numpy()
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    too_far = np.arange(1, 1001)
    assert gather.take_rows(x, too_far) is None
    with pytest.raises(IndexError):
        deepgrad.from_numpy(x)[deepgrad.from_numpy(too_far)]
    with pytest.raises(IndexError):
        torch.from_numpy(x)[torch.from_numpy(too_far)]


def test_empty_index_gives_an_empty_batch_like_torch():
    x = np.ones((5000, 30), np.float32)
    got = deepgrad.from_numpy(x)[deepgrad.from_numpy(np.arange(0))]
    want = torch.from_numpy(x)[torch.arange(0)]
    assert tuple(got.shape) == tuple(want.shape) == (0, 30)


def test_a_tensor_that_requires_grad_still_gets_its_gradient():
    """The kernel serves only the no-grad path; with a graph, indexing is the op whose
    backward scatters the gradient back (compared with PyTorch)."""
    x = _special((400, 300), seed=5)
    x[~np.isfinite(x)] = 1.0
    index = np.random.default_rng(6).integers(0, 400, 300)
    a = deepgrad.tensor(x, requires_grad=True)
    a[deepgrad.from_numpy(index)].sum().backward()
    b = torch.tensor(x, requires_grad=True)
    b[torch.from_numpy(index)].sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_the_row_after_next_is_prefetched_for_both_widths():
    """The prefetch is a hint (the results above are the oracle); here its presence in the
    generated code, clamped to a row of the share."""
    pytest.importorskip("llvmlite")
    for width in (compiler.AVX512, compiler.AVX2):
        ir = str(gather.gather_rows_ir(width, 784))
        assert "llvm.prefetch" in ir and "select" in ir
