"""Walking the recorded graph: the order backward visits nodes in, and which nodes it needs.

Nodes are the ``Op`` instances (``tensor._ctx``); they hash by identity, which keeps the sets
and dicts of a walk cheap.
"""

from __future__ import annotations


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


def nodes_leading_to(order: list, collect: dict, retained: dict) -> set:
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


def depth_first_order(roots, inputs_of) -> list:
    """Every node reachable from ``roots`` through ``inputs_of(node)``, each listed after all
    the nodes it was made from, each once (nodes are told apart by identity).

    The walk of tools that choose their own nodes (ops for an export, tensors for a drawing).
    Depth first with an explicit stack, so long chains do not hit the recursion limit; of a
    node's inputs, the last one ``inputs_of`` yields is walked first.
    """
    order, seen = [], set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for inp in inputs_of(node):
                if id(inp) not in seen:
                    stack.append((inp, False))
    return order
