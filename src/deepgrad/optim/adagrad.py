"""AdaGrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats
from deepgrad.tensor import _wrap


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    Each coordinate gets its own step size, shrinking with the squared gradients seen so far::

        input: gamma (lr), lambda (weight decay), eta (lr decay), tau (initial accumulator),
               epsilon
        state_sum_0 = tau
        for t = 1, 2, ...:
            g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
            gamma_t = gamma / (1 + (t - 1) * eta)
            if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
            state_sum_t = state_sum_{t-1} + g_t^2
            theta_t = theta_{t-1} - gamma_t * g_t / (sqrt(state_sum_t) + epsilon)

    All operations are element-wise. State (``step``, ``sum``) is created for every parameter
    when the optimiser is built, as in PyTorch.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 1e-2).
        lr_decay: learning-rate decay :math:`\eta` (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        initial_accumulator_value: starting value :math:`\tau` of the sum (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximise the objective instead of minimising it.
        foreach, fused: None (default) or True runs float32 groups as one fused multi-threaded
            pass, False the plain NumPy step; the numbers are the same (see ``SGD``).
        differentiable: accepted for PyTorch compatibility (see ``SGD``).
    """

    __init__ = constructor(
        dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
        switches=("foreach",),
        keyword_only=("maximize", "differentiable", "fused"),
        checks=("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
        eager_state=True,  # as PyTorch's Adagrad
    )

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  sum = sum + g^2;
        theta = theta - gamma / (1 + (t - 1) eta) * g / (sqrt(sum) + eps)."""
        lr, lr_decay, weight_decay, eps = _floats(group, "lr", "lr_decay", "weight_decay", "eps")
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        d = self._direction(x, g, weight_decay, group["maximize"])
        s, t = state["sum"]._data, self._tmp(x, 1)
        s += np.multiply(d, d, out=t)
        np.sqrt(s, out=t)
        t += eps
        x -= np.multiply(np.divide(d, t, out=t), clr, out=t)

    def _init_state(self, state, x, group) -> None:
        state["step"] = 0.0
        state["sum"] = _wrap(np.full_like(x, group["initial_accumulator_value"]))

    def _state_buffers(self, group) -> list[str]:
        return ["sum"]

    def _fused_step(self, group, params, states) -> bool:
        lr, lr_decay, weight_decay, eps = _floats(group, "lr", "lr_decay", "weight_decay", "eps")
        flags = (bool(weight_decay), bool(group["maximize"]))
        scalars = [(weight_decay, eps, lr / (1 + (st["step"] - 1) * lr_decay)) for st in states]
        return self._run_kernel("adagrad", group, params, states, flags, scalars)
