"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.adam import _check_betas
from deepgrad.optim.optimizer import Optimizer, _check_nonnegative, _lerp_, _no_differentiable
from deepgrad.tensor import _wrap


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2014, section 7), as ``torch.optim.Adamax``.

    Adam's second moment, an exponentially weighted L2 norm of past gradients, is replaced by
    an exponentially weighted infinity norm (a running maximum of :math:`|g|`), which needs no
    bias correction::

        input: gamma (lr), beta1, beta2 (betas), epsilon, lambda (weight decay)
        m_0 = 0, u_0 = 0
        for t = 1, 2, ...:
            g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
            if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
            m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
            u_t = max(beta2 * u_{t-1}, |g_t| + epsilon)
            theta_t = theta_{t-1} - (gamma / (1 - beta1^t)) * m_t / u_t

    As in PyTorch, epsilon is added to :math:`|g_t|` inside the maximum, so :math:`u_t > 0`.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 2e-3).
        betas: :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
        eps: added to :math:`|g|` for numerical stability (default 1e-8).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        maximize: maximise the objective instead of minimising it.
        foreach, differentiable, capturable: accepted for PyTorch compatibility.
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        betas = _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        _no_differentiable(differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adamax update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        state = self.state
        tmp = self._tmp
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                x = p._data
                st = state[p]
                if len(st) == 0:
                    st["step"] = 0.0
                    st["exp_avg"] = _wrap(np.zeros_like(x))
                    st["exp_inf"] = _wrap(np.zeros_like(x))
                st["step"] = step = st["step"] + 1.0
                d = self._direction(x, grad._data, weight_decay, maximize)
                m = st["exp_avg"]._data
                u = st["exp_inf"]._data
                t = tmp(x, 1)
                _lerp_(m, d, 1.0 - beta1, t)
                u *= beta2
                np.abs(d, out=t)
                t += eps
                np.maximum(u, t, out=u)
                clr = lr / (1 - beta1**step)
                np.divide(m, u, out=t)
                t *= clr
                x -= t
        return loss
