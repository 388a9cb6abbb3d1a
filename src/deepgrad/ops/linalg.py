"""Matrix products: ``matmul`` (1-D, 2-D, batched with broadcasting) and the fused ``linear``."""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.autograd.op import Op
from deepgrad.ops.elementwise import relu_inplace


def _swap(x):
    return x.swapaxes(-1, -2)


def _mm(a, b):
    """a @ b; large float32 matrix products go to MKL where ``kernels.matmul`` takes them."""
    out = kernels.matmul(a, b)
    return a @ b if out is None else out


class MatMul(Op):
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and "
                f"{b.shape}; use * to multiply by a scalar."
            )
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            where_b = "its only dimension" if b.ndim == 1 else f"dimension {b.ndim - 2}"
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied: "
                f"the last dimension of the first ({k_a}) must equal {where_b} of the second "
                f"({k_b}). Did you mean to transpose one of them (x.T or x.transpose(-1, -2))?"
            )
        ctx.saved = (a, b)
        return _mm(a, b)

    def backward(ctx, g):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        # Promote 1-D operands to matrices as matmul does, then drop the added axes again.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = g[..., None, :] if b.ndim > 1 else g[..., None]
        if b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if need_a:
            ga = _mm(g, _swap(b2))
            if a.ndim == 1:
                ga = ga.reshape(-1, a.shape[0]).sum(0) if ga.ndim > 2 else ga[0]
        if need_b:
            gb = _mm(_swap(a2), g)
            if b.ndim == 1:
                gb = gb[..., 0]
                gb = gb.reshape(-1, b.shape[0]).sum(0) if gb.ndim > 1 else gb
        return ga, gb


def affine(x, weight, bias=None):
    """x W^T + b, a new array: Linear's forward."""
    wt = weight.T
    out = kernels.matmul(x, wt, bias)  # 2-D float32 on MKL, the bias added by the product
    if out is None:
        out = x @ wt
        if bias is not None:
            out += bias
    return out


def linear_relu(x, weight, bias=None):
    """relu(x W^T + b): Linear's forward and then ReLU's, written into the product. Large
    float32 batches by the kernels, which rectify each thread's block as soon as it is
    multiplied (``kernels.linear_relu``)."""
    out = kernels.linear_relu(x, weight, bias)
    if out is None:
        out = affine(x, weight, bias)
        relu_inplace(out)
    return out


class Linear(Op):
    """y = x W^T + b in one op, with one backward: dx = g W, dW = g^T x, db = sum(g).

    ``relu=True`` writes relu(y) instead, for a ReLU node recorded next on the same array
    (``ReLU.apply(y, rectified=True)``, see nn/modules/_relu_pairs.py): the backward never
    reads y, so this node's gradients are unchanged."""

    def forward(ctx, x, weight, bias=None, relu=False):
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input has {x.shape[-1]} features (shape {tuple(x.shape)}) but the "
                f"weight expects {weight.shape[1]} (weight shape {tuple(weight.shape)})."
            )
        ctx.saved = (x, weight)
        return linear_relu(x, weight, bias) if relu else affine(x, weight, bias)

    def backward(ctx, g):
        x, w = ctx.saved
        need = ctx.needs_input_grad
        need_b = len(need) > 2 and need[2]
        # all at once on the kernels' threads where they can, else one after the other
        done = kernels.linear_grads(g, x, w, need[0], need_b) if need[1] else None
        gx, gw, gb = done if done is not None else (_mm(g, w) if need[0] else None, None, None)
        if need[1] and gw is None:
            if g.ndim == 2:
                gw = _mm(g.T, x)
            else:
                gw = _mm(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))
        if need_b and gb is None:
            if g.ndim == 2 and type(g) is np.ndarray:  # g.sum(axis=0), without NumPy's wrapper
                gb = np.add.reduce(g, axis=0)
            else:
                gb = g.sum(axis=tuple(range(g.ndim - 1)))
        return gx, gw, gb
