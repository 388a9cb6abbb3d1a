"""``autograd.graph.depth_first_order``: the graph walk of ONNX export and graph drawing."""

import sys

import deepgrad as dg
from deepgrad.autograd.graph import depth_first_order


def _tensor_inputs(t):
    return t._ctx.inputs if t._ctx is not None else ()


def _reachable(roots) -> dict:
    found, todo = {}, list(roots)
    while todo:
        t = todo.pop()
        if id(t) not in found:
            found[id(t)] = t
            todo.extend(_tensor_inputs(t))
    return found


def test_every_reachable_tensor_once_and_after_its_inputs():
    dg.manual_seed(0)
    a = dg.randn(3, 4, requires_grad=True)
    b = dg.randn(4, 2, requires_grad=True)
    h = (a @ b).relu()
    c = h * h + h.sum()  # h is used three times: a diamond
    loss = (c.exp() - a.sum()).tanh().mean() + c.sum()
    order = depth_first_order([loss, c], _tensor_inputs)
    assert sorted(map(id, order)) == sorted(_reachable([loss, c]))
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        assert all(position[id(inp)] < position[id(t)] for inp in _tensor_inputs(t))


def test_a_chain_longer_than_the_recursion_limit():
    x = dg.ones(1, requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() + 100):
        y = y * 1.0
    order = depth_first_order([y], _tensor_inputs)
    assert order[-1] is y and any(t is x for t in order)
    assert sorted(map(id, order)) == sorted(_reachable([y]))


def test_the_last_input_is_walked_first():
    a = dg.ones(2, requires_grad=True)
    b = dg.ones(2, requires_grad=True)
    s = a + b
    walked = [id(t) for t in depth_first_order([s], _tensor_inputs)]
    assert walked == [id(b), id(a), id(s)]
