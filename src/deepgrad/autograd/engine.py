"""The backward pass: walk the graph in reverse topological order, un-broadcast once.

For each node, the upstream gradient times the op's local gradient (``ctx.backward``) gives
the gradients of its inputs; they are summed where a tensor feeds several ops (the course's
"copy gate") and accumulated into the ``.grad`` of leaves.

Nodes are the ``Op`` instances (``tensor._ctx``): each non-leaf tensor has exactly one,
and they hash by identity in C, which keeps the walk cheap.
"""

from __future__ import annotations

import numpy as np

from deepgrad.backend import array_module


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting expanded, so it gets ``shape`` back."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:  # a gradient smaller than its input (e.g. a 0-d constant)
        grad = array_module(grad).broadcast_to(grad, shape)
    return grad


def topological_order(root_ctx) -> list:
    """Graph nodes reachable from ``root_ctx``, each listed after all nodes that feed it.

    An iterative depth-first search (a stack of input iterators), so a chain of 100,000 ops
    does not hit Python's recursion limit.
    """
    order = []
    visited = {root_ctx}
    stack = [(root_ctx, iter(root_ctx.inputs))]
    while stack:
        node, inputs = stack[-1]
        for inp in inputs:
            c = inp._ctx
            if c is not None and c not in visited:
                visited.add(c)
                stack.append((c, iter(c.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backward(root, grad: np.ndarray, retain_graph: bool = False, inputs=None):
    """Back-propagate ``grad`` (d out / d root) from ``root``.

    Without ``inputs``: accumulate into every leaf's ``.grad`` (and retained non-leaves').
    With ``inputs`` (a sequence of tensors): the collection mode of ``autograd.grad`` and
    ``backward(inputs=...)``: no ``.grad`` anywhere is touched; the gradient reaching each
    input is returned in a dict ``{id(tensor): array or None}`` (None: not reached).
    """
    # Leaf gradients are stored without a copy when the array is fresh; an array already handed
    # to another leaf (``a + b`` gives both the same upstream gradient) or a view is copied, so
    # an in-place update of one ``.grad`` can never change another.
    handed_out = {id(grad)}
    collect = None if inputs is None else {id(t): None for t in inputs}
    root_ctx = root._ctx
    if root_ctx is None:
        if collect is None:
            _accumulate(root, array_module(grad).array(grad, dtype=root._data.dtype), handed_out)
            run_hooks(root)
        elif id(root) in collect:
            collect[id(root)] = grad
        return collect
    if collect is None:
        retained = {root_ctx: root} if root._retain else None
    else:  # non-leaf inputs: their gradient is the one their node receives
        retained = {t._ctx: t for t in inputs if t._ctx is not None}
    grads = {root_ctx: grad}
    order = topological_order(root_ctx)
    needed = None if collect is None else _leading_to(order, collect, retained)
    # post-accumulate-grad hooks run only when .grad is accumulated (not in collection mode)
    pending = PendingLeaves(order) if POST_ACCUMULATE_GRAD_HOOKS and collect is None else None
    for ctx in reversed(order):
        g = grads.pop(ctx, None)
        if g is None:
            if pending is not None:
                pending.done(ctx)
            continue
        if needed is not None and ctx not in needed:  # no input lies below this node
            if not retain_graph:
                ctx.free()
            continue
        if ctx.freed:
            raise RuntimeError(
                f"backward() reached {ctx.op_name()}, whose saved values were already freed by "
                "an earlier backward(). Pass retain_graph=True to the first backward() if you "
                "need to back-propagate through the same graph twice, or recompute the forward "
                "pass."
            )
        if retained is not None and ctx in retained:
            if collect is None:
                _accumulate(retained[ctx], g, handed_out)
            else:
                collect[id(retained[ctx])] = g
        in_grads = ctx.backward(g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for inp, ig, need in zip(ctx.inputs, in_grads, ctx.needs_input_grad):
            if not need or ig is None:
                continue
            if ig.shape != inp._data.shape:
                ig = unbroadcast(ig, inp._data.shape)
            c = inp._ctx
            if c is None:
                if collect is None:
                    _accumulate(inp, ig, handed_out)
                    if pending is not None:
                        pending.reached.add(id(inp))
                elif id(inp) in collect:
                    prev = collect[id(inp)]
                    collect[id(inp)] = ig if prev is None else prev + ig
            else:
                if inp._retain and collect is None:
                    if retained is None:
                        retained = {}
                    retained[c] = inp
                prev = grads.get(c)
                grads[c] = ig if prev is None else prev + ig
        if pending is not None:
            pending.done(ctx)
        if not retain_graph:
            ctx.free()
    return collect


def _leading_to(order: list, collect: dict, retained: dict) -> set:
    """The nodes of ``order`` from which some collected input can be reached.

    ``order`` lists every node after the nodes that feed it, so one forward pass decides each
    node from its inputs. Backward skips the other nodes: their gradients reach no input.
    """
    needed = set()
    for node in order:
        if node in retained or any(
            (inp._ctx is None and id(inp) in collect) or inp._ctx in needed for inp in node.inputs
        ):
            needed.add(node)
    return needed


def _accumulate(t, g, handed_out) -> None:
    if type(g) is not np.ndarray:
        # NumPy math on 0-d arrays returns scalars: store an array. A GPU array stays as it is
        # (asarray of a CuPy array is the array itself: no copy to the host).
        g = array_module(t._data).asarray(g)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    old = t.grad
    if old is None:
        # (CuPy arrays have no `writeable` flag: they are always writeable)
        if g.base is not None or id(g) in handed_out or not getattr(g.flags, "writeable", True):
            g = g.copy()
        handed_out.add(id(g))
        t.grad = _wrap(g)
    else:
        old._data += g


from deepgrad.autograd.hooks import (  # noqa: E402
    POST_ACCUMULATE_GRAD_HOOKS,
    PendingLeaves,
    run_hooks,
)
from deepgrad.tensor import _wrap  # noqa: E402 - the tensor module imports this package first
