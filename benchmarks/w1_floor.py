"""W1's floor: the course MLP's training step written by hand on deepgrad's own kernels.

The same data, batch order, shapes and arithmetic as W1 (``run.py``): MKL's products with the
bias as their start (``kernels.products``), the compiled ReLU kernels, cross-entropy in NumPy
and the fused SGD-with-momentum kernel; but no Tensor, no graph, no modules, no optimiser
object. Whatever a framework on these kernels adds, it cannot go below this, so the fraction
of the GEMM peak printed here bounds what W1 can reach on the host. Not part of ``make bench``:
``.venv/bin/python benchmarks/w1_floor.py`` (about 10 s). The weights start at PyTorch's
default initialisation from a fixed generator, not at W1's (the speed does not depend on them).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# isort: off
from run import fashion_mnist, flops, gemm_peak_gflops  # noqa: E402  (first: sets the environment)

import numpy as np  # noqa: E402
# isort: on

from deepgrad.kernels import optim_steps, products  # noqa: E402
from deepgrad.kernels import relu as relu_kernels  # noqa: E402

BATCH = 128
SGD_FLAGS = (False, False, True, False, False)  # no weight decay, not maximise, momentum
SGD_SCALARS = (0.0, 0.9, 1.0, 0.01)  # weight decay, momentum, 1 - dampening, lr


def layers(rng):
    """(W, b) of 784 -> 512 -> 256 -> 10, uniform in +-1/sqrt(fan_in) as nn.Linear's."""
    out = []
    for o, i in [(512, 784), (256, 512), (10, 256)]:
        k = 1 / np.sqrt(i)
        out.append(rng.uniform(-k, k, (o, i)).astype(np.float32))
        out.append(rng.uniform(-k, k, o).astype(np.float32))
    return out


def mm(a, b, bias=None):
    """deepgrad's product: MKL's where ``kernels.products`` uses it, else NumPy's BLAS."""
    out = products.matmul(a, b, bias)
    if out is None:
        out = a @ b
        if bias is not None:
            out += bias
    return out


def step(params, buffers, xb, yb):
    w1, b1, w2, b2, w3, b3 = params
    h1 = mm(xb, w1.T, b1)
    relu_kernels.forward_inplace(h1)
    h2 = mm(h1, w2.T, b2)
    np.maximum(0, h2, out=h2)
    z = h2 @ w3.T
    z += b3
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)  # softmax; the loss value itself is never needed
    p[np.arange(len(yb)), yb] -= 1
    p /= len(yb)
    gh2 = p @ w3
    grads = [None, None, None, None, p.T @ h2, p.sum(0)]
    g2 = relu_kernels.backward(gh2, h2)
    grads[2], grads[3] = mm(g2.T, h1), g2.sum(0)
    g1 = relu_kernels.backward(mm(g2, w2), h1)
    grads[0], grads[1] = mm(g1.T, xb), g1.sum(0)
    arrays = [[w, g, m] for w, g, m in zip(params, grads, buffers)]
    optim_steps.step("sgd", SGD_FLAGS, arrays, [SGD_SCALARS] * len(params))


def main() -> None:
    x, y, _, _ = fashion_mnist()
    x = x.reshape(len(x), -1)
    params = layers(np.random.default_rng(0))
    buffers = [np.zeros_like(p) for p in params]
    order = np.random.default_rng(0).permutation(len(x))
    batches = len(order) // BATCH

    def epoch() -> float:
        start = time.perf_counter()
        for b in range(batches):
            sel = order[b * BATCH : (b + 1) * BATCH]
            step(params, buffers, x[sel], y[sel])
        return time.perf_counter() - start

    peak = max(gemm_peak_gflops().values())
    epoch()  # warm-up: kernels compiled, memory reused
    seconds = min(epoch() for _ in range(3))
    gflops = flops("mlp", batches * BATCH, True) / seconds / 1e9
    share = gflops / peak
    print(f"W1 floor: {seconds:.3f} s/epoch, {gflops:.1f} GFLOP/s = {share:.0%} of peak {peak:.1f}")


if __name__ == "__main__":
    main()
