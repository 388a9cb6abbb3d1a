"""deepgrad op -> ONNX nodes: the one table of the export (docs/ONNX.md lists it).

Each entry takes the ``GraphBuilder`` and one traced call (``Call``: input value names, the
op's parameters, input and output shapes) and returns the name of the value it computes.
Ops missing here (the losses) have no place in an inference graph, and an entry raises
``NoMapping`` for uses ONNX cannot express (boolean-mask indexing, batch norm in training
mode); exporting a model that needs them raises ``UnsupportedOpError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from deepgrad.ops.elementwise import sign_array
from onnx import helper


class NoMapping(Exception):
    """Raised by a mapping function for a use of its op that ONNX cannot express."""


@dataclass
class Call:
    """One op call of the traced forward pass, as the mapping functions see it."""

    op: str
    inputs: list[str]
    params: dict
    in_shapes: list[tuple]
    shape: tuple
    dtype: np.dtype
    ctx: object
    module: str
    names: dict = field(default_factory=dict)  # id(array) -> initializer name (BN statistics)


def _same(onnx_op: str):
    def export(b, c: Call) -> str:
        return b.node(onnx_op, c.inputs)

    export.onnx = onnx_op
    return export


def _scalar(b, c: Call, value) -> str:
    return b.const(np.asarray(value, dtype=c.dtype))


def _pow_scalar(b, c):
    return b.node("Pow", [c.inputs[0], _scalar(b, c, c.params["exponent"])])


def _clip(lo, hi):
    def export(b, c):
        low, high = c.params.get(lo), c.params.get(hi)
        ins = [c.inputs[0], "" if low is None else _scalar(b, c, low)]
        if high is not None:
            ins.append(_scalar(b, c, high))
        return b.node("Clip", ins)

    return export


_COMPARE = {"greater": "Greater", "less": "Less", "greater_equal": "GreaterOrEqual",
            "less_equal": "LessOrEqual", "equal": "Equal"}  # fmt: skip


def _compare(b, c):
    ufunc = c.params["ufunc"]
    if ufunc == "not_equal":
        return b.node("Not", [b.node("Equal", c.inputs)])
    if ufunc not in _COMPARE:
        raise NoMapping(f"Compare ({ufunc})")
    return b.node(_COMPARE[ufunc], c.inputs)


def _cast(b, c):
    to = helper.np_dtype_to_tensor_dtype(np.dtype(c.params["dtype"]))
    return b.node("Cast", c.inputs, to=to)


def _step(b, c):  # Heaviside: 1 where x > 0
    positive = b.node("Greater", [c.inputs[0], _scalar(b, c, 0)])
    return b.node("Cast", [positive], to=helper.np_dtype_to_tensor_dtype(c.dtype))


def _leaky_relu(b, c):
    return b.node("LeakyRelu", c.inputs, alpha=float(c.params.get("negative_slope", 0.01)))


def _elu(b, c):
    return b.node("Elu", c.inputs, alpha=float(c.params.get("alpha", 1.0)))


def _softplus(b, c):  # (1/beta) log(1 + e^(beta x)), x where beta x > threshold
    x = c.inputs[0]
    beta, threshold = c.params.get("beta", 1.0), c.params.get("threshold", 20.0)
    z = x if beta == 1 else b.node("Mul", [x, _scalar(b, c, beta)])
    soft = b.node("Softplus", [z])
    if beta != 1:
        soft = b.node("Div", [soft, _scalar(b, c, beta)])
    linear = b.node("Greater", [z, _scalar(b, c, threshold)])
    return b.node("Where", [linear, x, soft])


def _gelu(b, c):
    x = c.inputs[0]
    if c.params.get("approximate", "none") == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi)(x + a x^3)))
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [cube, _scalar(b, c, 0.044715)])])
        t = b.node("Tanh", [b.node("Mul", [inner, _scalar(b, c, np.sqrt(2 / np.pi))])])
    else:  # x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
        t = b.node("Erf", [b.node("Mul", [x, _scalar(b, c, np.sqrt(0.5))])])
    half = b.node("Mul", [x, _scalar(b, c, 0.5)])
    return b.node("Mul", [half, b.node("Add", [t, _scalar(b, c, 1.0)])])


def _silu(b, c):
    return b.node("Mul", [c.inputs[0], b.node("Sigmoid", c.inputs)])


def _linear(b, c):  # y = x W^T + b
    x, w = c.inputs[:2]
    if len(c.in_shapes[0]) == 2:
        return b.node("Gemm", c.inputs, transB=1)
    y = b.node("MatMul", [x, b.node("Transpose", [w], perm=[1, 0])])
    return b.node("Add", [y, c.inputs[2]]) if len(c.inputs) > 2 else y


def _axes_of(c, key="axes"):
    axes = c.params.get(key)
    if axes is None:
        return None
    return [axes] if isinstance(axes, int) else list(axes)


def _reduce(onnx_op):
    def export(b, c):
        return b.reduce(onnx_op, c.inputs[0], _axes_of(c), c.params.get("keepdim", False))

    export.onnx = onnx_op
    return export


def _var(b, c):  # sum((x - mean)^2) / (n - correction)
    x, axes = c.inputs[0], _axes_of(c)
    shape = c.in_shapes[0]
    mean = b.reduce("ReduceMean", x, axes, True)
    d = b.node("Sub", [x, mean])
    ss = b.reduce("ReduceSum", b.node("Mul", [d, d]), axes, c.params.get("keepdim", False))
    n = int(np.prod([shape[a] for a in (axes if axes is not None else range(len(shape)))]))
    return b.node("Div", [ss, _scalar(b, c, max(n - c.params.get("correction", 1), 0))])


def _norm(b, c):  # ReduceL2 / ReduceL1, or the max / min or (sum |x|^p)^(1/p) of Abs
    x, p = c.inputs[0], c.params.get("p", 2)
    axes, keepdim = _axes_of(c), c.params.get("keepdim", False)
    if p in (1, 2):
        return b.reduce(f"ReduceL{int(p)}", x, axes, keepdim)
    if p == 0:
        raise NoMapping("Norm with p=0 (the number of non-zeros)")
    absolute = b.node("Abs", [x])
    if math.isinf(p):
        return b.reduce("ReduceMax" if p > 0 else "ReduceMin", absolute, axes, keepdim)
    powered = b.node("Pow", [absolute, _scalar(b, c, p)])
    return b.node("Pow", [b.reduce("ReduceSum", powered, axes, keepdim), _scalar(b, c, 1 / p)])


def _max_all(b, c):
    op = "ReduceMax" if c.params.get("largest", True) else "ReduceMin"
    return b.reduce(op, c.inputs[0], None, False)


def _amax(b, c):
    op = "ReduceMax" if c.params.get("largest", True) else "ReduceMin"
    return b.reduce(op, c.inputs[0], _axes_of(c), c.params.get("keepdim", False))


def _max_dim(b, c):  # the values; the indices are not part of the graph
    op = "ReduceMax" if c.params.get("largest", True) else "ReduceMin"
    return b.reduce(op, c.inputs[0], [c.params["axis"]], c.params.get("keepdim", False))


def _softmax(onnx_op):
    def export(b, c):
        return b.node(onnx_op, c.inputs, axis=int(c.params["axis"]))

    export.onnx = onnx_op
    return export


def reshape_target(in_shape, out_shape) -> list[int]:
    """ONNX Reshape's shape: 0 (copy the input's size) for the leading sizes that stay the
    same, so a dynamic batch size passes through; the rest as traced."""
    target, same = [], True
    for i, n in enumerate(out_shape):
        same = same and i < len(in_shape) and in_shape[i] == n
        target.append(0 if same and n != 0 else int(n))
    return target


def _reshape(b, c):
    return b.node("Reshape", [c.inputs[0], b.ints(reshape_target(c.in_shapes[0], c.shape))])


def _permute(b, c):
    return b.node("Transpose", c.inputs, perm=[int(d) for d in c.params["dims"]])


def _expand(b, c):  # 1 where the input keeps its size: Expand broadcasts both ways
    src, out = c.in_shapes[0], c.shape
    lead = len(out) - len(src)
    shape = [1 if i >= lead and src[i - lead] == n else n for i, n in enumerate(out)]
    return b.node("Expand", [c.inputs[0], b.ints(shape)])


def _index_advanced(b, c):
    """Integer arrays on the leading axes (GatherND), or one integer array on any axis
    (Gather), the other axes taken whole: NumPy's and ONNX's result shapes agree there.
    Boolean masks and other mixes have no mapping."""
    key = c.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    shape = c.in_shapes[0]
    arrays = [i for i, k in enumerate(key) if isinstance(k, np.ndarray)]
    whole = all(k == slice(None) for i, k in enumerate(key) if i not in arrays)
    if not whole or any(key[i].dtype.kind not in "iu" for i in arrays):
        raise NoMapping("Index (advanced indexing other than integer arrays)")
    if len(arrays) == 1:
        d = arrays[0]
        idx = np.asarray(key[d], dtype=np.int64) % shape[d]
        return b.node("Gather", [c.inputs[0], b.const(idx)], axis=d)
    if arrays != list(range(len(arrays))):
        raise NoMapping("Index (integer arrays not on the leading axes)")
    parts = np.broadcast_arrays(*[np.asarray(key[i], dtype=np.int64) for i in arrays])
    idx = np.stack([p % shape[i] for i, p in enumerate(parts)], axis=-1)
    return b.node("GatherND", [c.inputs[0], b.const(idx)])


def _index(b, c):  # basic indexing: ints, slices, None and Ellipsis
    if c.params.get("advanced"):
        return _index_advanced(b, c)
    key = c.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    shape = c.in_shapes[0]
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (len(shape) - n_real)
        else:
            expanded.append(k)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = 0
    for k in expanded:
        if k is None:
            unsqueeze.append(len(unsqueeze) + dim - len(squeeze))
            continue
        if isinstance(k, (int, np.integer)):
            i = int(k) % shape[dim]
            starts.append(i), ends.append(i + 1), axes.append(dim), steps.append(1)
            squeeze.append(dim)
        elif isinstance(k, slice):
            if k != slice(None):
                s, e, st = k.indices(shape[dim])
                if st < 0 and e < 0:
                    e = -(2**63)  # ONNX: run past the start backwards
                starts.append(s), ends.append(e), axes.append(dim), steps.append(st)
        else:
            raise NoMapping("Index")
        dim += 1
    y = c.inputs[0]
    if axes:
        y = b.node("Slice", [y, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)])
    if squeeze:
        y = b.node("Squeeze", [y, b.ints(squeeze)])
    if unsqueeze:
        y = b.node("Unsqueeze", [y, b.ints(unsqueeze)])
    if y == c.inputs[0]:
        y = b.node("Identity", [y])
    return y


def _cat(b, c):
    return b.node("Concat", c.inputs, axis=int(c.params.get("axis", 0)))


def _stack(b, c):
    axis = int(c.params.get("axis", 0))
    parts = [b.node("Unsqueeze", [x, b.ints([axis])]) for x in c.inputs]
    return b.node("Concat", parts, axis=axis)


def _conv(
    b, c
):  # deepgrad's padding is (top, bottom, left, right); ONNX's (top, left, bottom, right)
    top, bottom, left, right = c.params["padding"]
    return b.node(
        "Conv",
        c.inputs,
        kernel_shape=list(c.in_shapes[1][2:]),
        strides=list(c.params["stride"]),
        pads=[top, left, bottom, right],
        dilations=list(c.params["dilation"]),
        group=int(c.params["groups"]),
    )


def _pool_pads(geo) -> list[int]:
    """Pads with the ceil_mode overhang added at the end, so ONNX's floor rule gives
    PyTorch's output size (the overhang never wins a max and counts nowhere in a mean)."""
    extra_h = geo.hp - geo.h - 2 * geo.ph
    extra_w = geo.wp - geo.w - 2 * geo.pw
    return [geo.ph, geo.pw, geo.ph + extra_h, geo.pw + extra_w]


