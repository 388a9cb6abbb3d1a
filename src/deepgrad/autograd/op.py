"""``Op``: one primitive op on arrays, with its forward and backward side by side.

This is deepgrad's internal node type. It is not PyTorch's ``torch.autograd.Function`` (the
user-facing custom-function API with static ``forward(ctx, ...)``), which lives in
``deepgrad.autograd.function``.

A subclass writes ``forward(ctx, *arrays, **params) -> array`` and
``backward(ctx, grad) -> array | tuple[array | None, ...]`` on raw arrays. ``ctx`` is the
instance itself: it is the graph node, keeping the op's name, its input tensors and whatever
forward saved for backward (in ``ctx.saved``, freed after backward unless ``retain_graph``).

Backward returns one gradient per input, shaped like the *output* broadcast allows; the
engine un-broadcasts them, so no op deals with broadcast shapes itself.
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.grad_mode import state as _grad_state
from deepgrad.device import device_of, mismatch_error, move


class Op:
    """Base class of every differentiable primitive (see the module docstring)."""

    #: Tuple of arrays saved by forward for backward; set to ``None`` once freed.
    saved = ()
    inputs = ()
    needs_input_grad = ()
    #: True once backward has run without ``retain_graph``: the saved arrays are gone.
    freed = False
    #: True for the one op whose output lives on another device than its input (``to``).
    crosses_devices = False

    @classmethod
    def op_name(cls) -> str:
        return cls.__name__

    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(ctx).__name__} must define forward")

    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(ctx).__name__} has no backward: it is not differentiable")

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run forward on the inputs' arrays and, if any input needs a gradient, record a node."""
        ctx = _new(cls)
        record = False
        if _grad_state.enabled:
            for t in inputs:
                if t.requires_grad:
                    record = True
                    ctx.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    break
        try:
            out = ctx.forward(*[t._data for t in inputs], **params)
        except ValueError as err:
            raise _explain(cls, inputs, err) from err
        except TypeError as err:  # CuPy refuses NumPy operands: inputs on different devices?
            out = _retry_on_one_device(ctx, cls, inputs, params, err)
        if type(out) is not np.ndarray:
            if isinstance(out, np.generic):
                out = np.asarray(out)
            elif not cls.crosses_devices:  # a GPU result: every input must have been there
                _check_one_device(cls, inputs)
        t = _new(Tensor)
        t._data = out
        t.grad = None
        t._retain = False
        if record:
            ctx.inputs = inputs
            t._ctx = ctx
            t.requires_grad = True
        else:
            t._ctx = None
            t.requires_grad = False
        return t

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def name(self) -> str:
        """PyTorch's name for this node, e.g. ``MulBackward0`` (``grad_fn.name()``)."""
        return torch_node_name(self)

    @property
    def next_functions(self) -> tuple:
        """One ``(node, 0)`` per input, as PyTorch's ``grad_fn.next_functions``: the input's own
        node, an ``AccumulateGrad`` for a leaf that requires grad, or ``None``."""
        out = []
        for t in self.inputs:
            if t._ctx is not None:
                out.append((t._ctx, 0))
            elif t.requires_grad:
                out.append((AccumulateGrad(t), 0))
            else:
                out.append((None, 0))
        return tuple(out)

    @property
    def metadata(self) -> dict:
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def free(self) -> None:
        self.saved = None
        self.freed = True


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``; ``variable`` is the leaf."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other) -> bool:  # one leaf, one AccumulateGrad (torch keeps one per leaf)
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


# PyTorch's grad_fn names for deepgrad's ops (the ones whose name is not "<Op>Backward0").
_TORCH_NAMES = {
    "PowScalar": "PowBackward0",
    "Pow": "PowBackward1",
    "ReLU": "ReluBackward0",
    "Clamp": "ClampBackward1",
    "Cast": "ToCopyBackward0",
    "Var": "VarBackward0",
    "AMax": "AmaxBackward0",
    "LogSumExp": "LogsumexpBackward0",
    "CumSum": "CumsumBackward0",
    "CumProd": "CumprodBackward0",
    "Reshape": "ViewBackward0",
    "Contiguous": "CloneBackward0",
    "MSELoss": "MseLossBackward0",
    "L1Loss": "MeanBackward0",
    "CrossEntropy": "NllLossBackward0",
    "NLLLoss": "NllLossBackward0",
    "KLDivergence": "MeanBackward0",
    "LeakyReLU": "LeakyReluBackward0",
    "ELU": "EluBackward0",
    "GELU": "GeluBackward0",
    "SiLU": "SiluBackward0",
    "Softsign": "DivBackward0",
    "Linear": "AddmmBackward0",
    "BatchNorm": "NativeBatchNormBackward0",
    "Conv2d": "ConvolutionBackward0",
    "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0",
    "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
}


