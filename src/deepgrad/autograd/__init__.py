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


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False):
    """d outputs / d inputs, returned instead of accumulated into ``.grad``."""
    from deepgrad.tensor import Tensor

    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    saved = [(t.grad, t._retain) for t in inputs]
    for t in inputs:
        t.grad = None
        t._retain = t._ctx is not None
    try:
        outputs.backward(grad_outputs, retain_graph=retain_graph)
        result = tuple(t.grad for t in inputs)
    finally:
        for t, (g, r) in zip(inputs, saved):
            t.grad, t._retain = g, r
    return result


__all__ = [
    "Op",
    "ModelCheckReport",
    "ParamCheck",
    "check_model",
    "GradcheckReport",
    "enable_grad",
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
