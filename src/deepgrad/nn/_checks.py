"""Diagnostics for the classic mistakes with losses (beyond PyTorch).

Each check is a few vectorised reductions at most, and most return after looking at one row.
Problems that make the result meaningless raise an error; suspicious but legal inputs give a
``LikelyMistakeWarning`` (shown once per line of user code by Python's default filter; silence
them with ``warnings.filterwarnings("ignore", category=nn.LikelyMistakeWarning)``).
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LikelyMistakeWarning(UserWarning):
    """Raised by deepgrad's diagnostics for inputs that are legal but almost surely a bug."""


def warn(message: str) -> None:
    """Warn, attributing the warning to the first frame outside deepgrad (the user's line)."""
    level = 2  # stacklevel 2 is our caller, sys._getframe(1)
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, LikelyMistakeWarning, stacklevel=level)


def shape_str(shape) -> str:
    return str(tuple(int(n) for n in shape))


# ---------------------------------------------------------------------------- class targets
def class_index_shape(input_shape) -> tuple:
    """The target shape that class indices need for an input of ``input_shape``."""
    return () if len(input_shape) == 1 else tuple(input_shape[:1]) + tuple(input_shape[2:])


def check_class_targets(name: str, x: np.ndarray, t: np.ndarray, allow_probs: bool) -> bool:
    """Validate a target for a (N, C, ...) input; True if it holds class probabilities.

    Integer targets must be class indices of shape (N, ...); float targets (only where
    ``allow_probs``) must have exactly the input's shape.
    """
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: the input (the model's scores) must be floating point, got {x.dtype}. "
            f"Convert it with .float()."
        )
    if x.ndim == 0:
        raise ValueError(f"{name}: the input must have a class dimension, got a 0-d tensor")
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    want = class_index_shape(x.shape)
    kind = t.dtype.kind
    if kind == "f":
        if t.shape == x.shape and allow_probs:
            return True
        if t.shape == want:
            raise RuntimeError(
                f"{name}: the target has dtype {t.dtype} and shape {shape_str(t.shape)}, which "
                f"looks like class indices, but class indices must be integers. Use "
                f"target.long(). (A float target is read as class probabilities and must then "
                f"have the input's shape {shape_str(x.shape)}.)"
            )
        raise ValueError(
            f"{name}: the target of shape {shape_str(t.shape)} doesn't match the input of shape "
            f"{shape_str(x.shape)} ({c} classes). Targets are either class indices of shape "
            f"{shape_str(want)} (integers in [0, {c})) or"
            + (
                " class probabilities / one-hot rows with exactly the input's shape"
                if allow_probs
                else " nothing else for this loss"
            )  # fmt: skip
            + f". If one-hot targets have the wrong number of columns, build them with "
            f"F.one_hot(y, num_classes={c}), or pass the class indices y.argmax(dim=1)."
        )
    if kind not in "iu":
        raise RuntimeError(
            f"{name}: the target must hold integer class indices (int64), got {t.dtype}. "
            f"Use target.long()."
        )
    if t.shape != want:
        if t.shape == x.shape:
            raise ValueError(
                f"{name}: the target has the input's shape {shape_str(x.shape)} and integer "
                f"values: it looks one-hot encoded, but {name} expects class indices of shape "
                f"{shape_str(want)}. Pass target.argmax(dim=1)"
                + (
                    ", or target.float() to use the rows as class probabilities."
                    if allow_probs
                    else "."
                )  # fmt: skip
            )
        hint = ""
        if t.size == int(np.prod(want)):
            hint = f" Reshape it with target.view({', '.join(map(str, want)) or ''}) or squeeze()."
        raise ValueError(
            f"{name}: expected class indices of shape {shape_str(want)} for an input of shape "
            f"{shape_str(x.shape)}, but the target has shape {shape_str(t.shape)}.{hint}"
        )
    return False


def check_class_range(name: str, t: np.ndarray, c: int, ignore_index: int):
    """Raise for indices outside [0, c) (other than ``ignore_index``); return the boolean mask
    of ignored targets, or None when none are ignored (checked without a full pass when
    possible: min and max first)."""
    if t.size == 0:
        return None
    if type(t) is not np.ndarray:
        # A GPU array: checking would copy to the host and stall the GPU queue every step.
        # PyTorch checks inside its CUDA kernel (a device-side assert); deepgrad does not check
        # class indices on the GPU. ignore_index can only match when it is a valid class.
        return (t == ignore_index).reshape(-1) if 0 <= ignore_index < c else None
    lo, hi = np.minimum.reduce(t, axis=None), np.maximum.reduce(t, axis=None)  # t.min(), t.max()
    ignored = None
    if lo <= ignore_index <= hi:
        mask = t == ignore_index
        if mask.any():
            ignored = mask.reshape(-1)
            rest = t[~mask]
            lo, hi = (rest.min(), rest.max()) if rest.size else (0, 0)
    if lo < 0 or hi >= c:
        bad = int(hi if hi >= c else lo)
        raise IndexError(
            f"{name}: target value {bad} is out of range for {c} classes (valid class indices "
            f"are 0..{c - 1}). Class labels must start at 0 (if yours run 1..{c}, subtract 1), "
            f"and the last layer needs as many outputs as there are classes."
        )
    return ignored


def warn_if_probabilities(name: str, x: np.ndarray, fix: str) -> None:
    """Warn when every row of class scores is non-negative and sums to 1 (within 1e-3):
    scores that already went through softmax. Looks at one row before scanning all."""
    if x.ndim == 0 or x.size == 0 or type(x) is not np.ndarray:  # GPU: no host copy for a hint
        return
    axis = 1 if x.ndim >= 2 else 0
    if x.shape[axis] < 2:
        return
    first = x[0] if x.ndim >= 2 else x
    if np.minimum.reduce(first, axis=None) < 0 or abs(first.sum(axis=0) - 1).max() > 1e-3:
        return
    if x.min() < 0 or abs(x.sum(axis=axis) - 1).max() > 1e-3:
        return
    warn(
        f"{name} received inputs that look like probabilities: every row is non-negative "
        f"and sums to 1. {fix}"
    )


# ---------------------------------------------------------------------------- shapes
def warn_if_broadcast(name: str, x_shape, t_shape) -> None:
    if tuple(x_shape) != tuple(t_shape):
        warn(
            f"{name}: the target size {shape_str(t_shape)} is different from the input size "
            f"{shape_str(x_shape)}, so they will be broadcast against each other, which is "
            f"almost never intended (e.g. (N, 1) against (N,) gives an (N, N) matrix of "
            f"differences). Make the shapes equal: output.squeeze(1) or target.view(-1, 1)."
        )


def require_same_shape(name: str, x_shape, t_shape) -> None:
    if tuple(x_shape) != tuple(t_shape):
        raise ValueError(
            f"{name}: using a target size {shape_str(t_shape)} that is different from the "
            f"input size {shape_str(x_shape)}. Make them equal, e.g. target.view(-1, 1) "
            f"(or target.view_as(output)) when the model outputs (N, 1)."
        )
