"""``load``: an ONNX graph as a deepgrad ``nn.Module`` that can be summarised, drawn,
evaluated and fine-tuned.

Nodes that are layers of deepgrad become those layers, their weights taken from the graph's
initializers: Gemm -> ``nn.Linear``, Conv -> ``nn.Conv2d``/``nn.Conv1d``, MaxPool and
AveragePool -> the pools, BatchNormalization -> ``nn.BatchNorm1d``/``2d``, Relu, Sigmoid, Tanh,
LeakyRelu, Elu, Softsign, Softmax, LogSoftmax, Clip -> the activations, Flatten -> ``nn.Flatten``.
Every other node whose op deepgrad has becomes an ``OnnxOp`` module that runs it with tensor ops
(so gradients flow). A chain of nodes loads as ``nn.Sequential``, any other graph as a
``GraphModule`` that runs its nodes in order. Initializers named ``_const...`` (written by
``deepgrad.onnx.export``) are constants; every other floating-point initializer is a parameter.
"""

from __future__ import annotations

import re

import numpy as np

import onnx
from deepgrad import nn
from deepgrad.functions import cat
from deepgrad.nn.parameter import Parameter
from deepgrad.ops import conv as _C
from deepgrad.ops import elementwise as _E
from deepgrad.tensor import Tensor, _wrap, where
from onnx import helper, numpy_helper, shape_inference


class UnsupportedNodeError(ValueError):
    """An ONNX node whose op (or attributes) deepgrad cannot run."""


def _attrs(node) -> dict:
    def text(v):  # string attributes come as bytes
        return v.decode() if isinstance(v, bytes) else v

    return {a.name: text(helper.get_attribute_value(a)) for a in node.attribute}


def _const_ints(t) -> list[int]:
    return [int(v) for v in np.asarray(t._data if isinstance(t, Tensor) else t).reshape(-1)]


def _reduce(method, **options):
    def run(x, axes=None, *, keepdims=1, axes_attr=None, noop_with_empty_axes=0):
        dims = axes_attr if axes is None else _const_ints(axes)
        dims = tuple(range(x.ndim)) if dims is None or len(dims) == 0 else tuple(dims)
        return getattr(x, method)(dim=dims, keepdim=bool(keepdims), **options)

    return run


def _slice(x, starts, ends, axes=None, steps=None):
    starts, ends = _const_ints(starts), _const_ints(ends)
    axes = _const_ints(axes) if axes is not None else list(range(len(starts)))
    steps = _const_ints(steps) if steps is not None else [1] * len(starts)
    key = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        n = x.shape[a]
        e = None if (st < 0 and e < -n) else min(e, n) if e > 0 else e
        key[a] = slice(s, e, st)
    return x[tuple(key)]


def _squeeze(x, axes=None):
    dims = set(d % x.ndim for d in _const_ints(axes)) if axes is not None else None
    return x.reshape(
        tuple(n for i, n in enumerate(x.shape) if not (n == 1 and (dims is None or i in dims)))
    )


def _unsqueeze(x, axes):
    shape = list(x.shape)
    ndim = len(shape) + len(_const_ints(axes))
    for d in sorted(a % ndim for a in _const_ints(axes)):
        shape.insert(d, 1)
    return x.reshape(tuple(shape))


def _reshape(x, shape, allowzero=0):
    target = [
        x.shape[i] if n == 0 and not allowzero else n for i, n in enumerate(_const_ints(shape))
    ]
    return x.reshape(tuple(target))


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):  # noqa: N803 - ONNX's names
    y = (a.t() if transA else a) @ (b.t() if transB else b)
    y = y * alpha if alpha != 1 else y
    if c is not None:
        y = y + (c * beta if beta != 1 else c)
    return y


def _pads(pads, kernel) -> tuple:
    pads = pads or [0] * (2 * len(kernel))
    n = len(kernel)
    return tuple(pads[:n]), tuple(pads[n:])


