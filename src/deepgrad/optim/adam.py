"""Adam: momentum on the gradient plus RMSprop-style scaling, both bias-corrected."""

from __future__ import annotations

import numpy as np

from deepgrad import kernels
from deepgrad.optim.optimizer import (
    Optimizer,
    _check_nonnegative,
    _fast_path,
    _lerp_,
    _no_differentiable,
    _wants_kernels,
)
from deepgrad.tensor import _wrap


def _check_betas(betas) -> tuple[float, float]:
    beta1, beta2 = betas
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    return (float(beta1), float(beta2))


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    A moving average of the gradient (first moment, "momentum") is divided by the root of a
    moving average of its square (second moment, as in RMSprop); both averages start at zero,
    so they are divided by :math:`1 - \beta^t` to remove that bias::

        input: gamma (lr), beta1, beta2 (betas), epsilon, lambda (weight decay), amsgrad
        m_0 = 0, v_0 = 0, v^max_0 = 0
        for t = 1, 2, ...:
            g_t = -grad f(theta_{t-1})  if maximize  else  grad f(theta_{t-1})
            if lambda != 0:
                if decoupled_weight_decay:  theta_{t-1} = theta_{t-1} * (1 - gamma * lambda)
                else:                       g_t = g_t + lambda * theta_{t-1}
            m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
            if amsgrad:  v^max_t = max(v^max_{t-1}, v_t);  v = v^max_t
            else:        v = v_t
            theta_t = theta_{t-1} - (gamma / (1 - beta1^t)) * m_t
                                    / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)

    The last line is the paper's Algorithm 1, :math:`\hat m_t / (\sqrt{\hat v_t} + \epsilon)`
    with :math:`\hat m_t = m_t / (1 - \beta_1^t)` and :math:`\hat v_t = v_t / (1 - \beta_2^t)`,
    arranged as PyTorch computes it (step size ``lr / bias_correction1``, denominator
    ``sqrt(v) / sqrt(bias_correction2) + eps``). It is not the paper's faster variant of
    section 2, which folds both corrections into the step size and so moves epsilon.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)` for the two moving averages (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay :math:`\lambda` (default 0), an L2 penalty added to the
            gradient unless ``decoupled_weight_decay`` (then it is AdamW).
        amsgrad: use the maximum of past second moments (AMSGrad, default False).
        maximize: maximise the objective instead of minimising it.
        decoupled_weight_decay: decay the weights directly, as ``AdamW`` (default False).
        foreach, fused: None (default) or True runs float32 groups as one fused multi-threaded
            pass, False the plain NumPy step; the numbers are the same (see ``SGD``).
        capturable, differentiable: accepted for PyTorch compatibility (``differentiable=True``
            is not supported).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
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
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
            **_fast_path(foreach, fused),
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        state = self.state
        tmp = self._tmp
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                st = state[p]
                if len(st) == 0:
                    x = p._data
                    st["step"] = 0.0
                    st["exp_avg"] = _wrap(np.zeros_like(x))
                    st["exp_avg_sq"] = _wrap(np.zeros_like(x))
                    if amsgrad:
                        st["max_exp_avg_sq"] = _wrap(np.zeros_like(x))
                st["step"] += 1.0
            if _wants_kernels(group) and self._fused_step(group, params):
                continue
            for p in params:  # the reference: one NumPy operation at a time
                grad = p.grad
                x = p._data
                st = state[p]
                step = st["step"]
                if type(x) is not np.ndarray:  # a GPU parameter: one fused kernel
                    from deepgrad.cuda.fused import adam_step

                    vmax = st["max_exp_avg_sq"]._data if amsgrad else None
                    adam_step(x, grad._data, st["exp_avg"]._data, st["exp_avg_sq"]._data, vmax,
                              lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                              step=step, decoupled=decoupled, amsgrad=amsgrad,
                              maximize=maximize)  # fmt: skip
                    continue
                if decoupled:
                    if weight_decay:
                        x *= 1.0 - lr * weight_decay
                    d = self._direction(x, grad._data, 0.0, maximize)
                else:
                    d = self._direction(x, grad._data, weight_decay, maximize)
                m = st["exp_avg"]._data
                v = st["exp_avg_sq"]._data
                t = tmp(x, 1)
                _lerp_(m, d, 1.0 - beta1, t)
                v *= beta2
                np.multiply(d, 1.0 - beta2, out=t)
                t *= d
                v += t
                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                if amsgrad:
                    vmax = st["max_exp_avg_sq"]._data
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                np.sqrt(v, out=t)
                t /= bias_correction2_sqrt
                t += eps
                np.divide(m, t, out=t)
                t *= step_size
                x -= t
        return loss

    def _fused_step(self, group, params) -> bool:
        """The update above as one fused pass (``kernels.optimizer_step``); False if it
        cannot run (then nothing has changed)."""
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        decoupled = group["decoupled_weight_decay"]
        amsgrad = group["amsgrad"]
        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
        arrays, scalars = [], []
        weight = 1.0 - beta1  # _lerp_'s weight, and the form it takes
        low = weight < 0.5
        for p in params:
            st = self.state[p]
            arrays.append([p._data, p.grad._data] + [st[k]._data for k in names])
            step = st["step"]
            decay = 1.0 - lr * weight_decay if decoupled else weight_decay
            scalars.append((decay, weight if low else 1.0 - weight, beta2, 1.0 - beta2,
                            (1 - beta2**step) ** 0.5, float(group["eps"]),
                            lr / (1 - beta1**step)))  # fmt: skip
        flags = (bool(weight_decay), bool(decoupled), bool(group["maximize"]), low, bool(amsgrad))
        return kernels.optimizer_step("adam", flags, arrays, scalars)