def _max_pool(b, c):
    g = c.ctx.geo
    return b.node(
        "MaxPool",
        c.inputs,
        kernel_shape=[g.kh, g.kw],
        strides=[g.sh, g.sw],
        pads=_pool_pads(g),
        dilations=[g.dh, g.dw],
    )


def _avg_pool(b, c):
    """AveragePool counting the padding divides every window by kh kw; PyTorch's divisor
    (``ctx.div``: the window clipped to the input or padding, or divisor_override) may differ,
    so the mean is rescaled by kh kw / divisor where it does."""
    g = c.ctx.geo
    y = b.node(
        "AveragePool",
        c.inputs,
        kernel_shape=[g.kh, g.kw],
        strides=[g.sh, g.sw],
        pads=_pool_pads(g),
        count_include_pad=1,
    )
    div = np.asarray(c.ctx.div, dtype=np.float64)
    if div.ndim == 0 and float(div) == g.kh * g.kw:
        return y
    return b.node("Mul", [y, b.const((g.kh * g.kw / div).astype(c.dtype))])


def _adaptive_avg_pool(b, c):  # y = A_h x A_w^T with the averaging matrices of the op
    ah, aw = c.ctx.averaging_matrices(c.dtype)
    y = b.node("MatMul", [c.inputs[0], b.const(np.ascontiguousarray(aw.T))])
    return b.node("MatMul", [b.const(ah), y])


