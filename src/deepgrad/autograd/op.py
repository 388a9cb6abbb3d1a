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
        return f"<{self.op_name()}Backward>"

    @property
    def name(self) -> str:
        return self.op_name()

    def free(self) -> None:
        self.saved = None
        self.freed = True


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
