"""PyTorch's custom-function API: subclass ``deepgrad.autograd.Function``.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    y = Exp.apply(x)

``forward`` runs on tensors with gradient recording off; ``backward`` receives one gradient
per output and returns one per ``forward`` argument (None for non-tensors or inputs that need
none). The graph node recorded for each output is an ``Op`` (``deepgrad.autograd.op``), so the
engine, ``gradcheck`` and graph drawing treat custom functions like built-in ops.

Deviations from PyTorch: ``backward`` itself is not differentiated (no double backward);
with several outputs, ``backward`` is called once per output that receives a gradient, with
zeros for the others (the sum is the same, as backward is linear in its gradients).
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.grad_mode import no_grad
from deepgrad.autograd.grad_mode import state as _grad_state
from deepgrad.autograd.op import Op


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``: what forward leaves for backward."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.to_save = ()
        self.non_differentiable = set()
        self.materialize_grads = True
        self._freed = False

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``."""
        for t in tensors:
            if t is not None and not _is_tensor(t):
                raise TypeError(
                    f"save_for_backward can only save tensors (or None), got "
                    f"{type(t).__name__}; store other values as attributes: ctx.value = ..."
                )
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Specify retain_graph=True if you "
                "need to backward through the graph a second time."
            )
        return tuple(self.to_save)

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs that get no gradient (e.g. indices): they come out with requires_grad=False."""
        self.non_differentiable.update(id(t) for t in outputs)

    def mark_dirty(self, *tensors) -> None:
        """Accepted for compatibility; deepgrad does not track in-place changes."""

    def set_materialize_grads(self, value: bool) -> None:
        """With False, outputs that get no gradient pass None to backward instead of zeros."""
        self.materialize_grads = value


class _CustomNode(Op):
    """The graph node of one output of a custom Function; backward calls the user's."""

    function = None  # the Function subclass, set by FunctionMeta

    def name(self) -> str:
        return type(self).__name__

    def backward(self, g):
        grads = []
        for k, meta in enumerate(self.output_meta):
            if k == self.index:
                grads.append(_wrap(g))
            elif meta is None or not self.ctx.materialize_grads:
                grads.append(None)
            else:
                grads.append(_wrap(np.zeros(meta[0], meta[1])))
        with no_grad():
            result = self.function.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < self.n_args:
            raise RuntimeError(
                f"function {type(self).__name__} returned an incorrect number of gradients "
                f"(expected {self.n_args}, got {len(result)}): backward must return one "
                "gradient per forward argument (None for non-tensor arguments)."
            )
        out = []
        for pos, inp in zip(self.arg_positions, self.inputs):
            r = result[pos]
            if r is None:
                out.append(None)
                continue
            arr = r._data if _is_tensor(r) else np.asarray(r)
            if arr.shape != inp._data.shape and arr.size == inp._data.size:
                arr = arr.reshape(inp._data.shape)
            out.append(arr)
        return tuple(out)

    def free(self) -> None:
        self.freed = True
        if self.n_outputs == 1:
            self.ctx._freed = True
            self.ctx.to_save = ()


class FunctionMeta(type):
    """Gives every Function subclass its node class, named ``<Name>Backward`` as in PyTorch."""

    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        if not bases:  # Function itself: only its subclasses get a node class
            return
        cls._backward_cls = type(
            f"{name}Backward", (_CustomNode,), {"function": cls, "__module__": cls.__module__}
        )


class Function(metaclass=FunctionMeta):
    """Base class of custom differentiable functions (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):  # pragma: no cover - overridden by users
        raise NotImplementedError

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(
            "Custom autograd.Function subclasses are not instantiated: call them with "
            f"{type(self).__name__}.apply(...), and make forward and backward @staticmethods."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, if an input requires grad, record a node whose backward is
        ``cls.backward``."""
        tensor_pos = [i for i, a in enumerate(args) if _is_tensor(a)]
        needs = tuple(_is_tensor(a) and a.requires_grad for a in args)
        record = _grad_state.enabled and any(needs)
        ctx = FunctionCtx(needs)
        uses_setup = "setup_context" in _defined_on(cls)
        with no_grad():
            if uses_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        results = []
        n = len(outputs)
        for k, out in enumerate(outputs):
            if not _is_tensor(out):
                results.append(out)
                continue
            t = _wrap(out._data)
            if record and id(out) not in ctx.non_differentiable and out._data.dtype.kind == "f":
                node = object.__new__(cls._backward_cls)
                node.ctx, node.index, node.n_outputs = ctx, k, n
                node.arg_positions = tensor_pos
                node.n_args = len(args)
                node.output_meta = [
                    (o._data.shape, o._data.dtype) if _is_tensor(o) else None for o in outputs
                ]
                node.inputs = tuple(args[i] for i in tensor_pos)
                node.needs_input_grad = tuple(needs[i] for i in tensor_pos)
                t._ctx = node
                t.requires_grad = True
            results.append(t)
        return results[0] if single else tuple(results)


def _defined_on(cls) -> set:
    names = set()
    for klass in cls.__mro__:
        if klass is Function:
            break
        names.update(vars(klass))
    return names


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def once_differentiable(fn):
    """PyTorch's decorator for a backward that is not itself differentiable; deepgrad's
    backward never is, so it returns ``fn`` unchanged."""
    return fn


from deepgrad.tensor import Tensor, _wrap  # noqa: E402 - tensor imports the autograd package