def _conv(x, w, b=None, *, kernel_shape=None, strides=None, pads=None, dilations=None,
          group=1, auto_pad="NOTSET"):  # fmt: skip
    if auto_pad not in ("NOTSET", "VALID"):
        raise UnsupportedNodeError(f"Conv with auto_pad={auto_pad}")
    kernel = tuple(w.shape[2:])
    begin, end = _pads(pads, kernel)
    strides, dilations = strides or [1] * len(kernel), dilations or [1] * len(kernel)
    one_d = len(kernel) == 1
    if one_d:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        begin, end, strides, dilations = (0,) + begin, (0,) + end, [1] + strides, [1] + dilations
    ins = (x, w) if b is None else (x, w, b)
    y = _C.Conv2d.apply(
        *ins,
        stride=tuple(strides),
        padding=(begin[0], end[0], begin[1], end[1]),
        dilation=tuple(dilations),
        groups=int(group),
    )
    return y.squeeze(2) if one_d else y


def _pool_args(a, name):
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or a.get("storage_order", 0):
        raise UnsupportedNodeError(f"{name} with auto_pad={a.get('auto_pad')}")
    kernel = tuple(a["kernel_shape"])
    begin, end = _pads(a.get("pads"), kernel)
    return kernel, tuple(a.get("strides") or [1] * len(kernel)), begin, end


def _overhang(begin, end, strides):
    """Pads whose end exceeds the beginning by less than a stride are ceil_mode's overhang."""
    if all(e == b for b, e in zip(begin, end)):
        return False
    if all(0 <= e - b < s for b, e, s in zip(begin, end, strides)):
        return True
    raise UnsupportedNodeError(f"pooling with asymmetric pads {list(begin) + list(end)}")


def _max_pool_layer(a):
    kernel, strides, begin, end = _pool_args(a, "MaxPool")
    ceil = bool(a.get("ceil_mode", 0)) or _overhang(begin, end, strides)
    cls = nn.MaxPool2d if len(kernel) == 2 else nn.MaxPool1d
    dil = tuple(a.get("dilations") or [1] * len(kernel))
    return cls(kernel, strides, begin, dil, ceil_mode=ceil)


def _avg_pool_layer(a):
    """ONNX divides by the whole kernel wherever padding counts, also in the windows that
    ceil_mode's overhang cuts short (PyTorch clips those): divisor_override says so."""
    kernel, strides, begin, end = _pool_args(a, "AveragePool")
    overhang = _overhang(begin, end, strides)
    ceil = bool(a.get("ceil_mode", 0)) or overhang
    if any(d != 1 for d in a.get("dilations") or []):
        raise UnsupportedNodeError("AveragePool with dilations")
    count_pad = bool(a.get("count_include_pad", 0))
    if len(kernel) == 1:
        if overhang and count_pad:
            raise UnsupportedNodeError("1-D AveragePool counting padding with uneven pads")
        return nn.AvgPool1d(kernel, strides, begin, ceil, count_pad)
    div = int(np.prod(kernel)) if overhang and count_pad else None
    return nn.AvgPool2d(kernel, strides, begin, ceil, count_pad, div)


def _gather_nd(a, indices, batch_dims=0):
    if batch_dims:
        raise UnsupportedNodeError("GatherND with batch_dims")
    idx = indices._data
    return a[tuple(idx[..., k] for k in range(idx.shape[-1]))]


def _flatten(x, axis=1):
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape((lead, -1))


