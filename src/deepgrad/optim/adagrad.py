"""AdaGrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.optimizer import Optimizer, _check_nonnegative, _no_differentiable
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
        foreach, differentiable, fused: accepted for PyTorch compatibility (see ``SGD``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_nonnegative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        _no_differentiable(differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> dict:
        st = self.state[p]
        st["step"] = 0.0
        st["sum"] = _wrap(np.full_like(p._data, group["initial_accumulator_value"]))
        return st

    def step(self, closure=None):
        """One AdaGrad update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        state = self.state
        tmp = self._tmp
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                x = p._data
                st = state[p]
                if "sum" not in st:  # a group added after construction
                    st = self._init_state(p, group)
                st["step"] = step = st["step"] + 1.0
                d = self._direction(x, grad._data, weight_decay, maximize)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = st["sum"]._data
                t = tmp(x, 1)
                np.multiply(d, d, out=t)
                s += t
                np.sqrt(s, out=t)
                t += eps
                np.divide(d, t, out=t)
                t *= clr
                x -= t
        return loss
