"""``export``: a deepgrad model as an ONNX graph, traced from one forward pass."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

import onnx
from deepgrad.autograd.graph import depth_first_order
from deepgrad.onnx.builder import GraphBuilder
from deepgrad.onnx.mapping import EXPORTERS, Call, NoMapping
from deepgrad.onnx.trace import trace
from deepgrad.tensor import Tensor
from onnx import checker, helper

DEFAULT_OPSET = 17
"""The opset deepgrad writes unless told otherwise: read by ONNX Runtime (also onnxruntime-web
and mobile) and every serving stack of the last years."""

SUPPORTED_OPSETS = range(13, 22)


class UnsupportedOpError(RuntimeError):
    """An op of the traced forward pass has no ONNX mapping."""


def _dims(shape, dynamic: dict) -> list:
    return [dynamic.get(i, n) for i, n in enumerate(shape)]


def _dynamic(dynamic_axes, name: str) -> dict:
    axes = (dynamic_axes or {}).get(name)
    if axes is None:
        return {}
    if isinstance(axes, Mapping):
        return {int(i): str(v) for i, v in axes.items()}
    return {int(i): f"{name}_dynamic_axes_{k + 1}" for k, i in enumerate(axes)}


def _topological(outputs: list[Tensor]) -> list:
    """The op nodes behind ``outputs``, each after the nodes of its inputs."""
    roots = [out._ctx for out in outputs if out._ctx is not None]
    return depth_first_order(roots, lambda ctx: [t._ctx for t in ctx.inputs if t._ctx is not None])


def build_onnx(
    model,
    args,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping | None = None,
    opset_version: int | None = None,
) -> onnx.ModelProto:
    """The checked ``onnx.ModelProto`` of ``model(*args)`` (``export`` without the file)."""
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset not in SUPPORTED_OPSETS:
        raise ValueError(
            f"onnx.export: opset_version {opset} is not supported; deepgrad writes opsets "
            f"{SUPPORTED_OPSETS.start} to {SUPPORTED_OPSETS.stop - 1} (default {DEFAULT_OPSET})"
        )
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    if not args or not all(isinstance(a, Tensor) for a in args):
        raise TypeError("onnx.export: args must be a tensor or a tuple of tensors (the inputs)")
    training = model.training
    model.eval()  # as torch.onnx.export's default TrainingMode.EVAL: dropout off, BN running stats
    try:
        inputs, outputs = trace(model, args)
    finally:
        model.train(training)

    in_names = list(input_names or [])
    in_names += [
        f"input_{i}" if len(args) > 1 else "input" for i in range(len(in_names), len(args))
    ]
    out_names = list(output_names or [])
    out_names += [
        f"output_{i}" if len(outputs) > 1 else "output" for i in range(len(out_names), len(outputs))
    ]
    b = GraphBuilder(opset)
    for n in in_names + out_names:
        b.fresh(n)

    names: dict[int, str] = {id(t): n for t, n in zip(inputs, in_names)}
    params = {id(p): n for n, p in model.named_parameters()}
    buffers = {id(t): n for n, t in model.named_buffers()}
    arrays = {id(t._data): n for n, t in model.named_buffers()}
    used_arrays: dict[int, str] = {}

    def value(t: Tensor) -> str:
        key = id(t._ctx) if t._ctx is not None else id(t)
        if key in names:
            return names[key]
        name = params.get(id(t)) or buffers.get(id(t))
        if name is not None:
            names[key] = b.initializer(t._data, name)
        else:
            names[key] = b.const(t._data)
        return names[key]

    for ctx in _topological(outputs):
        op = type(ctx).op_name()
        info = getattr(ctx, "_trace", None)
        if info is None:  # an op the tracer could not see into (not one of deepgrad's)
            raise UnsupportedOpError(
                f"onnx.export: op {op} has no ONNX mapping (it is not one of deepgrad's ops)"
            )
        call = Call(
            op=op,
            inputs=[value(t) for t in ctx.inputs],
            params=info.params,
            in_shapes=[tuple(t.shape) for t in ctx.inputs],
            shape=info.shape,
            dtype=np.dtype(info.dtype),
            ctx=ctx,
            module=info.module,
            names=used_arrays,
        )
        for key in ("mean", "var"):  # BatchNorm's running statistics are buffers
            arr = info.params.get(key)
            if arr is not None and id(arr) in arrays:
                used_arrays[id(arr)] = b.initializer(arr, arrays[id(arr)])
        fn = EXPORTERS.get(op)
        try:
            if fn is None:
                raise NoMapping(op)
            names[id(ctx)] = fn(b, call)
        except NoMapping as e:
            what = e.args[0] if e.args else op
            raise UnsupportedOpError(
                f"onnx.export: op {what} (called by module {info.module!r}, "
                f"{type(_module(model, info.module)).__name__}) has no ONNX mapping. Export "
                "the model without it (losses belong outside the exported model), or see "
                "docs/ONNX.md for the ops that export."
            ) from None

    graph_outputs = []
    for t, name in zip(outputs, out_names):
        produced = value(t)
        if produced in b.initializers or produced in in_names or produced in out_names:
            b.node("Identity", [produced], out=name)
        else:
            _rename(b, produced, name)
            names[id(t._ctx) if t._ctx is not None else id(t)] = name
        elem = helper.np_dtype_to_tensor_dtype(t._data.dtype)
        dims = _dims(t.shape, _dynamic(dynamic_axes, name))
        graph_outputs.append(helper.make_tensor_value_info(name, elem, dims))
    graph_inputs = []
    for t, name in zip(inputs, in_names):
        elem = helper.np_dtype_to_tensor_dtype(t._data.dtype)
        dims = _dims(t.shape, _dynamic(dynamic_axes, name))
        graph_inputs.append(helper.make_tensor_value_info(name, elem, dims))

    graph = helper.make_graph(
        b.nodes,
        type(model).__name__,
        graph_inputs,
        graph_outputs,
        initializer=list(b.initializers.values()),
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="deepgrad")
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    checker.check_model(proto, full_check=True)
    return proto


def _rename(b: GraphBuilder, old: str, new: str) -> None:
    for node in b.nodes:
        for i, n in enumerate(node.output):
            if n == old:
                node.output[i] = new
        for i, n in enumerate(node.input):
            if n == old:
                node.input[i] = new


def _module(model, path: str):
    try:
        return model.get_submodule(path) if path != "<model>" else model
    except (AttributeError, KeyError):  # pragma: no cover - the path came from named_modules
        return model


def export(
    model,
    args=(),
    f: str | os.PathLike | None = None,
    *,
    kwargs=None,
    verbose: bool | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping | None = None,
    export_params: bool = True,
    training=None,
    **ignored,
) -> onnx.ModelProto:
    """Export ``model`` to ONNX by running ``model(*args)`` once and recording its ops.

    As ``torch.onnx.export`` (the TorchScript-style arguments): ``args`` are example inputs
    (a tensor or a tuple), ``f`` a path or binary file, ``input_names``/``output_names``
    name the graph's values (default ``input``/``output``), ``dynamic_axes`` maps a name to
    the axes that may vary (``{"input": {0: "batch"}, "output": {0: "batch"}}`` or a list of
    axes), ``opset_version`` defaults to 17. The model runs in eval mode (dropout off,
    batch norm with its running statistics) and is put back as it was.

    Deviations, on purpose: the checked ``onnx.ModelProto`` is also returned, ``f=None``
    writes nothing, and the arguments of the other exporters (``dynamo``, ``optimize`` ...)
    are accepted and ignored. Control flow is traced, not captured: the graph is the path that
    this forward pass took. An op without an ONNX mapping raises ``UnsupportedOpError``
    naming the op and the module that called it.
    """
    if kwargs:
        raise TypeError("onnx.export: keyword inputs (kwargs=) are not supported; pass args")
    if training not in (None, 0) and str(training).upper().rsplit(".", 1)[-1] != "EVAL":
        raise ValueError("onnx.export: deepgrad exports inference graphs only (training=EVAL)")
    if not export_params:
        raise ValueError(
            "onnx.export: export_params=False is not supported; the weights are needed"
        )
    proto = build_onnx(model, args, input_names, output_names, dynamic_axes, opset_version)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if f is not None:
        onnx.save_model(proto, f)
    return proto
