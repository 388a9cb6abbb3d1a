"""L1 and L2 penalties for the loss: lambda * Omega(theta) added by hand (course seed 002).

"Weights" are parameters with more than one dimension (weight matrices and convolution
kernels); biases and BatchNorm's scale/shift are 1-D and excluded by default, because the
course applies the regulariser "only on weights, not on biases".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor, _wrap


def _selected(model: Module | Iterable[Tensor], include_bias: bool) -> list[Tensor]:
    params = model.parameters() if isinstance(model, Module) else model
    if isinstance(params, Tensor):
        params = [params]
    return [p for p in params if include_bias or p.ndim > 1]


def _total(terms: list[Tensor]) -> Tensor:
    if not terms:
        return _wrap(np.zeros((), dtype=np.float32))
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l1_penalty(model: Module | Iterable[Tensor], include_bias: bool = False) -> Tensor:
    """Omega(theta) = sum_k sum_ij |W^(k)_ij| over the weights (ndim > 1) of ``model``.

    Differentiable: ``loss = loss_fn(out, y) + lam * l1_penalty(model)``. Pass
    ``include_bias=True`` to include 1-D parameters (biases) too. ``model`` may also be an
    iterable of parameters. L1 pushes some weights to exactly 0 (sparse models).
    """
    return _total([p.abs().sum() for p in _selected(model, include_bias)])


def l2_penalty(model: Module | Iterable[Tensor], include_bias: bool = False) -> Tensor:
    """Omega(theta) = sum_k ||W^(k)||_F^2 = sum_k sum_ij (W^(k)_ij)^2 over the weights
    (ndim > 1) of ``model``; no factor 1/2, as in the course.

    ``loss + lam * l2_penalty(model)`` has the gradient of SGD's ``weight_decay=2 * lam``
    restricted to the weights (``weight_decay`` in the optimisers decays biases too, unless
    you put them in a separate parameter group).
    """
    return _total([(p * p).sum() for p in _selected(model, include_bias)])
