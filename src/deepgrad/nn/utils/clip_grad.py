"""Gradient clipping: rescale (``clip_grad_norm_``) or clamp (``clip_grad_value_``) ``.grad``
in place between ``backward()`` and ``optimizer.step()``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from deepgrad.backend import array_module
from deepgrad.tensor import Tensor, _wrap


def _grads(parameters) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

        total = || (||g_1||, ..., ||g_k||) ||_p       (p = norm_type; inf: the largest |g|)
        g <- g * min(1, max_norm / (total + 1e-6))

    Returns ``total`` (before clipping) as a 0-d tensor, like PyTorch. ``foreach`` is accepted
    and ignored.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return _wrap(np.array(0.0, dtype=np.float32))
    dtype = grads[0].dtype
    if norm_type == math.inf:
        norms = [np.abs(g).max() if g.size else np.zeros((), g.dtype) for g in grads]
        total = np.max(np.stack(norms).astype(dtype))
    else:
        norms = [
            np.sqrt(np.vdot(g, g))
            if norm_type == 2.0
            else (np.abs(g) ** norm_type).sum() ** (1.0 / norm_type)
            for g in grads
        ]
        stacked = np.stack(norms).astype(dtype)
        total = (np.abs(stacked) ** norm_type).sum() ** (1.0 / norm_type)
    total = array_module(total).asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = np.minimum(max_norm / (total + 1e-6), 1.0).astype(dtype)
    for g in grads:
        g *= coef.astype(g.dtype, copy=False)
    return _wrap(total)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach=None
) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