FUNCTIONS = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Neg": lambda a: -a,
    "Pow": lambda a, b: a ** (float(b._data) if b._data.size == 1 else b),
    "Exp": lambda a: a.exp(),
    "Log": lambda a: a.log(),
    "Sqrt": lambda a: a.sqrt(),
    "Abs": lambda a: a.abs(),
    "Sin": lambda a: a.sin(),
    "Cos": lambda a: a.cos(),
    "Erf": lambda a: a.erf(),
    "Tanh": lambda a: a.tanh(),
    "Sigmoid": lambda a: a.sigmoid(),
    "Relu": lambda a: a.relu(),
    "LeakyRelu": lambda a, alpha=0.01: nn.functional.leaky_relu(a, alpha),
    "Elu": lambda a, alpha=1.0: nn.functional.elu(a, alpha),
    "Softplus": lambda a: nn.functional.softplus(a),
    "Gelu": lambda a, approximate="none": nn.functional.gelu(a, approximate=approximate),
    "Softsign": lambda a: nn.functional.softsign(a),
    "Softmax": lambda a, axis=-1: a.softmax(axis),
    "LogSoftmax": lambda a, axis=-1: a.log_softmax(axis),
    "Clip": lambda a, lo=None, hi=None: a.clamp(
        None if lo is None else float(lo._data), None if hi is None else float(hi._data)
    ),
    "Max": lambda a, b: _E.Maximum.apply(a, b),
    "Min": lambda a, b: _E.Minimum.apply(a, b),
    "Where": lambda c, a, b: where(c, a, b),
    "Greater": lambda a, b: a > b,
    "Less": lambda a, b: a < b,
    "GreaterOrEqual": lambda a, b: a >= b,
    "LessOrEqual": lambda a, b: a <= b,
    "Equal": lambda a, b: a == b,
    "Not": lambda a: ~a,
    "Cast": lambda a, to: a.to(helper.tensor_dtype_to_np_dtype(to)),
    "MatMul": lambda a, b: a @ b,
    "Gemm": _gemm,
    "Transpose": lambda a, perm=None: a.permute(perm if perm else tuple(reversed(range(a.ndim)))),
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Expand": lambda a, s: a.expand(np.broadcast_shapes(tuple(a.shape), tuple(_const_ints(s)))),
    "Slice": _slice,
    "Gather": lambda a, i, axis=0: a[(slice(None),) * (axis % a.ndim) + (i,)],
    "GatherND": _gather_nd,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": lambda *xs, axis: cat(list(xs), axis),
    "ReduceSum": _reduce("sum"),
    "ReduceMean": _reduce("mean"),
    "ReduceMax": _reduce("amax"),
    "ReduceMin": _reduce("amin"),
    "ReduceLogSumExp": _reduce("logsumexp"),
    "ReduceL2": _reduce("norm"),
    "ReduceL1": _reduce("norm", p=1),
    "Identity": lambda a: a,
    "Dropout": lambda a, *rest, **attrs: a,
    "Conv": _conv,
    "MaxPool": lambda x, **a: _max_pool_layer(a)(x),
    "AveragePool": lambda x, **a: _avg_pool_layer(a)(x),
    "BatchNormalization": lambda x, s, b, m, v, epsilon=1e-5, momentum=0.9, training_mode=0: (
        nn.functional.batch_norm(x, m, v, s, b, False, 0.1, epsilon)
    ),
}
"""ONNX op -> the deepgrad computation ``OnnxOp`` runs (inputs, then the node's attributes)."""

_REDUCE_AXES_ATTR = {
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceLogSumExp",
    "ReduceL2",
    "ReduceL1",
}


class OnnxOp(nn.Module):
    """One ONNX node run with deepgrad tensor ops. ``forward`` takes the node's inputs that
    are not constants, in order; constant inputs are kept as arrays."""

    def __init__(self, op_type: str, attrs: dict, consts: dict[int, np.ndarray], n_inputs: int):
        super().__init__()
        self.op_type, self.attrs, self.consts, self.n_inputs = op_type, attrs, consts, n_inputs

    def forward(self, *tensors: Tensor) -> Tensor:
        it = iter(tensors)
        args = []
        for i in range(self.n_inputs):
            if i in self.consts:
                args.append(None if self.consts[i] is None else _wrap(self.consts[i]))
            else:
                args.append(next(it))
        while args and args[-1] is None:
            args.pop()
        attrs = dict(self.attrs)
        if self.op_type in _REDUCE_AXES_ATTR and "axes" in attrs:
            attrs["axes_attr"] = attrs.pop("axes")
        return FUNCTIONS[self.op_type](*args, **attrs)

    def extra_repr(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.attrs.items())
        return self.op_type + (f", {shown}" if shown else "")


def _is_param(name: str, array: np.ndarray) -> bool:
    return not name.startswith("_const") and array.dtype.kind == "f"


def _set(param_owner, attr: str, array) -> None:
    getattr(param_owner, attr)._data[...] = np.asarray(array, dtype=np.float32).reshape(
        getattr(param_owner, attr).shape
    )


