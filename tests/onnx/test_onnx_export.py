"""deepgrad.onnx.export: ONNX Runtime (the oracle) computes what deepgrad computes, for every
layer, the model zoo and the ops; load() reads the graphs back."""

from __future__ import annotations

import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import deepgrad  # noqa: E402
from deepgrad import nn  # noqa: E402
from deepgrad.autograd.op import Op  # noqa: E402
from deepgrad.models import MODELS, get_model  # noqa: E402
from deepgrad.onnx.mapping import EXPORTERS  # noqa: E402

RTOL = 1e-5


def assert_matches(got, ref):
    """Equal to 1e-5 relative, measured against the output's largest magnitude (elementwise
    relative error is meaningless for outputs that cross zero)."""
    ref = np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    scale = max(float(np.abs(ref).max()), 1e-30) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=RTOL * scale)


def run_ort(proto, *xs):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, {n: x._data for n, x in zip(names, xs)})


def reference(model, *xs):
    model.eval()
    with deepgrad.no_grad():
        out = model(*xs)
    return out._data


def check_export(model, shape, batches=(3, 5), seed=0):
    """Export with a dynamic batch axis, check the graph, and compare ORT with deepgrad."""
    deepgrad.manual_seed(seed)
    x = deepgrad.randn(*shape) * 2
    buf = io.BytesIO()
    deepgrad.onnx.export(
        model, (x,), buf, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}
    )
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in batches:
        xb = deepgrad.randn(n, *shape[1:]) * 2
        (got,) = run_ort(proto, xb)
        assert_matches(got, reference(model, xb))
    return proto


def _built(layer, shape):
    """A lazy layer after its first call (it has become the eager layer)."""
    layer(deepgrad.randn(*shape))
    return layer


def _bn_built(layer, shape):
    _built(layer, shape)
    layer.weight.data = deepgrad.rand(*layer.weight.shape) + 0.5
    layer.running_mean.data = deepgrad.randn(*layer.running_mean.shape)
    layer.running_var.data = deepgrad.rand(*layer.running_var.shape) + 0.5
    return layer.eval()


def _bn(cls, *args, **kw):
    """A batch norm whose running statistics are not the initial ones."""
    layer = cls(*args, **kw)
    if layer.affine:
        layer.weight.data = deepgrad.rand(*layer.weight.shape) + 0.5
        layer.bias.data = deepgrad.randn(*layer.bias.shape)
    layer.running_mean.data = deepgrad.randn(*layer.running_mean.shape)
    layer.running_var.data = deepgrad.rand(*layer.running_var.shape) + 0.5
    return layer


