"""Fused elementwise GPU kernels where one pass replaces several.

On the GPU a small model's step is bound by kernel launches, not arithmetic: the NumPy-style
optimiser code runs 4 to 9 array operations per parameter (each a kernel launch and a Python
call), the fused step runs one. The formulas are the CPU optimisers' (``optim/sgd.py``,
``optim/adam.py``), in the same order of operations, so results match PyTorch as closely as the
CPU path does (nvcc may contract a multiply-add into an FMA: a last-bit difference in float32).

ReLU's backward, dx = 0 where y <= 0 else g (PyTorch's ``threshold_backward``: a NaN output
passes its gradient), is one kernel instead of a comparison, a cast and a product.
"""

from __future__ import annotations

import cupy

# Scalars derived from hyper-parameters (1 - beta2, ...) are computed in Python's double and
# rounded once to the array's dtype, as NumPy does for the CPU optimisers.
_sgd = cupy.ElementwiseKernel(
    "T g, T lr, T momentum, T keep, T wd, bool nesterov, bool maximize, bool first",
    "T x, T buf",
    """
    T d = maximize ? -g : g;
    if (wd != (T)0) d = x * wd + d;
    buf = first ? d : buf * momentum + d * keep;   // keep = 1 - dampening
    d = nesterov ? d + buf * momentum : buf;
    x = x - d * lr;
    """,
    "deepgrad_sgd_momentum_step",
)

_sgd_plain = cupy.ElementwiseKernel(
    "T g, T lr, T wd, bool maximize",
    "T x",
    """
    T d = maximize ? -g : g;
    if (wd != (T)0) d = x * wd + d;
    x = x - d * lr;
    """,
    "deepgrad_sgd_step",
)

_adam = cupy.ElementwiseKernel(
    "T g, T decay, T wd, T w, T one_minus_w, T beta2, T one_minus_beta2, T eps, T step_size, "
    "T bc2_sqrt, bool amsgrad, bool maximize",
    "T x, T m, T v, T vmax",
    """
    T d = maximize ? -g : g;
    x = x * decay;                       // decay = 1 - lr * wd (AdamW), else 1
    if (wd != (T)0) d = x * wd + d;      // wd is 0 here for AdamW
    m = (w < (T)0.5) ? m + (d - m) * w : d - (d - m) * one_minus_w;  // m.lerp_(d, w)
    v = v * beta2 + d * one_minus_beta2 * d;
    T vv = v;
    if (amsgrad) { vmax = max(vmax, v); vv = vmax; }
    x = x - (m / (sqrt(vv) / bc2_sqrt + eps)) * step_size;
    """,
    "deepgrad_adam_step",
)

relu_backward = cupy.ElementwiseKernel(
    "T g, T y", "T dx", "dx = (y <= (T)0) ? (T)0 : g", "deepgrad_relu_backward"
)


def sgd_step(x, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    """One SGD update of ``x`` (and its momentum buffer ``buf``) in place, in one kernel."""
    dt = x.dtype.type
    if not momentum:
        _sgd_plain(g, dt(lr), dt(weight_decay), maximize, x)
        return
    _sgd(g, dt(lr), dt(momentum), dt(1.0 - dampening), dt(weight_decay), nesterov, maximize,
         first, x, buf)  # fmt: skip


def sgd_update(st, x, g, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """SGD's step for one GPU parameter; ``st`` is its state dict (None without momentum),
    where the momentum buffer is created on the first step, as PyTorch does."""
    if not momentum:
        sgd_step(x, g, None, lr, 0.0, dampening, weight_decay, nesterov, maximize, False)
        return
    buf = st.get("momentum_buffer")
    first = buf is None
    if first:
        from deepgrad.tensor import _wrap

        buf = _wrap(cupy.empty_like(x))
        st["momentum_buffer"] = buf
    sgd_step(x, g, buf._data, lr, momentum, dampening, weight_decay, nesterov, maximize, first)


def adam_step(x, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, step, decoupled,
              amsgrad, maximize):  # fmt: skip
    """One Adam/AdamW update of ``x``, ``m``, ``v`` (and ``vmax``) in place, in one kernel."""
    dt = x.dtype.type
    w = 1.0 - beta1
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    wd = 0.0 if decoupled else weight_decay
    step_size = lr / (1 - beta1**step)
    bc2_sqrt = (1 - beta2**step) ** 0.5
    _adam(g, dt(decay), dt(wd), dt(w), dt(1.0 - w), dt(beta2), dt(1.0 - beta2), dt(eps),
          dt(step_size), dt(bc2_sqrt), amsgrad, maximize,
          x, m, v, v if vmax is None else vmax)  # fmt: skip
