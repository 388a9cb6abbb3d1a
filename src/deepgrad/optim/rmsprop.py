"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats, _lerp_


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

    __init__ = constructor(  # PyTorch's RMSprop has no `fused` and no keyword-only arguments
        dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0),
        switches=("centered", "capturable", "foreach", "maximize", "differentiable"),
        checks=("lr", "eps", "momentum", "weight_decay", "alpha"),
    )

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  v = alpha v + (1 - alpha) g^2;
        denom = sqrt(v - g_ave^2) + eps, g_ave = lerp(g_ave, g, 1 - alpha) if centered, else
        sqrt(v) + eps;  b = mu b + g / denom;  theta = theta - gamma b (g / denom if mu = 0)."""
        lr, alpha, eps, weight_decay, momentum = _floats(
            group, "lr", "alpha", "eps", "weight_decay", "momentum"
        )
        d = self._direction(x, g, weight_decay, group["maximize"])
        v, t = state["square_avg"]._data, self._tmp(x, 1)
        v *= alpha
        v += np.multiply(np.multiply(d, 1.0 - alpha, out=t), d, out=t)
        if group["centered"]:
            g_ave = state["grad_avg"]._data
            _lerp_(g_ave, d, 1.0 - alpha, t)
            np.sqrt(np.subtract(v, np.multiply(g_ave, g_ave, out=t), out=t), out=t)
        else:
            np.sqrt(v, out=t)
        t += eps
        step = np.divide(d, t, out=t)
        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum
            step = np.add(b, step, out=b)
        x -= np.multiply(step, lr, out=t)

    def _state_buffers(self, group) -> list[str]:
        momentum, centered = group["momentum"] > 0, group["centered"]
        return ["square_avg"] + ["momentum_buffer"] * momentum + ["grad_avg"] * centered

    def _fused_step(self, group, params, states) -> bool:
        lr, alpha, eps, weight_decay, momentum = _floats(
            group, "lr", "alpha", "eps", "weight_decay", "momentum"
        )
        weight = 1.0 - alpha  # _lerp_'s weight, and the form it takes
        low = weight < 0.5
        flags = (bool(weight_decay), bool(group["maximize"]), bool(group["centered"]), low,
                 momentum > 0)  # fmt: skip
        scalars = (weight_decay, alpha, weight, weight if low else 1.0 - weight, eps, momentum, lr)
        return self._run_kernel("rmsprop", group, params, states, flags, [scalars] * len(params))
