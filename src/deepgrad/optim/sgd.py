"""Stochastic gradient descent, with optional momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from deepgrad.backend import array_module
from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats
from deepgrad.tensor import _wrap


def _check_nesterov(arguments: dict) -> None:
    if arguments["nesterov"] and (arguments["momentum"] <= 0 or arguments["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")


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

    Deviation from PyTorch, on purpose: a NaN ``lr``, ``momentum`` or ``weight_decay`` is
    rejected with the message PyTorch's other optimisers give (PyTorch's SGD lets it through).

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
            (see ``optim.hyperparameters._fast_path``).
        differentiable: accepted for PyTorch compatibility; ``True`` is not supported.

    Example::

        opt = deepgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    """

    __init__ = constructor(
        dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0),
        switches=("nesterov",),
        keyword_only=("maximize", "foreach", "differentiable", "fused"),
        checks=("lr", "momentum", "weight_decay"),
        check=_check_nesterov,
    )

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  b = mu b + (1 - tau) g (b = g at first);
        g = g + mu b if nesterov else b;  theta = theta - gamma g."""
        lr, momentum, dampening, weight_decay = _floats(
            group, "lr", "momentum", "dampening", "weight_decay"
        )
        d = self._direction(x, g, weight_decay, group["maximize"])
        if momentum:
            t = self._tmp(x, 1)
            if state.get("momentum_buffer") is None:  # b_1 = g_1, a copy
                state["momentum_buffer"] = _wrap(array_module(d).array(d))
            else:
                b = state["momentum_buffer"]._data
                b *= momentum
                b += np.multiply(d, 1.0 - dampening, out=t) if dampening else d
            b = state["momentum_buffer"]._data
            d = np.add(d, np.multiply(b, momentum, out=t), out=t) if group["nesterov"] else b
        x -= np.multiply(d, lr, out=self._tmp(x, 0))

    def _state_of(self, p, group):
        return self.state[p] if group["momentum"] else None  # no momentum: no state, as PyTorch

    def _state_buffers(self, group) -> list[str]:
        return ["momentum_buffer"] if group["momentum"] else []

    def _fused_step(self, group, params, states) -> bool:
        lr, momentum, dampening, weight_decay = _floats(
            group, "lr", "momentum", "dampening", "weight_decay"
        )
        if momentum and any(state.get("momentum_buffer") is None for state in states):
            return False  # the first step makes the buffers (b_1 = g_1): the reference does
        flags = (bool(weight_decay), bool(group["maximize"]), bool(momentum), bool(dampening),
                 bool(group["nesterov"]))  # fmt: skip
        scalars = [(weight_decay, momentum, 1.0 - dampening, lr)] * len(params)
        return self._run_kernel("sgd", group, params, states, flags, scalars)

    def _gpu_update(self, x, g, state, group) -> bool:
        from deepgrad.cuda.fused import sgd_update

        hyper = _floats(group, "lr", "momentum", "dampening", "weight_decay")
        sgd_update(state, x, g, *hyper, group["nesterov"], group["maximize"])
        return True