LAYERS = {
    "Linear": [(lambda: nn.Linear(5, 3), (3, 5)), (lambda: nn.Linear(5, 3, bias=False), (3, 5)),
               (lambda: nn.Linear(5, 3), (3, 4, 5))],
    "Conv2d": [
        (lambda: nn.Conv2d(3, 4, 3), (2, 3, 8, 8)),
        (lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                           groups=2, bias=False), (2, 4, 9, 7)),
        (lambda: nn.Conv2d(2, 3, 4, padding="same"), (2, 2, 6, 5)),
        (lambda: nn.Conv2d(2, 3, 3, padding="valid", stride=3), (2, 2, 10, 8)),
        (lambda: nn.Conv2d(4, 4, 3, padding=1, groups=4), (2, 4, 5, 5)),
    ],
    "Conv1d": [(lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), (2, 3, 11))],
    "MaxPool2d": [
        (lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
        (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
        (lambda: nn.MaxPool2d((3, 2), stride=(1, 2), dilation=(2, 1)), (2, 2, 9, 8)),
    ],
    "MaxPool1d": [(lambda: nn.MaxPool1d(3, stride=2, ceil_mode=True), (2, 3, 10))],
    "AvgPool2d": [
        (lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
        (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 7)),
        (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 3, 8, 7)),
        (lambda: nn.AvgPool2d(3, 2, 1, divisor_override=5), (2, 3, 8, 8)),
    ],
    "AvgPool1d": [(lambda: nn.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9))],
    "AdaptiveAvgPool2d": [(lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
                          (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 6, 6))],
    "AdaptiveAvgPool1d": [(lambda: nn.AdaptiveAvgPool1d(3), (2, 3, 7))],
    "AdaptiveMaxPool2d": [(lambda: nn.AdaptiveMaxPool2d(2), (2, 3, 6, 4))],
    "BatchNorm1d": [(lambda: _bn(nn.BatchNorm1d, 5), (4, 5)),
                    (lambda: _bn(nn.BatchNorm1d, 3), (4, 3, 6))],
    "BatchNorm2d": [(lambda: _bn(nn.BatchNorm2d, 3), (2, 3, 4, 4)),
                    (lambda: _bn(nn.BatchNorm2d, 3, affine=False), (2, 3, 4, 4))],
    "SyncBatchNorm": [(lambda: _bn(nn.SyncBatchNorm, 3), (2, 3, 4, 4))],  # eval: a BatchNorm
    "Dropout": [(lambda: nn.Dropout(0.3), (3, 5))],
    "Flatten": [(lambda: nn.Flatten(), (2, 3, 4, 4)), (lambda: nn.Flatten(2, 3), (2, 3, 4, 4))],
    "Unflatten": [(lambda: nn.Unflatten(1, (2, 3)), (2, 6))],
    "Identity": [(lambda: nn.Identity(), (2, 6))],
    "Maxout": [(lambda: nn.Maxout(5, 3, pieces=3), (4, 5))],
    "ELU": [(lambda: nn.ELU(0.5), (3, 7))],
    "GELU": [(lambda: nn.GELU(), (3, 7)), (lambda: nn.GELU("tanh"), (3, 7))],
    "Hardtanh": [(lambda: nn.Hardtanh(-0.5, 0.7), (3, 7))],
    "LeakyReLU": [(lambda: nn.LeakyReLU(0.2), (3, 7))],
    "LogSoftmax": [(lambda: nn.LogSoftmax(dim=1), (3, 7))],
    "ReLU": [(lambda: nn.ReLU(), (3, 7))],
    "ReLU6": [(lambda: nn.ReLU6(), (3, 7))],
    "Sigmoid": [(lambda: nn.Sigmoid(), (3, 7))],
    "SiLU": [(lambda: nn.SiLU(), (3, 7))],
    "Softmax": [(lambda: nn.Softmax(dim=1), (3, 7))],
    "Softmin": [(lambda: nn.Softmin(dim=1), (3, 7))],
    "Softplus": [(lambda: nn.Softplus(), (3, 7)), (lambda: nn.Softplus(2.0, 3.0), (3, 7))],
    "Softsign": [(lambda: nn.Softsign(), (3, 7))],
    "Step": [(lambda: nn.Step(), (3, 7))],
    "Tanh": [(lambda: nn.Tanh(), (3, 7))],
    # layers the API census added (issue 14); lazy ones are built by a first call
    "Conv3d": [(lambda: nn.Conv3d(2, 3, (3, 2, 2), stride=2, padding=1), (2, 2, 5, 4, 4))],
    "Dropout2d": [(lambda: nn.Dropout2d(0.3), (2, 3, 4, 4))],
    "InstanceNorm2d": [(lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5))],
    "PixelShuffle": [(lambda: nn.PixelShuffle(2), (2, 8, 3, 3))],
    "LazyLinear": [(lambda: _built(nn.LazyLinear(4), (2, 6)), (3, 6))],
    "LazyConv2d": [(lambda: _built(nn.LazyConv2d(4, 3, padding=1), (1, 2, 5, 5)), (2, 2, 5, 5))],
    "LazyBatchNorm1d": [(lambda: _bn_built(nn.LazyBatchNorm1d(), (4, 5)), (4, 5))],
    "LazyBatchNorm2d": [(lambda: _bn_built(nn.LazyBatchNorm2d(), (2, 3, 4, 4)), (2, 3, 4, 4))],
}  # fmt: skip
CASES = [(name, i) for name, cases in LAYERS.items() for i in range(len(cases))]
NOT_LAYERS = {"Module", "LayerInputError", "Sequential", "ModuleList", "ModuleDict",
              "ParameterList", "ParameterDict"}  # fmt: skip


# Layers the census added whose gather patterns (integer arrays on inner axes) the exporter does
# not map: export refuses them with UnsupportedOpError naming the op and the layer.
NOT_EXPORTABLE = {
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), (2, 3, 4, 5)),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 2, 2, 0)), (2, 3, 4, 5)),
}


@pytest.mark.parametrize("name", sorted(NOT_EXPORTABLE))
def test_layers_without_an_onnx_mapping_are_refused(name):
    factory, shape = NOT_EXPORTABLE[name]
    with pytest.raises(deepgrad.onnx.UnsupportedOpError, match=rf"Index.*{name}"):
        deepgrad.onnx.export(factory(), deepgrad.randn(*shape), None)


