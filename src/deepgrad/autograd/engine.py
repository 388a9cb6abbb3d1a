"""The backward pass: walk the graph in reverse topological order, un-broadcast once.

For each node, the upstream gradient times the op's local gradient (``ctx.backward``) gives
the gradients of its inputs; they are summed where a tensor feeds several ops (the course's
"copy gate") and accumulated into the ``.grad`` of leaves.

Nodes are the ``Op`` instances (``tensor._ctx``): each non-leaf tensor has exactly one,
and they hash by identity in C, which keeps the walk cheap.
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.gradient import accumulate, unbroadcast
from deepgrad.autograd.graph import nodes_leading_to, topological_order
from deepgrad.autograd.op_errors import freed_graph_error
from deepgrad.backend import array_module


def backward(root, grad: np.ndarray, retain_graph: bool = False, inputs=None):
    """Back-propagate ``grad`` (d out / d root) from ``root``.

    Without ``inputs``: accumulate into every leaf's ``.grad`` (and retained non-leaves').
    With ``inputs`` (a sequence of tensors): the collection mode of ``autograd.grad`` and
    ``backward(inputs=...)``: no ``.grad`` anywhere is touched; the gradient reaching each
    input is returned in a dict ``{id(tensor): array or None}`` (None: not reached).
    """
    handed_out = {id(grad)}
    collect = None if inputs is None else {id(t): None for t in inputs}
    root_ctx = root._ctx
    if root_ctx is None:
        if collect is None:
            accumulate(root, array_module(grad).array(grad, dtype=root._data.dtype), handed_out)
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
    needed = None if collect is None else nodes_leading_to(order, collect, retained)
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
            raise freed_graph_error(ctx)
        if retained is not None and ctx in retained:
            if collect is None:
                accumulate(retained[ctx], g, handed_out)
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
                    accumulate(inp, ig, handed_out)
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


from deepgrad.autograd.hooks import (  # noqa: E402
    POST_ACCUMULATE_GRAD_HOOKS,
    PendingLeaves,
    run_hooks,
)
