"""Record one forward pass as a graph of deepgrad ops, with each op's parameters and module.

Every primitive records its node on the output tensor (``t._ctx``) with the input tensors
(``ctx.inputs``); what a node lacks for export is the keyword parameters it was called with
(a reshape's shape, a convolution's stride) and the module that called it. While tracing, each
op class's ``forward`` is wrapped to write both onto the node, and forward hooks keep the path
of the module that is running. Comparisons (``x > 0``) are no ops in deepgrad (they have no
gradient), so while tracing they leave a ``Compare`` node on their result too; otherwise a
mask computed from the input would be baked into the graph as a constant. All of this is
undone when tracing ends. Only the tracing thread records (the playground trains other
sessions in other threads meanwhile), and one trace runs at a time.
"""

from __future__ import annotations

import threading
import types
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from deepgrad.autograd.grad_mode import enable_grad
from deepgrad.autograd.op import Op
from deepgrad.tensor import Tensor, _wrap


@dataclass
class Traced:
    """What one op call left behind: its parameters, output shape and dtype, module path."""

    params: dict
    shape: tuple
    dtype: object
    module: str


class Compare:
    """Tracing-only node of a comparison ``a <ufunc> b`` (``greater``, ``less_equal`` ...)."""

    def __init__(self, inputs, trace_info):
        self.inputs, self._trace = inputs, trace_info

    @classmethod
    def op_name(cls) -> str:
        return "Compare"


def _op_classes():
    seen, todo = [], [Op]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    # plain functions only: a staticmethod forward (PyTorch's custom-function style) is left as
    # it is, and export reports its op as one without a mapping
    return [c for c in seen if isinstance(c.__dict__.get("forward"), types.FunctionType)]


_LOCK = threading.Lock()


@contextmanager
def _recording(model):
    with _LOCK:
        with _patched(model):
            yield


@contextmanager
def _patched(model):
    path = ["<model>"]
    me = threading.get_ident()

    def wrap(forward):
        def traced(ctx, *arrays, **params):
            out = forward(ctx, *arrays, **params)
            if threading.get_ident() != me:
                return out
            shape = tuple(getattr(out, "shape", ()))
            ctx._trace = Traced(params, shape, getattr(out, "dtype", None), path[-1])
            return out

        return traced

    def compare(self, ufunc, other):
        out = compare_array(self, ufunc, other)
        if isinstance(out, Tensor) and threading.get_ident() == me:
            if not isinstance(other, Tensor):
                other = _wrap(np.asarray(other, dtype=self._data.dtype))
            info = Traced({"ufunc": ufunc.__name__}, out.shape, out._data.dtype, path[-1])
            out._ctx = Compare((self, other), info)
        return out

    compare_array = Tensor._compare
    originals = {cls: cls.__dict__["forward"] for cls in _op_classes()}

    def leave(module, args, out):
        path.pop()

    handles = []
    for name, module in model.named_modules():
        if not name:
            continue
        handles.append(module.register_forward_pre_hook(lambda m, a, n=name: path.append(n)))
        handles.append(module.register_forward_hook(leave))
    try:
        for cls, forward in originals.items():
            cls.forward = wrap(forward)
        Tensor._compare = compare
        yield
    finally:
        Tensor._compare = compare_array
        for cls, forward in originals.items():
            cls.forward = forward
        for h in handles:
            h.remove()


def trace(model, args: tuple) -> tuple[tuple[Tensor, ...], list[Tensor]]:
    """Run ``model(*args)`` once, recording every op; return the (fresh) input tensors and the
    outputs. Inputs are copied into tensors that require gradients, so every op that touches
    them records a node even under ``no_grad`` elsewhere (indexing and casts of tensors that
    need no gradient skip the op machinery and would be baked in as constants)."""
    inputs = tuple(_wrap(a._data.copy(), requires_grad=True) for a in args)
    with _recording(model), enable_grad():
        out = model(*inputs)
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outputs:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"onnx.export: the model returned a {type(o).__name__}; export needs it to "
                "return a tensor or a tuple of tensors"
            )
    return inputs, outputs