def test_embedding_exports_and_matches_onnx_runtime():
    # its input is integer indices, not the float batch check_export feeds
    deepgrad.manual_seed(0)
    model = nn.Embedding(7, 3).eval()
    idx = deepgrad.tensor([[0, 6, 2], [3, 3, 1]])
    proto = deepgrad.onnx.export(model, (idx,), None)
    onnx.checker.check_model(proto, full_check=True)
    assert_matches(run_ort(proto, idx)[0], reference(model, idx))


def test_every_layer_has_an_export_case():
    exported_elsewhere = {"Embedding", *NOT_EXPORTABLE}  # tested in their own tests below
    layers = {n for n in nn.modules.__all__ if n not in NOT_LAYERS and not n.endswith("Loss")}
    layers -= exported_elsewhere
    assert layers - set(LAYERS) == set(), "layers without an ONNX export test"


@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_layer_exports_and_matches_onnx_runtime(name, i):
    factory, shape = LAYERS[name][i]
    deepgrad.manual_seed(i)
    check_export(factory(), shape)


ZOO_INPUTS = {"logistic": (3, 2)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_zoo_model_exports_and_matches_onnx_runtime(name):
    deepgrad.manual_seed(1)
    check_export(get_model(name), ZOO_INPUTS.get(name, (3, 1, 28, 28)))


class Ops(nn.Module):
    """Tensor-level ops outside the layers: reductions, shapes, indexing, arithmetic."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(deepgrad.randn(4, 3))

    def forward(self, x):  # x: (N, 2, 4)
        y = x @ self.w  # (N, 2, 3)
        a = y.exp().log() + y.abs().sqrt() - y.sin() * y.cos() / 2
        b = (y.erf() ** 2 + y.pow(3)).clamp(-2.0, 3.0)
        c = deepgrad.maximum(a, b) - deepgrad.minimum(a, -b)
        d = deepgrad.where(y > 0, c, -c)
        s = d.sum(dim=1, keepdim=True) + d.mean() + d.var(dim=2, keepdim=True)
        s = s + d.norm(dim=2, keepdim=True) + d.norm(p=1, dim=1, keepdim=True)
        s = s + d.norm(p=3, dim=2, keepdim=True) + d.norm(p=float("inf"), dim=1, keepdim=True)
        m = s.amax(dim=1, keepdim=True) + s.max(dim=2).values.unsqueeze(-1)
        m = m + s.logsumexp(dim=2, keepdim=True)  # (N, 2, 3)
        p = m[:, :1, :].expand(-1, 4, 3).permute(0, 2, 1)  # (N, 3, 4)
        q = deepgrad.cat([p[:, 1:, ::2], p[:, :2, :2]], dim=1)
        r = deepgrad.stack([q, -q], dim=1).flatten(1) * x[:, 0, None, 1]
        out = r.tanh().sigmoid().relu() + r.max() - x[..., -1].sum(1, keepdim=True)
        return out[:, [0, 3, 3, 15]]  # an integer array: Gather


class CensusOps(nn.Module):
    """The ops the API census added (issue 14), on (N, 3, 3) inputs."""

    def forward(self, x):
        y = x.tanh() * 0.9
        a = y.asin() + y.cosh() + y.sinh() + deepgrad.log1p(y.abs())
        b = y.sign() + (y * 3).floor() + (y * 3).ceil() + (y * 3).round()
        c = y.cumsum(dim=1) + y.prod(dim=2, keepdim=True)
        return a + b + c + deepgrad.det(x)[:, None, None]


def test_census_ops_export_and_match_onnx_runtime():
    check_export(CensusOps(), (3, 3, 3))


def test_tensor_ops_export_and_match_onnx_runtime():
    deepgrad.manual_seed(2)
    check_export(Ops(), (3, 2, 4))


NO_MAPPING = {"MSELoss", "L1Loss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits",
              "CrossEntropy", "NLLLoss", "MultiMarginLoss", "KLDivergence",
              "SyncBatchNormOp"}  # fmt: skip  # losses; SyncBatchNorm's op runs only in training
# no ONNX op: SVD; CumProd; custom autograd.Functions run Python code
NO_MAPPING |= {"SVD", "CumProd", "FunctionBackward", "_CustomNode"}


def _ops():
    todo, seen = [Op], set()
    while todo:
        for sub in todo.pop().__subclasses__():
            # The node classes made for users' autograd.Function subclasses (which carry their
            # ``function``) are not deepgrad's ops, whichever test module defined them.
            if "function" in vars(sub):
                continue
            if sub.__module__.startswith("deepgrad.") and sub.__name__ not in seen:
                seen.add(sub.__name__)
                todo.append(sub)
    return seen


def test_every_op_maps_or_is_a_loss():
    assert _ops() - set(EXPORTERS) - NO_MAPPING == set()


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets(opset):
    deepgrad.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.LogSoftmax(1))
    x = deepgrad.randn(2, 4)
    proto = deepgrad.onnx.export(model, x, None, opset_version=opset)
    assert proto.opset_import[0].version == opset
    assert_matches(run_ort(proto, x)[0], reference(model, x))


class UsesALoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 2), nn.MSELoss())

    def forward(self, x):
        return self.body[1](self.body[0](x), x[:, :2])


def test_unsupported_op_is_refused_naming_op_and_module():
    with pytest.raises(deepgrad.onnx.UnsupportedOpError, match=r"MSELoss.*'body\.1'"):
        deepgrad.onnx.export(UsesALoss(), deepgrad.randn(2, 3), None)


def test_names_and_files(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    path = tmp_path / "m.onnx"
    deepgrad.onnx.export(model, (deepgrad.randn(4, 3),), str(path), input_names=["pixels"],
                         output_names=["scores"])  # fmt: skip
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["pixels"]
    assert [o.name for o in proto.graph.output] == ["scores"]
    assert {t.name for t in proto.graph.initializer} == {"0.weight", "0.bias"}
    assert model.training  # export ran in eval mode and put the mode back


# ----------------------------------------------------------------------------- load
def _param_count(model):
    return sum(p.numel() for p in model.parameters())


ROUND_TRIP = [*(f"{n}-{i}" for n, i in CASES), *(f"zoo-{n}" for n in sorted(MODELS)), "ops"]


def _round_trip_case(case):
    if case == "ops":
        return Ops(), (3, 2, 4)
    if case.startswith("zoo-"):
        name = case[4:]
        return get_model(name), ZOO_INPUTS.get(name, (3, 1, 28, 28))
    name, i = case.rsplit("-", 1)
    factory, shape = LAYERS[name][int(i)]
    return factory(), shape


@pytest.mark.parametrize("case", ROUND_TRIP)
def test_round_trip_export_load_forward(case):
    deepgrad.manual_seed(4)
    model, shape = _round_trip_case(case)
    x = deepgrad.randn(*shape) * 2
    proto = deepgrad.onnx.export(model, x, None)
    loaded = deepgrad.onnx.load(proto)
    assert isinstance(loaded, nn.Module) and not loaded.training
    assert _param_count(loaded) == _param_count(model)
    assert_matches(reference(loaded, x), reference(model, x))


def test_loaded_model_summarises_and_fine_tunes(tmp_path):
    deepgrad.manual_seed(5)
    model = get_model("cnn")
    path = tmp_path / "cnn.onnx"
    deepgrad.onnx.export(model, deepgrad.randn(2, 1, 28, 28), path)
    loaded = deepgrad.onnx.load(path)
    assert isinstance(loaded, nn.Sequential)
    assert [type(m).__name__ for m in loaded] == [type(m).__name__ for m in model]
    text = str(deepgrad.summary(loaded, (1, 1, 28, 28)))
    assert "Conv2d" in text
    from deepgrad.viz import draw_graph

    out = loaded(deepgrad.randn(1, 1, 28, 28))
    drawing = draw_graph(out, model=loaded)
    assert "Conv2d" in drawing.source or "conv" in drawing.source.lower()
    loaded.train()
    x, y = deepgrad.randn(4, 1, 28, 28), deepgrad.tensor([0, 1, 2, 3])
    opt = deepgrad.optim.SGD(loaded.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        loss = nn.functional.cross_entropy(loaded(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_load_refuses_an_unknown_node_by_name():
    from onnx import TensorProto, helper

    node = helper.make_node("Hardmax", ["x"], ["y"], name="the_hardmax")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )  # fmt: skip
    with pytest.raises(deepgrad.onnx.UnsupportedNodeError, match="the_hardmax.*Hardmax"):
        deepgrad.onnx.load(helper.make_model(graph))


def test_docs_table_is_the_mapping():
    from pathlib import Path

    from deepgrad.onnx.mapping import onnx_ops

    text = (Path(__file__).resolve().parents[2] / "docs" / "ONNX.md").read_text()
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            op, ops = (cell.strip() for cell in line.strip("|").split("|"))
            rows[op.strip("`")] = ops
    assert rows == {op: onnx_ops(op) for op in EXPORTERS}
    assert f"**opset {deepgrad.onnx.DEFAULT_OPSET}**" in text


def test_graph_module_summarises_and_fine_tunes():
    """Conv1d exports with a reshape of its weight, so it loads as a GraphModule whose
    parameter the reshape reads; gradients must reach it."""
    deepgrad.manual_seed(6)
    model = nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6, 2))
    x = deepgrad.randn(4, 2, 8)
    loaded = deepgrad.onnx.load(deepgrad.onnx.export(model, x, None))
    assert isinstance(loaded, deepgrad.onnx.GraphModule)
    assert _param_count(loaded) == _param_count(model)
    assert "OnnxOp" in str(deepgrad.summary(loaded, (1, 2, 8)))
    loaded.train()
    loss = nn.functional.cross_entropy(loaded(x), deepgrad.tensor([0, 1, 0, 1]))
    loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in loaded.parameters())


def test_tracing_leaves_other_threads_alone():
    """While one thread exports, ops and comparisons in other threads record nothing."""
    import threading

    seen = {}

    def other():
        a = deepgrad.randn(3, requires_grad=True)
        y = a * 2
        seen["trace"] = hasattr(y._ctx, "_trace")
        seen["compare"] = (a > 0)._ctx

    class Probe(nn.Module):
        def forward(self, x):
            t = threading.Thread(target=other)
            t.start()
            t.join()
            return x * 3

    deepgrad.onnx.export(Probe(), deepgrad.randn(2), None)
    assert seen == {"trace": False, "compare": None}
    a = deepgrad.randn(3, requires_grad=True)
    assert (a > 0)._ctx is None and not hasattr((a * 2)._ctx, "_trace")  # all undone


TORCH_MODELS = {
    "mlp": (lambda t: t.nn.Sequential(t.nn.Flatten(), t.nn.Linear(12, 8), t.nn.GELU(),
                                      t.nn.Linear(8, 6), t.nn.LeakyReLU(0.1), t.nn.Linear(6, 3),
                                      t.nn.LogSoftmax(1)), (2, 3, 4)),
    "cnn": (lambda t: t.nn.Sequential(t.nn.Conv2d(2, 4, 3, padding=1, stride=2),
                                      t.nn.BatchNorm2d(4), t.nn.ELU(), t.nn.AvgPool2d(2),
                                      t.nn.Conv2d(4, 3, 1), t.nn.Tanh(), t.nn.MaxPool2d(2),
                                      t.nn.Flatten(), t.nn.Linear(12, 2), t.nn.Sigmoid()),
            (2, 2, 16, 16)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TORCH_MODELS))
def test_load_a_model_exported_by_pytorch(name, tmp_path):
    """A graph written by PyTorch's exporter (the oracle computes the same outputs)."""
    import warnings

    import torch

    build, shape = TORCH_MODELS[name]
    torch.manual_seed(0)
    model = build(torch).eval()
    x = torch.randn(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(tmp_path / "t.onnx"), dynamo=False, opset_version=20)
    loaded = deepgrad.onnx.load(tmp_path / "t.onnx")
    assert_matches(reference(loaded, deepgrad.tensor(x.numpy())), model(x).detach().numpy())


def test_load_refuses_a_second_output_in_use():
    from onnx import TensorProto, helper

    node = helper.make_node("MaxPool", ["x"], ["y", "idx"], name="pool", kernel_shape=[2, 2])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("idx", TensorProto.INT64, [1, 1, 2, 2])],
    )  # fmt: skip
    with pytest.raises(deepgrad.onnx.UnsupportedNodeError, match="'pool'.*'idx'"):
        deepgrad.onnx.load(helper.make_model(graph))


def test_batch_norm_in_training_mode_is_refused():
    """export() runs the model in eval mode; called on the traced op directly, training-mode
    batch statistics have no ONNX form."""
    from deepgrad.onnx.export import UnsupportedOpError

    class TrainBN(nn.Module):
        def forward(self, x):
            return nn.functional.batch_norm(x, None, None, training=True)

    with pytest.raises(UnsupportedOpError, match=r"BatchNorm \(training mode\)"):
        deepgrad.onnx.export(TrainBN(), deepgrad.randn(4, 3), None)