def _batch_norm(b, c):
    p = c.params
    if p.get("mean") is None:
        raise NoMapping("BatchNorm (training mode)")
    channels = c.in_shapes[0][1]
    x = c.inputs[0]
    scale = c.inputs[1] if len(c.inputs) > 1 else b.const(np.ones(channels, c.dtype))
    bias = c.inputs[2] if len(c.inputs) > 2 else b.const(np.zeros(channels, c.dtype))

    def stat(arr, hint):
        name = c.names.get(id(arr))
        return name if name is not None else b.const(np.asarray(arr, c.dtype), hint=hint)

    mean, var = stat(p["mean"], "_const_mean"), stat(p["var"], "_const_var")
    return b.node(
        "BatchNormalization", [x, scale, bias, mean, var], epsilon=float(p.get("eps", 1e-5))
    )


EXPORTERS = {
    "Add": _same("Add"),
    "Sub": _same("Sub"),
    "Mul": _same("Mul"),
    "Div": _same("Div"),
    "Neg": _same("Neg"),
    "Pow": _same("Pow"),
    "PowScalar": _pow_scalar,
    "Exp": _same("Exp"),
    "Log": _same("Log"),
    "Sqrt": _same("Sqrt"),
    "Abs": _same("Abs"),
    "Sin": _same("Sin"),
    "Cos": _same("Cos"),
    "Erf": _same("Erf"),
    "Tanh": _same("Tanh"),
    "Sigmoid": _same("Sigmoid"),
    "ReLU": _same("Relu"),
    "Clamp": _clip("min", "max"),
    "Hardtanh": _clip("min_val", "max_val"),
    "Maximum": _same("Max"),
    "Minimum": _same("Min"),
    "Where": _same("Where"),
    "Cast": _cast,
    "Compare": _compare,
    "Step": _step,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "Softplus": _softplus,
    "Softsign": _same("Softsign"),
    "GELU": _gelu,
    "SiLU": _silu,
    "Linear": _linear,
    "MatMul": _same("MatMul"),
    "Sum": _reduce("ReduceSum"),
    "Norm": _norm,
    "Mean": _reduce("ReduceMean"),
    "Var": _var,
    "MaxAll": _max_all,
    "AMax": _amax,
    "MaxDim": _max_dim,
    "LogSumExp": _reduce("ReduceLogSumExp"),
    "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"),
    "Reshape": _reshape,
    "Permute": _permute,
    "Expand": _expand,
    "Contiguous": _same("Identity"),  # ONNX values have no memory layout
    "Index": _index,
    "Cat": _cat,
    "Stack": _stack,
    "Conv2d": _conv,
    "MaxPool2d": _max_pool,
    "AvgPool2d": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive_avg_pool,
    "BatchNorm": _batch_norm,
}
"""deepgrad op class name -> function that emits its ONNX nodes."""

