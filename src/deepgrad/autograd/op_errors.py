"""The errors an op's forward or backward can meet, turned into messages that name the op,
the shapes or devices involved, and the fix."""

from __future__ import annotations

import numpy as np

from deepgrad.device import device_of, mismatch_error, move


def check_one_device(cls, inputs) -> None:
    """Raise PyTorch's error if a GPU op had a CPU input with dimensions (0-d CPU inputs may
    join a GPU op, as in PyTorch). Runs after every GPU op, so it only looks at array types."""
    for t in inputs:
        if type(t._data) is np.ndarray and t._data.ndim:
            raise mismatch_error([t._data for t in inputs])


def retry_on_one_device(ctx, cls, inputs, params, err: TypeError):
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


def explain_broadcast(cls, inputs, err: ValueError) -> Exception:
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


def freed_graph_error(ctx) -> RuntimeError:
    """Backward reached a node whose saved arrays an earlier backward already freed."""
    return RuntimeError(
        f"backward() reached {ctx.op_name()}, whose saved values were already freed by "
        "an earlier backward(). Pass retain_graph=True to the first backward() if you "
        "need to back-propagate through the same graph twice, or recompute the forward "
        "pass."
    )
