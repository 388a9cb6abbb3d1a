"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats, _lerp_


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

    __init__ = constructor(
        dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
        switches=("foreach",),
        keyword_only=("maximize", "differentiable", "capturable"),
        checks=("lr", "eps", "betas", "weight_decay"),
    )

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  m = lerp(m, g, 1 - beta1);  u = max(beta2 u, |g| + eps);
        theta = theta - gamma / (1 - beta1^t) * m / u."""
        lr, (beta1, beta2), eps, weight_decay = _floats(group, "lr", "betas", "eps", "weight_decay")
        d = self._direction(x, g, weight_decay, group["maximize"])
        m, u, t = state["exp_avg"]._data, state["exp_inf"]._data, self._tmp(x, 1)
        _lerp_(m, d, 1.0 - beta1, t)
        u *= beta2
        np.maximum(u, np.add(np.abs(d, out=t), eps, out=t), out=u)
        x -= np.multiply(np.divide(m, u, out=t), lr / (1 - beta1 ** state["step"]), out=t)

    def _state_buffers(self, group) -> list[str]:
        return ["exp_avg", "exp_inf"]