ONNX_OPS = {
    "Clamp": "Clip",
    "Hardtanh": "Clip",
    "PowScalar": "Pow",
    "Cast": "Cast",
    "Compare": "Greater, Less, GreaterOrEqual, LessOrEqual, Equal (!=: Equal, Not)",
    "Step": "Greater, Cast",
    "LeakyReLU": "LeakyRelu",
    "ELU": "Elu",
    "Softplus": "Softplus, Greater, Where (Mul, Div when beta != 1)",
    "GELU": "Erf (tanh: Tanh), Mul, Add",
    "SiLU": "Sigmoid, Mul",
    "Linear": "Gemm (inputs of rank > 2: MatMul, Transpose, Add)",
    "Var": "ReduceMean, Sub, Mul, ReduceSum, Div",
    "Norm": "ReduceL2 / ReduceL1 (other p: Abs, ReduceMax / ReduceMin or Pow, ReduceSum, Pow)",
    "MaxAll": "ReduceMax / ReduceMin",
    "AMax": "ReduceMax / ReduceMin",
    "MaxDim": "ReduceMax / ReduceMin (values only)",
    "Reshape": "Reshape",
    "Permute": "Transpose",
    "Expand": "Expand",
    "Index": "Slice, Squeeze, Unsqueeze; integer arrays: Gather, GatherND",
    "Cat": "Concat",
    "Stack": "Unsqueeze, Concat",
    "Conv2d": "Conv",
    "MaxPool2d": "MaxPool",
    "AvgPool2d": "AveragePool (Mul where PyTorch's divisor differs)",
    "AdaptiveAvgPool2d": "MatMul, MatMul (averaging matrices)",
    "BatchNorm": "BatchNormalization (eval mode)",
}
"""The ONNX ops each deepgrad op becomes, for the documentation table (the rest: ``.onnx``)."""


