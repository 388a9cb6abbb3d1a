"""AdaGrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.optim.optimizer import (
    Optimizer,
    _check_nonnegative,
    _fast_path,
    _no_differentiable,
    _wants_kernels,
)
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
            **_fast_path(foreach, fused),
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
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if "sum" not in state[p]:  # a group added after construction
                    self._init_state(p, group)
                state[p]["step"] += 1.0
            if _wants_kernels(group) and self._fused_step(group, params):
                continue
            for p in params:  # the reference: one NumPy operation at a time
                x = p._data
                st = state[p]
                step = st["step"]
                d = self._direction(x, p.grad._data, weight_decay, maximize)
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

    def _fused_step(self, group, params) -> bool:
        """The update above as one fused pass (``kernels.optimizer_step``); False if it
        cannot run (then nothing has changed)."""
        lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
        weight_decay, eps = float(group["weight_decay"]), float(group["eps"])
        arrays, scalars = [], []
        for p in params:
            st = self.state[p]
            arrays.append([p._data, p.grad._data, st["sum"]._data])
            scalars.append((weight_decay, eps, lr / (1 + (st["step"] - 1) * lr_decay)))
        flags = (bool(weight_decay), bool(group["maximize"]))
        return kernels.optimizer_step("adagrad", flags, arrays, scalars)
