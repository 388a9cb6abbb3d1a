"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    The update is scaled by the ratio of two running root-mean-squares, so its units match the
    parameter's and the learning rate can stay at 1::

        input: gamma (lr), rho (decay), epsilon, lambda (weight decay)
        v_0 = 0 (square average), u_0 = 0 (accumulated update)
        for t = 1, 2, ...:
            g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
            if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
            v_t = rho v_{t-1} + (1 - rho) g_t^2
            dx_t = sqrt(u_{t-1} + epsilon) / sqrt(v_t + epsilon) * g_t
            u_t = rho u_{t-1} + (1 - rho) dx_t^2
            theta_t = theta_{t-1} - gamma dx_t

    All operations are element-wise. State (``step``, ``square_avg``, ``acc_delta``) is created
    on a parameter's first update, as in PyTorch.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` that scales the update (default 1.0).
        rho: decay :math:`\rho` of both running averages (default 0.9).
        eps: added inside both square roots for numerical stability (default 1e-6).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        maximize: maximise the objective instead of minimising it.
        foreach, capturable, differentiable: accepted for PyTorch compatibility (see ``SGD``).
    """

    __init__ = constructor(
        dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
        switches=("foreach",),
        keyword_only=("capturable", "maximize", "differentiable"),
        checks=("lr", "rho", "eps", "weight_decay"),
    )

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  v = rho v + (1 - rho) g^2;
        dx = sqrt(u + eps) / sqrt(v + eps) g;  u = rho u + (1 - rho) dx^2;  theta -= gamma dx."""
        lr, rho, eps, weight_decay = _floats(group, "lr", "rho", "eps", "weight_decay")
        d = self._direction(x, g, weight_decay, group["maximize"])
        v, u = state["square_avg"]._data, state["acc_delta"]._data
        v *= rho
        v += (1 - rho) * d * d
        delta = np.sqrt(u + eps, out=self._tmp(x, 1))
        delta /= np.sqrt(v + eps)
        delta *= d
        u *= rho
        u += (1 - rho) * delta * delta
        delta *= lr
        x -= delta

    def _state_buffers(self, group) -> list[str]:
        return ["square_avg", "acc_delta"]
