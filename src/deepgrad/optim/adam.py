"""Adam: momentum on the gradient plus RMSprop-style scaling, both bias-corrected."""

from __future__ import annotations

import numpy as np

from deepgrad.optim.hyperparameters import constructor
from deepgrad.optim.optimizer import Optimizer, _floats, _lerp_


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

    __init__ = constructor(
        dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
        switches=("amsgrad",),
        keyword_only=(
            "foreach",
            "maximize",
            "capturable",
            "differentiable",
            "fused",
            "decoupled_weight_decay",
        ),
        checks=("lr", "eps", "betas", "weight_decay"),
    )

    def _update(self, x, g, state, group) -> None:
        """theta = theta (1 - gamma lambda) if decoupled, else g = grad + lambda theta;
        m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2;  v = max(v_max, v);
        theta = theta - gamma / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)."""
        lr, (beta1, beta2), eps, weight_decay = _floats(group, "lr", "betas", "eps", "weight_decay")
        if group["decoupled_weight_decay"]:
            x *= 1.0 - lr * weight_decay
            weight_decay = 0.0
        d = self._direction(x, g, weight_decay, group["maximize"])
        m, v, t = state["exp_avg"]._data, state["exp_avg_sq"]._data, self._tmp(x, 1)
        _lerp_(m, d, 1.0 - beta1, t)
        v *= beta2
        v += np.multiply(np.multiply(d, 1.0 - beta2, out=t), d, out=t)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
        denom = np.sqrt(v, out=t)
        denom /= (1 - beta2 ** state["step"]) ** 0.5
        denom += eps
        x -= np.multiply(np.divide(m, denom, out=t), lr / (1 - beta1 ** state["step"]), out=t)

    def _state_buffers(self, group) -> list[str]:
        return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group["amsgrad"] else [])

    def _fused_step(self, group, params, states) -> bool:
        lr, (beta1, beta2), eps, weight_decay = _floats(group, "lr", "betas", "eps", "weight_decay")
        decoupled = group["decoupled_weight_decay"]
        weight = 1.0 - beta1  # _lerp_'s weight, and the form it takes
        low = weight < 0.5
        flags = (bool(weight_decay), bool(decoupled), bool(group["maximize"]), low,
                 bool(group["amsgrad"]))  # fmt: skip
        decay = 1.0 - lr * weight_decay if decoupled else weight_decay
        scalars = [(decay, weight if low else 1.0 - weight, beta2, 1.0 - beta2,
                    (1 - beta2 ** state["step"]) ** 0.5, eps, lr / (1 - beta1 ** state["step"]))
                   for state in states]  # fmt: skip
        return self._run_kernel("adam", group, params, states, flags, scalars)

    def _gpu_update(self, x, g, state, group) -> bool:
        from deepgrad.cuda.fused import adam_step

        lr, (beta1, beta2), eps, weight_decay = _floats(group, "lr", "betas", "eps", "weight_decay")
        vmax = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        adam_step(x, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, vmax, lr=lr,
                  beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                  step=state["step"], decoupled=group["decoupled_weight_decay"],
                  amsgrad=group["amsgrad"], maximize=group["maximize"])  # fmt: skip
        return True
