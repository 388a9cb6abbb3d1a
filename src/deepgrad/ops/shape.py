"""Shape primitives: reshape, permute, expand, contiguous, indexing, cat and stack.

They move numbers around without changing them, so each backward moves the gradient back.
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module, scatter_add


class Reshape(Op):
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Op):
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.dims))


class Expand(Op):
    def forward(ctx, a, shape):
        return array_module(a).broadcast_to(a, shape)

    def backward(ctx, g):  # the engine sums the gradient back over the expanded axes
        return g


class Contiguous(Op):
    """``x.contiguous()``: the same values in a fresh row-major (C-order) array."""

    def forward(ctx, a):
        return array_module(a).ascontiguousarray(a)

    def backward(ctx, g):  # a copy: d out / d a is the identity
        return g


class Index(Op):
    """``a[key]``. Backward scatters the gradient back, adding it up at repeated indices."""

    def forward(ctx, a, key, advanced=False):
        ctx.shape, ctx.key, ctx.advanced = a.shape, key, advanced
        return a[key]

    def backward(ctx, g):
        xp = array_module(g)
        grad = xp.zeros(ctx.shape, dtype=g.dtype)
        if ctx.advanced:
            scatter_add(grad, ctx.key, g)  # repeated indices must add up, not overwrite
        else:
            grad[ctx.key] = g
        return grad


class Cat(Op):
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return array_module(arrays[0]).concatenate(arrays, axis=axis)

    def backward(ctx, g):
        return tuple(array_module(g).split(g, ctx.splits, axis=ctx.axis))


class Stack(Op):
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return array_module(arrays[0]).stack(arrays, axis=axis)

    def backward(ctx, g):
        return tuple(g.take(i, axis=ctx.axis) for i in range(g.shape[ctx.axis]))
