"""What a classifier's outputs mean, in NumPy: softmax, class probabilities, predicted classes.

The metrics, the plots, the ``deepgrad predict`` command and the playground read model outputs
through these functions, so every one of them turns logits into classes the same way. A model
returns scores of shape ``(N, C)`` (the class is the arg-max) or, for a binary model with one
output, ``(N,)`` or ``(N, 1)`` *logits* (class 1 where the logit is > 0, i.e. where
``sigmoid(logit) > 0.5``).
"""

from __future__ import annotations

import numpy as np

from deepgrad.device import move
from deepgrad.tensor import Tensor


def to_numpy(x) -> np.ndarray:
    """A deepgrad tensor (copied to the host if it lives on a GPU), a torch tensor, or anything
    ``np.asarray`` takes, as a NumPy array."""
    if isinstance(x, Tensor):
        return move(x._data, "cpu")
    if hasattr(x, "detach"):  # a torch.Tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(z)_k = e^{z_k - \max z} / \sum_j e^{z_j - \max z}` along ``axis``
    (subtracting the maximum keeps every exponent <= 0, so nothing overflows)."""
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def class_probabilities(scores) -> np.ndarray:
    r"""``(N, C)`` float64 class probabilities from logits: softmax over the columns, or for one
    binary logit per sample :math:`[1 - \sigma(s), \sigma(s)]`."""
    s = to_numpy(scores).astype(np.float64).reshape(len(scores), -1)
    if s.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-np.clip(s[:, 0], -500, 500)))
        return np.stack([1 - p1, p1], axis=1)
    return softmax(s, axis=1)


def predicted_classes(output, threshold: float = 0.0) -> np.ndarray:
    """Class indices from model outputs: arg-max over scores, or ``output > threshold`` for one
    binary logit per sample. Returns an int64 array of shape ``(N,)``."""
    out = to_numpy(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > threshold).astype(np.int64)


def true_classes(target) -> np.ndarray:
    """Class indices from targets: as given, the arg-max of one-hot rows, or ``target > 0.5``
    for binary 0./1. float targets. Returns an array of shape ``(N,)``."""
    t = to_numpy(target)
    if t.ndim == 2 and t.shape[1] > 1:
        return t.argmax(axis=1)
    t = t.reshape(len(t))
    return t if t.dtype.kind in "iub" else (t > 0.5).astype(np.int64)
