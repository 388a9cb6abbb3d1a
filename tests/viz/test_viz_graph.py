"""draw_graph: the drawn graph checked node by node against the computation (PyTorch computes
the values and gradients it must show), collapsing of big graphs, and the output formats."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from deepgrad.viz import draw_graph, retain_grads, track_modules
from deepgrad.viz import graph as graph_module

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def _course_example(retain=True):
    """Seed 002: f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4."""
    x = deepgrad.tensor(-2.0, requires_grad=True)
    y = deepgrad.tensor(5.0, requires_grad=True)
    z = deepgrad.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    if retain:
        retain_grads(f)
    f.backward()
    return x, y, z, q, f


def _torch_course_example():
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    q.retain_grad()
    f = q * z
    f.retain_grad()
    f.backward()
    return {"x": x, "y": y, "z": z, "q": q, "f": f}


def test_course_example_node_by_node():
    x, y, z, q, f = _course_example()
    d = draw_graph(f, params={"x": x, "y": y, "z": z, "q": q, "f": f})
    ref = _torch_course_example()

    tensors = [n for n in d.nodes if n.kind == "tensor"]
    assert sorted(n.name for n in tensors) == ["f", "q", "x", "y", "z"]
    assert [n.op for n in d.ops()] == ["Add", "Mul"]
    assert len(d.nodes) == 7 and len(d.edges) == 6

    for name, t in ref.items():
        node = d[name]
        assert node.shape == () and node.dtype == "float32"
        assert node.value == pytest.approx(t.item())
        assert node.grad == pytest.approx(t.grad.item())
        assert f"value {t.item():g}" in node.label
        assert f"grad {t.grad.item():g}" in node.label
    # the lecture's numbers: q = 3, f = -12, df/dx = df/dy = z = -4, df/dz = q = 3
    assert (d["q"].value, d["f"].value) == (3, -12)
    assert (d["x"].grad, d["y"].grad, d["z"].grad, d["q"].grad) == (-4, -4, 3, -4)

    add, mul = d.ops()
    assert [n.name for n in d.inputs_of(add)] == ["x", "y"]
    assert [n.name for n in d.outputs_of(add)] == ["q"]
    assert [n.name for n in d.inputs_of(mul)] == ["q", "z"]
    assert [n.name for n in d.outputs_of(mul)] == ["f"]
    assert d["f"].is_root and not d["q"].is_leaf and d["x"].is_leaf

    # the DOT text holds every node (with its label) and every edge
    for n in d.nodes:
        assert re.search(rf"^\s*{n.id} \[label=<", d.source, re.M), n.id
    for a, b in d.edges:
        assert f"{a} -> {b};" in d.source
    assert "<B>Add</B>" in d.source and "<B>Mul</B>" in d.source


def test_intermediate_grads_need_retain_grads():
    x, y, z, q, f = _course_example(retain=False)
    d = draw_graph(f, params={"x": x, "q": q})
    assert d["q"].grad is None and "grad" not in d["q"].label
    assert d["x"].grad == pytest.approx(-4.0)  # leaves always have theirs
    unnamed = [n for n in d.nodes if n.kind == "tensor" and n.name is None]
    assert {float(n.value) for n in unnamed} == {5.0, -4.0, -12.0}


def test_show_values_and_grads_switches_and_big_tensors():
    x, y, z, q, f = _course_example()
    d = draw_graph(f, show_values=False, params={"x": x})
    assert d["x"].value is None and "value" not in d.source
    assert d["x"].grad == pytest.approx(-4.0)
    d = draw_graph(f, show_grads=False, params={"x": x})
    assert d["x"].grad is None and graph_module._GRAD_COLOR not in d.source
    w = deepgrad.randn(3, 4, requires_grad=True)  # 12 elements: more than max_values=6
    out = (w * 2).sum()
    out.backward()
    d = draw_graph(out, params={"w": w})
    assert d["w"].value is None and d["w"].grad is None
    assert "(3, 4) float32" in d["w"].label
    d = draw_graph(out, params={"w": w}, max_values=12)
    np.testing.assert_array_equal(d["w"].grad, np.full((3, 4), 2.0, np.float32))


def test_python_scalars_are_written_into_the_op():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = 1 - x * 0.5  # two ops with a constant each
    d = draw_graph(y, params={"x": x})
    assert [n.label for n in d.ops()] == ["Mul(·, 0.5)", "Sub(1, ·)"]
    assert len([n for n in d.nodes if n.kind == "tensor"]) == 3  # x, 0.5x, y
    np.testing.assert_allclose(d.nodes[-1].value, [0.5, 0.0])


def test_shared_input_is_one_node_copy_gate():
    # the course's "copy gate": a tensor used twice is one node with two outgoing edges,
    # and its gradient is the sum of both branches
    a = deepgrad.tensor(3.0, requires_grad=True)
    out = a * a + a
    out.backward()
    d = draw_graph(out, params={"a": a})
    assert len(d.outputs_of("a")) == 2  # Mul (both operands are the same node) and Add
    ta = torch.tensor(3.0, requires_grad=True)
    (ta * ta + ta).backward()
    assert d["a"].grad == pytest.approx(ta.grad.item())


def _mlp():
    deepgrad.manual_seed(4)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_parameters_named_by_module_path():
    model = _mlp()
    x, y = deepgrad.randn(5, 3), deepgrad.randint(0, 2, (5,))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for d, typ in (
        (draw_graph(loss, model=model), " · Linear"),
        (draw_graph(loss, params=dict(model.named_parameters())), ""),  # no types known
    ):
        tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        for name, p in tmodel.named_parameters():  # the names and shapes torch uses
            assert d[name].shape == tuple(p.shape)
            assert d[name].is_param
        linears = [n for n in d.ops() if n.op == "Linear"]
        assert [[i.name for i in d.inputs_of(op)][1:] for op in linears] == [
            ["0.weight", "0.bias"],
            ["2.weight", "2.bias"],
        ]
        # the 2-element bias of the last layer is small enough to show its gradient
        np.testing.assert_allclose(d["2.bias"].grad, model[2].bias.grad._data)
        # an op that consumes a layer's parameters is that layer's: boxed in a cluster
        assert set(d.clusters) == {"0" + typ, "2" + typ}


def test_track_modules_boxes_every_layer_and_collapses_them():
    model = _mlp()
    x = deepgrad.randn(5, 3)
    with track_modules(model):
        out = model(x).sum()
    d = draw_graph(out, collapse=None)
    assert set(d.clusters) == {"0 · Linear", "1 · ReLU", "2 · Linear"}
    assert d["0.weight"].is_param  # names recorded without model=
    d = draw_graph(out, collapse="modules")
    modules = [n for n in d.nodes if n.kind == "module"]
    assert [(n.name, n.op) for n in modules] == [
        (p, type(m).__name__) for p, m in model.named_modules() if p
    ]
    assert "weight (4, 3)" in modules[0].label and "bias (4,)" in modules[0].label
    assert not [n for n in d.nodes if n.is_param]  # folded into their layers
    assert [n.op for n in d.ops()] == ["Sum"]


def test_a_layer_called_twice_gives_two_nodes():
    model = nn.Sequential(nn.Linear(3, 3))
    x = deepgrad.randn(2, 3)
    with track_modules(model):
        out = model(model(x)).sum()
    d = draw_graph(out, collapse="modules")
    assert [n.label.split("\n")[0] for n in d.nodes if n.kind == "module"] == [
        "0 · Linear",
        "0 · Linear (call 2)",
    ]
    # the shared weight is used by both calls, so it stays a node feeding both
    assert [n.label.split("\n")[0] for n in d.outputs_of("0.weight")] == [
        "0 · Linear",
        "0 · Linear (call 2)",
    ]


def _deep_mlp(blocks: int):
    layers = [nn.Linear(4, 8)]
    for _ in range(blocks):
        layers += [nn.ReLU(), nn.Linear(8, 8)]
    layers += [nn.ReLU(), nn.Linear(8, 1)]
    return nn.Sequential(*layers)


def test_thousand_node_graph_collapses_repeated_blocks():
    blocks = 170
    model = _deep_mlp(blocks)
    out = model(deepgrad.randn(2, 4)).pow(2).mean()
    full = draw_graph(out, model=model, collapse=None)
    n_linear, n_relu = blocks + 2, blocks + 1
    ops = n_linear + n_relu + 2  # + PowScalar + Mean
    tensors = 1 + 2 * n_linear + ops  # input, weights and biases, one output per op
    assert len(full.nodes) == ops + tensors > 1000
    d = draw_graph(out, model=model)  # "auto": modules, then repeats
    assert len(d.nodes) < 40
    (rep,) = [n for n in d.nodes if n.kind == "repeat"]
    # (ReLU, Linear 8x8) repeats `blocks` times; the first and last stay visible
    assert rep.count == blocks - 2
    assert rep.parts == ["ReLU", "Linear"]
    # every remaining edge joins remaining nodes, and the root is still there
    ids = {n.id for n in d.nodes}
    assert all(a in ids and b in ids for a, b in d.edges)
    assert d.nodes[-1].is_root
    # repeats alone work on plain ops too
    r = draw_graph(out, collapse="repeats")
    assert [n.count for n in r.nodes if n.kind == "repeat"] == [blocks - 2]


def test_repeats_keep_a_shared_weight_visible():
    # an unrolled recurrence h <- tanh(h W), 20 steps: W feeds every step, so it stays and
    # feeds the collapsed node too. The first MatMul also takes the data h0, so the repeated
    # block is (Tanh, MatMul), 19 times; the first and last stay visible.
    w = deepgrad.randn(3, 3, requires_grad=True)
    h = deepgrad.randn(1, 3)
    for _ in range(20):
        h = (h @ w).tanh()
    d = draw_graph(h.sum(), params={"w": w}, collapse="repeats")
    (rep,) = [n for n in d.nodes if n.kind == "repeat"]
    assert rep.count == 17 and rep.parts == ["Tanh", "MatMul"]
    assert rep in d.outputs_of("w")


def test_errors_name_the_fix(tmp_path):
    x, y, z, q, f = _course_example()
    with pytest.raises(TypeError, match="deepgrad Tensor"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="collapse"):
        draw_graph(f, collapse="layers")
    with pytest.raises(ValueError, match=r"\.svg"):
        draw_graph(f, tmp_path / "f.jpeg")


def test_dot_text_without_graphviz(tmp_path, monkeypatch):
    x, y, z, q, f = _course_example()
    d = draw_graph(f, tmp_path / "f.dot")
    assert (tmp_path / "f.dot").read_text() == d.source == str(d)
    monkeypatch.setattr(graph_module, "_dot_program", lambda: None)
    with pytest.warns(UserWarning, match="Graphviz"):
        d = draw_graph(f, tmp_path / "g.svg")
    assert d.path == tmp_path / "g.dot" and d.path.read_text().startswith("digraph")
    assert d._repr_mimebundle_() == {"text/plain": d.source}


@needs_dot
def test_renders_svg_and_png(tmp_path):
    x, y, z, q, f = _course_example()
    d = draw_graph(f, tmp_path / "f.svg", params={"x": x, "q": q})
    svg = (tmp_path / "f.svg").read_text()
    assert "<svg" in svg and ">Add<" in svg and ">q<" in svg and "grad &#45;4" in svg
    assert "image/svg+xml" in d._repr_mimebundle_()
    d.save(tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nested_model_paths_like_the_course_mlp():
    class MLP(nn.Module):  # seed 004's MyTwoLayerMLP
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))

        def forward(self, x):
            return self.layers(x)

    model = MLP()
    out = model(deepgrad.randn(4, 3)).mean()
    d = draw_graph(out, model=model)
    expected = [n for n, _ in model.named_parameters()]
    assert expected == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert [n.name for n in d.nodes if n.is_param] == expected
    assert set(d.clusters) == {"layers.0 · Linear", "layers.2 · Linear"}
    d = draw_graph(out, model=model, collapse="modules")
    assert [n.name for n in d.nodes if n.kind == "module"] == ["layers.0", "layers.2"]
    assert [n.op for n in d.ops()] == ["ReLU", "Mean"]  # no layer owns them without tracking