class _Loader:
    def __init__(self, proto: onnx.ModelProto) -> None:
        self.proto = proto
        graph = proto.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        inferred = shape_inference.infer_shapes(proto)
        self.ranks = {}
        for vi in list(inferred.graph.value_info) + list(graph.input) + list(graph.output):
            if vi.type.tensor_type.HasField("shape"):
                self.ranks[vi.name] = len(vi.type.tensor_type.shape.dim)

    def w(self, node, i):
        """The initializer at input i as a parameter source, or None."""
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        arr = self.inits.get(name)
        return arr if arr is not None and _is_param(name, arr) else None

    def layer(self, node):
        """A deepgrad layer for ``node`` when its weights are initializers, else None."""
        op, a = node.op_type, _attrs(node)
        ins = [n for n in node.input if n]
        if op == "Gemm" and a.get("alpha", 1.0) == 1 and a.get("beta", 1.0) == 1:
            w = self.w(node, 1)
            b = self.w(node, 2)
            if w is None or a.get("transA", 0) or (len(ins) > 2 and b is None):
                return None
            w = w if a.get("transB", 0) else w.T
            layer = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            _set(layer, "weight", w)
            if b is not None:
                if b.shape != (w.shape[0],):
                    return None
                _set(layer, "bias", b)
            return layer
        if op == "Conv":
            w, b = self.w(node, 1), self.w(node, 2)
            if w is None or (len(ins) > 2 and b is None) or w.ndim not in (3, 4):
                return None
            kernel = w.shape[2:]
            begin, end = _pads(a.get("pads"), kernel)
            if begin != end or a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
                return None
            cls = nn.Conv2d if w.ndim == 4 else nn.Conv1d
            g = int(a.get("group", 1))
            layer = cls(
                w.shape[1] * g, w.shape[0], tuple(kernel), stride=tuple(a.get("strides") or 1),
                padding=tuple(begin), dilation=tuple(a.get("dilations") or 1), groups=g,
                bias=b is not None,
            )  # fmt: skip
            _set(layer, "weight", w)
            if b is not None:
                _set(layer, "bias", b)
            return layer
        if op == "BatchNormalization":
            s, b = self.inits.get(node.input[1]), self.inits.get(node.input[2])
            m, v = self.inits.get(node.input[3]), self.inits.get(node.input[4])
            if any(t is None for t in (s, b, m, v)) or a.get("training_mode", 0):
                return None
            rank = self.ranks.get(node.input[0], 4)
            cls = nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d
            affine = _is_param(node.input[1], s) or _is_param(node.input[2], b)
            layer = cls(len(s), eps=float(a.get("epsilon", 1e-5)), affine=affine)
            if affine:
                _set(layer, "weight", s)
                _set(layer, "bias", b)
            else:
                if not (np.all(s == 1) and np.all(b == 0)):
                    return None
            layer.running_mean._data[...] = m
            layer.running_var._data[...] = v
            return layer.eval()
        if op == "MaxPool" and len(node.output) == 1:
            return _max_pool_layer(a)
        if op == "AveragePool":
            return _avg_pool_layer(a)
        simple = {"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Softsign": nn.Softsign}
        if op in simple:
            return simple[op]()
        if op == "LeakyRelu":
            return nn.LeakyReLU(a.get("alpha", 0.01))
        if op == "Elu":
            return nn.ELU(a.get("alpha", 1.0))
        if op == "Gelu":  # opset 20
            return nn.GELU(approximate=a.get("approximate", "none"))
        if op in ("Softmax", "LogSoftmax"):
            return (nn.Softmax if op == "Softmax" else nn.LogSoftmax)(dim=a.get("axis", -1))
        if op == "Clip" and all(n in self.inits for n in ins[1:]) and len(ins) == 3:
            return nn.Hardtanh(float(self.inits[ins[1]]), float(self.inits[ins[2]]))
        if op == "Flatten" and self.ranks.get(node.input[0]) is not None:
            axis = a.get("axis", 1) % self.ranks[node.input[0]]
            if axis == 1:
                return nn.Flatten()
        if op == "Reshape" and ins[1] in self.inits and self.ranks.get(ins[0], 0) > 2:
            shape = _const_ints(self.inits[ins[1]])
            if len(shape) == 2 and shape[0] == 0:  # (N, everything else)
                return nn.Flatten()
        if op in ("Identity", "Dropout") and len(node.output) == 1:
            return nn.Identity()
        return None

    def module(self, node, params: dict):
        """(module, names of its runtime inputs) for ``node``."""
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedNodeError(
                f"onnx.load: node {node.name or node.output[0]!r} is in op domain "
                f"{node.domain!r}; deepgrad runs only the standard ONNX ops"
            )
        layer = self.layer(node)
        if layer is not None:
            return layer, [node.input[0]]
        if node.op_type not in FUNCTIONS:
            raise UnsupportedNodeError(
                f"onnx.load: node {node.name or node.output[0]!r} is a {node.op_type}, an op "
                f"deepgrad cannot run (supported: {', '.join(sorted(FUNCTIONS))})"
            )
        if len(node.output) != 1 and node.op_type not in ("Dropout", "MaxPool"):
            raise UnsupportedNodeError(f"onnx.load: {node.op_type} with several outputs")
        consts, runtime = {}, []
        for i, name in enumerate(node.input):
            if not name:
                consts[i] = None
            elif name in self.inits and not _is_param(name, self.inits[name]):
                consts[i] = self.inits[name]
            else:
                runtime.append(name)
                if name in self.inits and name not in params:
                    params[name] = Parameter(_wrap(self.inits[name].copy()))
        return OnnxOp(node.op_type, _attrs(node), consts, len(node.input)), runtime


