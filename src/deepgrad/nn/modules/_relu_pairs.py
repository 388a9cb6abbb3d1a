"""A layer and the ReLU after it, run as one step by ``Sequential``.

In inference (``no_grad``, or a model whose parameters are frozen) the output of a Linear or
convolution is a new array that only the Sequential holds until the ReLU after it. The ReLU
can then be written into that array instead of a second one, and a Linear's product can be
rectified block by block while each block is still in its core's cache
(``ops.linalg.linear_relu``). In training the same holds for a Linear (its backward reads its
input and weight, never its output): its node computes the rectified product and the ReLU's
node is recorded on the same array (10-18 us a step of the course MLP at batch 128 on a
2-core AMD EPYC went to the two ReLU passes this saves). Nothing a user can observe
changes: the values and gradients are the two layers' (bit for bit), and a pair with hooks,
or a subclass (which may keep its output), runs as two ordinary calls. On the course MLP's
inference at batch 1000 this took the first ReLU from about 190 us (a new array, a
second pass) to about 100 in place, and the row blocks took the first product and ReLU together
a further 80-140 us lower (2.57-2.67 ms), the second 35-65.
"""

from __future__ import annotations

from deepgrad.autograd.grad_mode import state as _grad_state
from deepgrad.nn.module import Module
from deepgrad.nn.modules.activation import ReLU
from deepgrad.nn.modules.conv import Conv1d, Conv2d
from deepgrad.nn.modules.linear import Linear
from deepgrad.ops.elementwise import ReLU as _ReLUOp
from deepgrad.ops.linalg import Linear as _LinearOp
from deepgrad.ops.linalg import linear_relu
from deepgrad.tensor import Tensor, _wrap

_relu = _ReLUOp.apply
_linear = _LinearOp.apply

#: Layers whose forward returns a new array that nothing else refers to (a product's result).
_NEW_ARRAY_LAYERS = (Linear, Conv1d, Conv2d)


def _plain(module: Module) -> bool:
    return not (module._forward_hooks or module._forward_pre_hooks)


def fusable(layer: Module, after) -> bool:
    """True when ``layer`` (exactly one of the classes above) and the ``after`` module (a
    ReLU), neither with hooks, may run as one step (``layer_then_relu`` decides how)."""
    return (
        type(after) is ReLU and type(layer) in _NEW_ARRAY_LAYERS and _plain(layer) and _plain(after)
    )


def layer_then_relu(layer: Module, input) -> tuple:
    """``(relu(layer(input)), True)`` computed in the layer's new array, or
    ``(layer(input), False)`` and the ReLU runs as usual. Without a graph, for every layer
    above; with one, after a Linear only, whose backward reads its input and weight, never
    its output (a convolution's kernels may keep theirs)."""
    if type(layer) is Linear and type(input) is Tensor:
        out = _linear_relu(layer, input)
        if out is not None:
            return out, True
    out = layer(input)
    if type(out) is not Tensor:
        return out, False
    if not out.requires_grad:
        return out.relu_(), True
    return out, False


def _linear_relu(layer: Linear, input: Tensor):
    """relu(layer(input)) with the product's threads rectifying their own blocks
    (``ops.linalg.linear_relu``), or None where Linear's own call must run (it explains a
    wrong shape, dtype or device). In training the Linear's node and then the ReLU's node
    are recorded on that one array, as two calls in turn would record them."""
    weight, bias = layer.weight, layer.bias
    x, w = input._data, weight._data
    if type(x) is not type(w) or x.ndim == 0 or x.shape[-1] != w.shape[1] or x.dtype != w.dtype:
        return None
    if _grad_state.enabled and (
        input.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):  # a graph is recorded
        if bias is None:
            return _relu(_linear(input, weight, relu=True), rectified=True)
        return _relu(_linear(input, weight, bias, relu=True), rectified=True)
    return _wrap(linear_relu(x, w, None if bias is None else bias._data))
