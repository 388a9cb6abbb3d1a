"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.optim.optimizer import (
    Optimizer,
    _check_nonnegative,
    _lerp_,
    _no_differentiable,
    _wants_kernels,
)
from deepgrad.tensor import _wrap


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    AdaGrad's sum of squared gradients becomes an exponential moving average, so old gradients
    are forgotten and the step size does not decay to zero::

        input: gamma (lr), alpha (smoothing), epsilon, lambda (weight decay), mu (momentum)
        v_0 = 0 (square average), b_0 = 0 (buffer), g^ave_0 = 0
        for t = 1, 2, ...:
            g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
            if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
            v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
            if centered:
                g^ave_t = g^ave_{t-1} + (1 - alpha) * (g_t - g^ave_{t-1})
                denom = sqrt(v_t - (g^ave_t)^2) + epsilon
            else:
                denom = sqrt(v_t) + epsilon
            if mu > 0:
                b_t = mu * b_{t-1} + g_t / denom
                theta_t = theta_{t-1} - gamma * b_t
            else:
                theta_t = theta_{t-1} - gamma * g_t / denom

    ``centered=True`` normalises by an estimate of the gradient's variance instead of its raw
    second moment. Note that PyTorch (and so deepgrad) adds epsilon *outside* the square root,
    unlike TensorFlow/Keras.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 1e-2).
        alpha: smoothing constant :math:`\alpha` (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        momentum: momentum factor :math:`\mu` (default 0).
        centered: use the centred variant (default False).
        maximize: maximise the objective instead of minimising it.
        foreach: None (default) or True runs float32 groups as one fused multi-threaded pass,
            False the plain NumPy step; the numbers are the same (see ``SGD``).
        capturable, differentiable: accepted for PyTorch compatibility (see ``SGD``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_nonnegative(
            lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha
        )
        _no_differentiable(differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,  # PyTorch's RMSprop has no `fused`
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        state = self.state
        tmp = self._tmp
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                x = p._data
                st = state[p]
                if len(st) == 0:
                    st["step"] = 0.0
                    st["square_avg"] = _wrap(np.zeros_like(x))
                    if momentum > 0:
                        st["momentum_buffer"] = _wrap(np.zeros_like(x))
                    if centered:
                        st["grad_avg"] = _wrap(np.zeros_like(x))
                st["step"] += 1.0
            if _wants_kernels(group) and self._fused_step(group, params):
                continue
            for p in params:  # the reference: one NumPy operation at a time
                grad = p.grad
                x = p._data
                st = state[p]
                d = self._direction(x, grad._data, weight_decay, maximize)
                v = st["square_avg"]._data
                t = tmp(x, 1)
                v *= alpha
                np.multiply(d, 1.0 - alpha, out=t)
                t *= d
                v += t
                if centered:
                    ga = st["grad_avg"]._data
                    _lerp_(ga, d, 1.0 - alpha, t)
                    np.multiply(ga, ga, out=t)
                    np.subtract(v, t, out=t)
                    np.sqrt(t, out=t)
                else:
                    np.sqrt(v, out=t)
                t += eps
                np.divide(d, t, out=t)
                if momentum > 0:
                    b = st["momentum_buffer"]._data
                    b *= momentum
                    b += t
                    np.multiply(b, lr, out=t)
                else:
                    t *= lr
                x -= t
        return loss

    def _fused_step(self, group, params) -> bool:
        """The update above as one fused pass (``kernels.optimizer_step``); False if it
        cannot run (then nothing has changed)."""
        alpha = float(group["alpha"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        weight = 1.0 - alpha  # _lerp_'s weight, and the form it takes
        low = weight < 0.5
        arrays = []
        for p in params:
            st = self.state[p]
            a = [p._data, p.grad._data, st["square_avg"]._data]
            if momentum > 0:
                a.append(st["momentum_buffer"]._data)
            if centered:
                a.append(st["grad_avg"]._data)
            arrays.append(a)
        lerp_weight = weight if low else 1.0 - weight
        scalars = (float(group["weight_decay"]), alpha, 1.0 - alpha, lerp_weight,
                   float(group["eps"]), momentum, float(group["lr"]))  # fmt: skip
        flags = (bool(scalars[0]), bool(group["maximize"]), bool(centered), low, momentum > 0)
        return kernels.optimizer_step("rmsprop", flags, arrays, [scalars] * len(params))