class GraphModule(nn.Module):
    """An ONNX graph that is not a simple chain: its node modules (``nodes``), the parameters
    they read (``params``), and the wiring, run in the graph's (topological) order."""

    def __init__(self, nodes, wiring, params, param_names, inputs, outputs):
        super().__init__()
        self.nodes = nn.ModuleList(nodes)
        self.params = nn.ParameterDict({_key(n): p for n, p in params.items()})
        self.wiring = wiring  # [(input names, output name)] per node
        self.param_names = param_names
        self.input_names, self.output_names = inputs, outputs

    def forward(self, *inputs: Tensor):
        env = dict(zip(self.input_names, inputs))
        for name in self.param_names:
            env[name] = self.params[_key(name)]
        for module, (ins, out) in zip(self.nodes, self.wiring):
            env[out] = module(*[env[n] for n in ins])
        outs = [env[n] for n in self.output_names]
        return outs[0] if len(outs) == 1 else tuple(outs)


def _key(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def load(path) -> nn.Module:
    """Read an ONNX model (a path, a binary file or an ``onnx.ModelProto``) as a deepgrad
    module in eval mode (see the module docstring for what each node becomes).

    Raises ``UnsupportedNodeError`` naming the first node whose op deepgrad does not have.
    """
    proto = path if isinstance(path, onnx.ModelProto) else onnx.load(path)
    loader = _Loader(proto)
    graph = proto.graph
    inputs = [i.name for i in graph.input if i.name not in loader.inits]
    outputs = [o.name for o in graph.output]
    params: dict = {}
    modules, wiring = [], []
    used = {n for node in graph.node for n in node.input} | set(outputs)
    for node in graph.node:
        extra = [n for n in node.output[1:] if n in used]
        if extra:  # e.g. MaxPool's indices, Dropout's mask
            raise UnsupportedNodeError(
                f"onnx.load: node {node.name or node.output[0]!r} ({node.op_type}) has its "
                f"output {extra[0]!r} used; deepgrad runs only the first output of a node"
            )
        module, ins = loader.module(node, params)
        modules.append(module)
        wiring.append((ins, node.output[0]))
    chain = len(inputs) == 1 and len(outputs) == 1 and not params and modules
    if chain:
        prev = inputs[0]
        for ins, out in wiring:
            if ins != [prev]:
                chain = False
                break
            prev = out
        chain = chain and prev == outputs[0]
    if chain:
        model = nn.Sequential(*modules)
    else:
        model = GraphModule(modules, wiring, params, list(params), inputs, outputs)
    return model.eval()
