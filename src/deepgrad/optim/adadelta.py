"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.optimizer import Optimizer, _check_nonnegative, _no_differentiable
from deepgrad.tensor import _wrap


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

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}; it must be in [0, 1]")
        _no_differentiable(differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adadelta update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        tmp = self._tmp
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                st = self.state[p]
                if "square_avg" not in st:
                    st["step"] = 0.0
                    st["square_avg"] = _wrap(np.zeros_like(x))
                    st["acc_delta"] = _wrap(np.zeros_like(x))
                st["step"] += 1.0
                d = self._direction(x, p.grad._data, weight_decay, maximize)
                v, u = st["square_avg"]._data, st["acc_delta"]._data
                v *= rho
                v += (1 - rho) * d * d
                delta = tmp(x, 1)
                np.sqrt(u + eps, out=delta)
                delta /= np.sqrt(v + eps)
                delta *= d
                u *= rho
                u += (1 - rho) * delta * delta
                delta *= lr
                x -= delta
        return loss
