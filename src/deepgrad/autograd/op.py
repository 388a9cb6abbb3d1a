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
from deepgrad.autograd.node_names import AccumulateGrad, torch_node_name
from deepgrad.autograd.op_errors import check_one_device, explain_broadcast, retry_on_one_device


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
            raise explain_broadcast(cls, inputs, err) from err
        except TypeError as err:  # CuPy refuses NumPy operands: inputs on different devices?
            out = retry_on_one_device(ctx, cls, inputs, params, err)
        if type(out) is not np.ndarray:
            if isinstance(out, np.generic):
                out = np.asarray(out)
            elif not cls.crosses_devices:  # a GPU result: every input must have been there
                check_one_device(cls, inputs)
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


from deepgrad.tensor import Tensor  # noqa: E402 - Tensor's module imports the ops, which import us

_new = object.__new__
