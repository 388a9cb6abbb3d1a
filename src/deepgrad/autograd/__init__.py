"""Reverse-mode automatic differentiation: graph nodes, the backward engine, grad modes, checks."""

from deepgrad.autograd.model_check import ModelCheckReport, ParamCheck, check_model
from deepgrad.autograd.op import Op
from deepgrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from deepgrad.autograd.gradcheck import GradcheckReport, gradcheck
from deepgrad.autograd.function import Function, FunctionCtx, once_differentiable


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused=None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
):
    """d outputs / d inputs, returned as a tuple; no tensor's ``.grad`` is touched.

    As ``torch.autograd.grad``: ``outputs`` and ``grad_outputs`` may be tensors or sequences;
    an input the outputs do not depend on is an error unless ``allow_unused=True`` (then its
    gradient is None, or zeros with ``materialize_grads=True``). Not supported:
    ``create_graph=True`` and ``is_grads_batched=True`` (deepgrad's backward runs on arrays).
    """
    import numpy as np

    from deepgrad.autograd import engine
    from deepgrad.tensor import Tensor, _as_array, _wrap

    if create_graph or is_grads_batched:
        raise NotImplementedError(
            "autograd.grad: create_graph=True / is_grads_batched=True need a recorded backward "
            "pass, which deepgrad (gradients computed on arrays) does not build."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs "
            f"and {len(outputs)} outputs"
        )
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors (index {i}) does not require grad"
            )
    total = {id(t): None for t in inputs}
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"element {k} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {k} has "
                    f"shape {tuple(out.shape)}. Pass grad_outputs (e.g. torch.ones_like(out))."
                )
            g = np.ones_like(out._data)
        else:
            g = _as_array(g, out._data.dtype)
        keep = bool(retain_graph) or k < len(outputs) - 1  # later outputs may share the graph
        got = engine.backward(out, g, retain_graph=keep, inputs=inputs)
        for key, value in got.items():
            if value is not None:
                total[key] = value if total[key] is None else total[key] + value
    result = []
    for i, t in enumerate(inputs):
        g = total[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(_wrap(np.zeros_like(t._data)) if materialize_grads else None)
        else:
            result.append(_wrap(np.array(g, dtype=t._data.dtype)))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``torch.autograd.backward``: ``sum(t.backward(g) for t, g in zip(tensors, grads))``."""
    from deepgrad.tensor import Tensor

    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors)
    for k, (t, g) in enumerate(zip(tensors, grad_tensors)):
        keep = bool(retain_graph) or k < len(tensors) - 1
        t.backward(g, retain_graph=keep, create_graph=create_graph, inputs=inputs)


__all__ = [
    "Function",
    "FunctionCtx",
    "Op",
    "once_differentiable",
    "ModelCheckReport",
    "ParamCheck",
    "check_model",
    "GradcheckReport",
    "enable_grad",
    "backward",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]

# ---- census extras (issue 14) ------------------------------------------------------------
from deepgrad.autograd import functional  # noqa: E402, F401
from deepgrad.autograd.variable import Variable  # noqa: E402, F401
