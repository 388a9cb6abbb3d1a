"""The backward pass: walk the graph in reverse topological order, un-broadcast once.

For each node, the upstream gradient times the op's local gradient (``ctx.backward``) gives
the gradients of its inputs; they are summed where a tensor feeds several ops (the course's
"copy gate") and accumulated into the ``.grad`` of leaves.
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting expanded, so it gets ``shape`` back."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:  # a gradient smaller than its input (e.g. a 0-d constant)
        grad = np.broadcast_to(grad, shape)
    return grad


def topological_order(root) -> list:
    """Non-leaf tensors reachable from ``root``, each after all of its inputs.

    Iterative depth-first search, so a chain of 100,000 ops does not hit Python's recursion
    limit.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        for inp in t._ctx.inputs:
            if inp._ctx is not None and id(inp) not in visited:
                stack.append((inp, False))
    return order


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Back-propagate ``grad`` (d out / d root) from ``root`` into every leaf's ``.grad``."""
    from deepgrad.tensor import Tensor

    new_tensor = object.__new__
    # Leaf gradients are stored without a copy when the array is fresh; an array already handed
    # to another leaf (``a + b`` gives both the same upstream gradient) or a view is copied, so
    # an in-place update of one ``.grad`` can never change another.
    handed_out = {id(grad)}
    if root._ctx is None:
        _accumulate(root, np.array(grad, dtype=root._data.dtype), handed_out, Tensor, new_tensor)
        return
    grads = {id(root): grad}
    for t in reversed(topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._retain:
            _accumulate(t, g, handed_out, Tensor, new_tensor)
        ctx = t._ctx
        if ctx.freed:
            raise RuntimeError(
                f"backward() reached {ctx.op_name()}, whose saved values were already freed by "
                "an earlier backward(). Pass retain_graph=True to the first backward() if you "
                "need to back-propagate through the same graph twice, or recompute the forward "
                "pass."
            )
        in_grads = ctx.backward(g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for inp, ig, need in zip(ctx.inputs, in_grads, ctx.needs_input_grad):
            if not need or ig is None:
                continue
            if ig.shape != inp._data.shape:
                ig = unbroadcast(ig, inp._data.shape)
            if inp._ctx is None:
                _accumulate(inp, ig, handed_out, Tensor, new_tensor)
            else:
                key = id(inp)
                prev = grads.get(key)
                grads[key] = ig if prev is None else prev + ig
        if not retain_graph:
            ctx.free()


def _accumulate(t, g, handed_out, Tensor, new_tensor) -> None:
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    old = t.grad
    if old is None:
        if g.base is not None or id(g) in handed_out or not g.flags.writeable:
            g = g.copy()
        handed_out.add(id(g))
        gt = new_tensor(Tensor)
        gt._data = g
        gt.grad = None
        gt._ctx = None
        gt.requires_grad = False
        gt._retain = False
        t.grad = gt
    else:
        old._data += g