def torch_node_name(node) -> str:
    """The name PyTorch gives the node of the same computation (``SumBackward1`` for a sum
    over dims, ``MmBackward0`` for a matrix product, ...). Keyed by ``op_name()``, so a device's
    variant of an op (``CrossEntropyCUDA``) gets the op's name."""
    cls = node.op_name()
    if cls in ("Sum", "Mean"):
        return f"{cls}Backward{0 if getattr(node, 'axes', None) is None else 1}"
    if cls == "Prod":
        return f"ProdBackward{0 if getattr(node, 'axis', None) is None else 1}"
    if cls in ("MaxAll", "MaxDim"):
        kind = "Max" if getattr(node, "largest", True) else "Min"
        return f"{kind}Backward{1 if cls == 'MaxAll' else 0}"
    if cls == "MatMul" and len(node.inputs) == 2:
        dims = (node.inputs[0].ndim, node.inputs[1].ndim)
        return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}.get(
            dims, "UnsafeViewBackward0"
        )
    if cls == "Index":
        key = getattr(node, "key", None)
        if getattr(node, "advanced", False):
            return "IndexBackward0"
        if isinstance(key, int):
            return "SelectBackward0"
        if isinstance(key, slice):
            return "SliceBackward0"
        return "IndexBackward0"
    return _TORCH_NAMES.get(cls, f"{cls}Backward0")


def _check_one_device(cls, inputs) -> None:
    """Raise PyTorch's error if a GPU op had a CPU input with dimensions (0-d CPU inputs may
    join a GPU op, as in PyTorch). Runs after every GPU op, so it only looks at array types."""
    for t in inputs:
        if type(t._data) is np.ndarray and t._data.ndim:
            raise mismatch_error([t._data for t in inputs])


def _retry_on_one_device(ctx, cls, inputs, params, err: TypeError):
    """After a TypeError: raise PyTorch's device error if the inputs are on different devices;
    if the only CPU inputs are 0-d (scalars, which PyTorch lets join a GPU op), move them to the
    GPU and run the forward again; otherwise re-raise the original error."""
    arrays = [t._data for t in inputs]
    if all(type(a) is np.ndarray for a in arrays):
        raise err
    mismatch = mismatch_error(arrays)
    if mismatch is not None:
        raise mismatch from None
    gpu = next(a for a in arrays if type(a) is not np.ndarray)
    if not any(type(a) is np.ndarray for a in arrays):
        raise err
    moved = [move(a, device_of(gpu)) if type(a) is np.ndarray else a for a in arrays]
    return ctx.forward(*moved, **params)


def _explain(cls, inputs, err: ValueError) -> Exception:
    """Turn NumPy's broadcasting ValueError into one that names the op and both shapes."""
    msg = str(err)
    if "broadcast" not in msg:
        return err
    shapes = [tuple(t._data.shape) for t in inputs]
    detail = ""
    if len(shapes) == 2:
        a, b = shapes
        for i in range(1, max(len(a), len(b)) + 1):
            da = a[-i] if i <= len(a) else 1
            db = b[-i] if i <= len(b) else 1
            if da != db and da != 1 and db != 1:
                detail = (
                    f" Counting from the right, dimension -{i} is {da} in the first and {db} in"
                    " the second; broadcasting needs them equal or one of them to be 1."
                )
                break
    return ValueError(
        f"{cls.op_name()}: shapes {' and '.join(map(str, shapes))} cannot be broadcast "
        f"together.{detail} Check the shapes, or use reshape/unsqueeze to line them up."
    )


from deepgrad.tensor import Tensor  # noqa: E402 - Tensor's module imports the ops, which import us

_new = object.__new__
