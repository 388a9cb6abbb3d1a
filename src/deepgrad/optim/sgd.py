"""Stochastic gradient descent, with optional momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.backend import array_module
from deepgrad.optim.optimizer import (
    Optimizer,
    _check_nonnegative,
    _fast_path,
    _no_differentiable,
    _wants_kernels,
)
from deepgrad.tensor import _wrap


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With learning rate :math:`\gamma`, weight decay :math:`\lambda`, momentum :math:`\mu` and
    dampening :math:`\tau`, each step does, for every parameter :math:`\theta` with a gradient::

        g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
        if lambda != 0:  g_t = g_t + lambda * theta_{t-1}            # L2 penalty in the gradient
        if mu != 0:
            b_t = g_t                          if t == 1
            b_t = mu * b_{t-1} + (1 - tau) * g_t   otherwise
            g_t = g_t + mu * b_t               if nesterov  else  b_t
        theta_t = theta_{t-1} - gamma * g_t

    This is PyTorch's form of momentum, :math:`v \leftarrow \mu v + g`,
    :math:`\theta \leftarrow \theta - \gamma v` (Sutskever et al. put :math:`\gamma` inside
    the velocity; the two agree for a constant learning rate). The buffer starts at the first
    gradient, so dampening applies from the second step on.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 1e-3).
        momentum: momentum factor :math:`\mu` (default 0).
        dampening: dampening :math:`\tau` for momentum (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        nesterov: use Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: maximise the objective instead of minimising it.
        foreach, fused: None (default) or True runs float32 groups as one fused multi-threaded
            pass (``deepgrad.kernels``), False the plain NumPy step; the numbers are the same
            (see ``optim.optimizer._fast_path``).
        differentiable: accepted for PyTorch compatibility; ``True`` is not supported.

    Example::

        opt = deepgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _no_differentiable(differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            **_fast_path(foreach, fused),
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        state = self.state
        tmp = self._tmp
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            params = [p for p in group["params"] if p.grad is not None]
            bufs = [state[p].get("momentum_buffer") for p in params] if momentum else []
            if _wants_kernels(group) and all(b is not None for b in bufs):
                arrays = [[p._data, p.grad._data] for p in params]
                for a, b in zip(arrays, bufs):
                    a.append(b._data)
                flags = (bool(weight_decay), bool(maximize), bool(momentum), bool(dampening),
                         bool(nesterov))  # fmt: skip
                scalars = [(weight_decay, momentum, 1.0 - dampening, lr)] * len(params)
                if kernels.optimizer_step("sgd", flags, arrays, scalars):
                    continue
            for p in params:  # the reference: one NumPy operation at a time
                grad = p.grad
                x = p._data
                if type(x) is not np.ndarray:  # a GPU parameter: one fused kernel
                    from deepgrad.cuda.fused import sgd_update

                    sgd_update(state[p] if momentum else None, x, grad._data, lr, momentum,
                               dampening, weight_decay, nesterov, maximize)  # fmt: skip
                    continue
                d = self._direction(x, grad._data, weight_decay, maximize)
                owned = d is not grad._data  # a scratch array we may overwrite
                if momentum:
                    st = state[p]
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        b = array_module(d).array(d)  # a copy, an array even for a scalar
                        st["momentum_buffer"] = _wrap(b)
                    else:
                        b = buf._data
                        b *= momentum
                        if dampening:
                            if owned:  # d is not needed after this (nesterov needs tau = 0)
                                d *= 1.0 - dampening
                                b += d
                            else:
                                t = tmp(x, 1)
                                np.multiply(d, 1.0 - dampening, out=t)
                                b += t
                        else:
                            b += d
                    if nesterov:
                        t = tmp(x, 1)
                        np.multiply(b, momentum, out=t)
                        np.add(d, t, out=t)
                        d, owned = t, True
                    else:
                        d, owned = b, False
                if owned:
                    d *= lr
                else:
                    d = np.multiply(d, lr, out=tmp(x, 0))
                x -= d
        return loss