def onnx_ops(op: str) -> str:
    """The ONNX op(s) that deepgrad op ``op`` becomes, as written in docs/ONNX.md."""
    fn = EXPORTERS[op]
    return getattr(fn, "onnx", None) or ONNX_OPS[op]


# ---- census extras (issue 14): the ops added for the API census and i14core's aliases -------
def _log1p(b, c):  # log(1 + x)
    return b.node("Log", [b.node("Add", [c.inputs[0], _scalar(b, c, 1)])])


_PIECEWISE_ONNX = {sign_array: "Sign", np.floor: "Floor", np.ceil: "Ceil", np.round: "Round"}


def _piecewise(b, c):  # sign, floor, ceil, round (np.round and ONNX Round: half to even)
    return b.node(_PIECEWISE_ONNX[c.params["fn"]], c.inputs)


def _cumsum(b, c):
    return b.node("CumSum", [c.inputs[0], b.const(np.asarray(c.params.get("axis", 0), np.int64))])


def _prod(b, c):
    return b.reduce("ReduceProd", c.inputs[0], _axes_of(c, "axis"), c.params.get("keepdim", False))


EXPORTERS.update(
    {
        "Asin": _same("Asin"),
        "Cosh": _same("Cosh"),
        "Sinh": _same("Sinh"),
        "Det": _same("Det"),
        "Log1p": _log1p,
        "PiecewiseConstant": _piecewise,
        "CumSum": _cumsum,
        "Prod": _prod,
        "ToDevice": _same("Identity"),  # an ONNX graph has no devices: .to("cuda") is a no-op
    }
)
ONNX_OPS.update(
    {
        "Log1p": "Add, Log",
        "PiecewiseConstant": "Sign, Floor, Ceil or Round",
        "CumSum": "CumSum",
        "Prod": "ReduceProd",
    }
)
