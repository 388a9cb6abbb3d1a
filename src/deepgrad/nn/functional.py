"""``deepgrad.nn.functional``: layers, activations and losses as plain functions (``F.relu``).

The modules in ``deepgrad.nn`` call these, so a module and its function can never disagree.
Names, argument order and defaults are PyTorch's; losses live in ``nn._losses`` and are
re-exported here.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepgrad.backend import array_module
from deepgrad.nn._losses import (  # noqa: F401 - re-exported
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from deepgrad.ops import activation as _A
from deepgrad.ops import elementwise as _E
from deepgrad.ops import linalg as _L
from deepgrad.ops import normalization as _N
from deepgrad.ops import reduce as _R
from deepgrad.random import rng
from deepgrad.tensor import Tensor, _axes, _wrap

_ReLU = _E.ReLU.apply
_Linear = _L.Linear.apply


def _float(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else x.float()


# ---------------------------------------------------------------------------- layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, one fused op (``weight`` is (out_features, in_features))."""
    if bias is None:
        return _Linear(input, weight)
    return _Linear(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout),
    so the expected value is unchanged and evaluation needs no rescaling. Identity when
    ``training`` is False. Masks come from deepgrad's global generator (``manual_seed``).
    ``inplace`` is accepted for compatibility and ignored."""
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    return _E.Mul.apply(input, _wrap(_dropout_mask(input._data, input.shape, p)))


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (each (sample, channel) plane) with probability p, scale the rest by
    1/(1-p). Identity when ``training`` is False."""
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    plane = input.shape[:-2] + (1, 1)
    return input * _wrap(_dropout_mask(input._data, plane, p))


def _check_dropout_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(x, shape: tuple, p: float):
    """Inverted dropout's mask of ``shape``: 0 with probability p, else 1/(1-p), in x's dtype
    and on x's device."""
    if p == 1.0:
        return array_module(x).zeros(shape, dtype=x.dtype)
    dt = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    if array_module(x) is np:
        keep = rng().random(shape, dtype=dt) >= p
    else:  # drawn on the GPU by its own generator: no mask crosses the bus
        from deepgrad.cuda import random as cuda_random

        keep = cuda_random.uniform(shape, dt) >= p
    mask = keep.astype(x.dtype)
    mask *= 1.0 / (1.0 - p)
    return mask


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) over the batch and spatial axes, then scale and shift:
    y = gamma (x - mu) / sqrt(var + eps) + beta.

    ``training=True`` uses the batch statistics and, if running buffers are given, updates
    them in place: r <- (1 - momentum) r + momentum * batch_stat (the variance unbiased, as
    PyTorch). ``training=False`` uses the running statistics.
    """
    x = input._data
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm expects an input of shape (N, C) or (N, C, ...), got {tuple(x.shape)}"
        )
    if training:
        size = x.size // x.shape[1]
        if size <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{tuple(x.shape)}: batch statistics of a single value are meaningless. Use a "
                f"batch of at least 2, or call model.eval() for single-sample prediction."
            )
    if weight is None:
        if bias is not None:
            raise ValueError("batch_norm: a bias without a weight is not supported; pass both")
        affine = ()
    else:
        affine = (weight,) if bias is None else (weight, bias)
    if training or running_mean is None:
        stats = {} if training and running_mean is not None else None
        out = _N.BatchNorm.apply(input, *affine, eps=eps, stats=stats)
        if stats is not None:
            for buf, value in ((running_mean, stats["mean"]), (running_var, stats["var"])):
                r = buf._data
                r *= 1 - momentum
                r += momentum * value.astype(r.dtype, copy=False)
        return out
    return _N.BatchNorm.apply(
        input, *affine, mean=running_mean._data, var=running_var._data, eps=eps
    )


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor with a trailing axis of size ``num_classes``: 1 at each index, 0 elsewhere.

    ``num_classes=-1`` uses max + 1."""
    t = tensor._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"one_hot is only applicable to index tensors (integers), got {t.dtype}; use .long()"
        )
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        bad = int(t.max()) if t.max() >= num_classes else int(t.min())
        raise RuntimeError(
            f"one_hot: class value {bad} is out of range for num_classes={num_classes} (values "
            f"must be in 0..{num_classes - 1})"
        )
    xp = array_module(t)
    return _wrap(xp.eye(num_classes, dtype=np.int64)[t.astype(np.int64)])  # row t of I


# ---------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x). With ``inplace`` the result is written into ``input`` (and ``input`` is
    returned) where no graph is recorded through it; where one is, deepgrad, which does not
    record in-place ops, returns a new tensor and leaves ``input`` as it was (PyTorch would
    change it), so gradients are the same."""
    if inplace and not input._recording("relu"):
        return input.relu_()
    return _ReLU(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return _A.Hardtanh.apply(_float(input), min_val=0.0, max_val=6.0)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clipped to [min_val, max_val]."""
    return _A.Hardtanh.apply(_float(input), min_val=min_val, max_val=max_val)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _A.LeakyReLU.apply(_float(input), negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _A.ELU.apply(_float(input), alpha=alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` for the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _A.GELU.apply(_float(input), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x)."""
    return _A.SiLU.apply(_float(input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)); x itself where beta x > threshold."""
    return _A.Softplus.apply(_float(input), beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _A.Softsign.apply(_float(input))


def step(input: Tensor) -> Tensor:
    """Heaviside step: 1 where x > 0, else 0 (deepgrad only; see ``nn.Step``). Its gradient
    is zero everywhere."""
    return _A.Step.apply(_float(input))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x), computed without overflow."""
    return _E.Sigmoid.apply(_float(input))


def tanh(input: Tensor) -> Tensor:
    return _E.Tanh.apply(_float(input))


def _softmax_dim(name: str, ndim: int, dim, stacklevel: int) -> int:
    if dim is None:
        # PyTorch's legacy rule for an implicit dim
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated; it picked dim={dim}. "
            f"Pass dim explicitly: for a batch of rows of class scores (N, C) that is dim=1, "
            f"e.g. nn.Softmax(dim=1).",
            UserWarning,
            stacklevel=stacklevel,
        )
    return _axes(dim, ndim)[0]


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (stable: the max is subtracted first)."""
    x = _float(input) if dtype is None else input.to(dtype)
    return _R.Softmax.apply(x, axis=_softmax_dim("softmax", x.ndim, dim, _stacklevel))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x = _float(input) if dtype is None else input.to(dtype)
    return _R.Softmax.apply(-x, axis=_softmax_dim("softmin", x.ndim, dim, _stacklevel))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``dim``, in one stable op."""
    x = _float(input) if dtype is None else input.to(dtype)
    return _R.LogSoftmax.apply(x, axis=_softmax_dim("log_softmax", x.ndim, dim, _stacklevel))


# ---------------------------------------------------------------------------- convolution
# Convolution and pooling live in their own file; they are part of this namespace, as in torch.
from deepgrad.nn._conv_functional import *  # noqa: E402, F403

# ---- census extras (issue 14): functional forms the API census found in teaching code ------
from deepgrad.nn._functional_extra import (  # noqa: E402, F401
    conv3d,
    conv_transpose2d,
    embedding,
    instance_norm,
    interpolate,
    normalize,
    pixel_shuffle,
    reflection_pad2d,
    upsample,
)
