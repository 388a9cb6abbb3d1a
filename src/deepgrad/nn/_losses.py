"""Loss functions (``F.cross_entropy``, ``F.mse_loss``, ...): validation, then one fused op.

Each function checks its arguments with the diagnostics in ``nn._checks`` (the classic
mistakes: double softmax, one-hot where indices were expected, labels out of range, a missing
sigmoid, shapes that broadcast by accident), then calls the primitive in ``ops.loss``.
"""

from __future__ import annotations

import numpy as np

from deepgrad.backend import array_module
from deepgrad.nn import _checks
from deepgrad.ops import loss as _L
from deepgrad.tensor import Tensor, _as_array, _wrap, result_type_of, where

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(name: str, size_average, reduce, reduction: str, extra=()) -> str:
    """Validate ``reduction``; translate the legacy ``size_average``/``reduce`` flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in _REDUCTIONS + tuple(extra):
        valid = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use {valid}")
    return reduction


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else _wrap(_as_array(x))


def _promoted(input: Tensor, target) -> tuple[Tensor, Tensor]:
    """Input and target cast to their common dtype by PyTorch's promotion (``result_type_of``):
    a float32 input with a float64 target gives a float64 loss, an int64 input with a float32
    target a float32 one, as in PyTorch. Each gradient comes back in its own tensor's dtype
    through the cast."""
    target = _tensor(target)
    dt = input._data.dtype
    if dt == target._data.dtype and dt.kind == "f":  # the usual case: nothing to cast
        return input, target
    dtype = result_type_of((input, target))
    return input.to(dtype), target.to(dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """An elementwise loss reduced: its mean, its sum, or itself for 'none'."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weight_array(weight, dtype, name: str, n_classes: int | None = None):
    if weight is None:
        return None
    w = _tensor(weight)._data.astype(dtype, copy=False)
    if n_classes is not None and w.shape != (n_classes,):
        raise RuntimeError(
            f"{name}: weight should have one entry per class, i.e. shape ({n_classes},), but it "
            f"has shape {tuple(w.shape)}"
        )
    return w


# ---------------------------------------------------------------------------- regression
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error: mean((x - y)^2) ('sum': the sum, 'none': elementwise).

    Beyond PyTorch's warning for different input and target shapes (they broadcast, usually
    by mistake), the message says how to fix it. With ``weight``, 'mean' is
    sum(w (x - y)^2) / sum(w), as PyTorch.
    """
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    return _pointwise("mse_loss", _L.MSELoss, input, target, reduction, weight)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error: mean(|x - y|); the gradient at x == y is 0, as in PyTorch."""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    return _pointwise("l1_loss", _L.L1Loss, input, target, reduction, weight)


def _pointwise(name: str, op, input: Tensor, target, reduction: str, weight) -> Tensor:
    """What mse_loss and l1_loss share: the broadcast warning, then one op, weighted if asked."""
    input, target = _promoted(input, target)
    if input.shape != target.shape:
        _checks.warn_if_broadcast(name, input.shape, target.shape)
    if weight is None:
        return op.apply(input, target, reduction=reduction)
    return _weighted(op.apply(input, target, reduction="none"), weight, reduction)


def _weighted(loss: Tensor, weight, reduction: str) -> Tensor:
    weight = _tensor(weight)
    if weight.shape != loss.shape:
        raise ValueError(
            f"Weights and input must have the same size: weight {tuple(weight.shape)}, "
            f"input {tuple(loss.shape)}"
        )
    out = loss * weight
    if reduction == "mean":
        return out.sum() / weight.sum()
    return _reduce(out, reduction)


def _robust(name: str, input: Tensor, target, reduction: str, quadratic_below: float,
            scale: float) -> Tensor:  # fmt: skip
    """Shared body of smooth L1 and Huber: 0.5 d^2 / s inside, |d| - 0.5 * t outside.

    ``quadratic_below`` is the threshold t on |d| = |x - y|; ``scale`` s divides the quadratic
    part. Both pieces meet with equal value and slope at |d| = t, so the loss is smooth.
    """
    input, target = _promoted(input, target)
    diff = input - target
    absd = diff.abs()
    t = quadratic_below
    if t == 0:
        loss = absd
    else:
        loss = where(absd < t, 0.5 * diff * diff / scale, absd - 0.5 * t)
    return _reduce(loss, reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction="mean", beta=1.0
) -> Tensor:
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y).

    beta = 0 gives the L1 loss, as in PyTorch.
    """
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta ({beta})")
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    return _robust("smooth_l1_loss", input, target, reduction, beta, beta or 1.0)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight=None
) -> Tensor:
    """Huber: 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta) (d = x - y).

    It is delta times ``smooth_l1_loss`` with beta = delta.
    """
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta ({delta})")
    if weight is not None:
        raise NotImplementedError("huber_loss: weight is not supported by deepgrad yet")
    reduction = _reduction("huber_loss", None, None, reduction)
    return delta * _robust("huber_loss", input, target, reduction, delta, delta)


# ---------------------------------------------------------------------------- binary
def _require_unit_interval(what: str, meaning: str, values, fix: str) -> None:
    lo, hi = values.min(), values.max()
    if not (lo >= 0 and hi <= 1):
        raise RuntimeError(
            f"BCELoss: all elements of {what} should be between 0 and 1{meaning}, but they "
            f"range over [{float(lo):.4g}, {float(hi):.4g}]. {fix}"
        )


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-mean(w [y log p + (1 - y) log(1 - p)]) for probabilities p, logs clamped at -100.

    Beyond PyTorch: an input outside [0, 1] raises an error saying that a sigmoid is missing
    (or that BCEWithLogitsLoss should be used); targets outside [0, 1] and mismatched shapes
    get messages with the fix.
    """
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    target = _tensor(target)
    x, y = input._data, target._data
    if x.shape != y.shape:
        _checks.require_same_shape("BCELoss", x.shape, y.shape)
    if x.size:
        _require_unit_interval(
            "input",
            " (probabilities)",
            x,
            "The model is probably missing a final sigmoid: add nn.Sigmoid() as its last layer "
            "- or, better, keep the raw scores (logits) and use nn.BCEWithLogitsLoss, which "
            "applies the sigmoid itself in a numerically stable way.",
        )
        _require_unit_interval(
            "target",
            "",
            y,
            "Binary labels are 0 and 1; if yours are -1 and +1, convert them with (y + 1) / 2.",
        )
    input, target = _promoted(input, target)
    w = _weight_array(weight, input._data.dtype, "binary_cross_entropy")
    return _L.BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE applied to sigmoid(z), computed from the logits z without ever forming log(0):

    loss = (1 - y) z + (1 + (p - 1) y) log(1 + e^-z)      (p = pos_weight, default 1)

    It is computed in the promoted dtype of z and y, and has a float target's dtype, as in
    PyTorch (which writes the loss into ``1 - y`` in place): float64 logits with float32
    labels give a float32 loss, float32 logits with float64 labels a float64 one.
    """
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    target = _tensor(target)
    if input.shape != target.shape:
        _checks.require_same_shape("BCEWithLogitsLoss", input.shape, target.shape)
    target_dtype = target._data.dtype
    input, target = _promoted(input, target)
    dtype = input._data.dtype
    w = _weight_array(weight, dtype, "binary_cross_entropy_with_logits")
    pw = _weight_array(pos_weight, dtype, "binary_cross_entropy_with_logits")
    loss = _L.BinaryCrossEntropyWithLogits.apply(
        input, target, weight=w, pos_weight=pw, reduction=reduction
    )
    return loss.to(target_dtype) if target_dtype.kind == "f" else loss


# ---------------------------------------------------------------------------- multiclass
_DOUBLE_SOFTMAX_FIX = (
    "CrossEntropyLoss applies log-softmax itself and expects raw scores (logits); "
    "applying softmax first ('double softmax') flattens the gradients and slows or stalls "
    "training. Remove the final nn.Softmax from the model (apply softmax only when you need "
    "probabilities for prediction), or use nn.NLLLoss on log_softmax outputs."
)
_LOG_SOFTMAX_FIX = (
    "NLLLoss expects log-probabilities: apply log_softmax, not softmax (or feed the raw "
    "scores to CrossEntropyLoss, which does both in one stable step)."
)


def _class_scores(
    name: str, input: Tensor, target, weight, probabilities_fix: str, allow_probs: bool
):
    """The checks that cross_entropy and nll_loss share, on scores (N, C[, d1, ...]) or (C,):
    the target's form, the warning for rows that look like probabilities, the class weights.
    Returns the target as a tensor, the number of classes, the weights as an array, and
    whether the target holds class probabilities rather than indices."""
    target = _tensor(target)
    x = input._data
    probs = _checks.check_class_targets(name, x, target._data, allow_probs=allow_probs)
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    _checks.warn_if_probabilities(name, x, probabilities_fix)
    return target, c, _weight_array(weight, x.dtype, name, c), probs


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits (N, C) or (N, C, d1, ...) and a target that holds either
    class indices (N,) / (N, d1, ...) or class probabilities with the input's shape.

        loss_i = -sum_c a_ic log softmax(z_i)_c = logsumexp(z_i) - sum_c a_ic z_ic

    computed in one fused, stable op whose backward is softmax - target (see
    ``ops.loss.CrossEntropy`` for weight, ignore_index and label smoothing).

    Beyond PyTorch: a "double softmax" warning when the rows already look like
    probabilities, a clear error for one-hot or float targets where class indices were
    expected (or a one-hot width that doesn't match the input), and an error naming the value
    and the number of classes for a class index out of range.
    """
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    target, c, w, probs = _class_scores(
        "CrossEntropyLoss", input, target, weight, _DOUBLE_SOFTMAX_FIX, allow_probs=True
    )
    x, t = input._data, target._data
    if probs:  # computed in the promoted dtype of input and target, as in PyTorch
        input, target = _promoted(input, target)
        w = _weight_array(weight, input._data.dtype, "CrossEntropyLoss", c)
        return _L.CrossEntropy.apply(
            input, target, weight=w, label_smoothing=label_smoothing, reduction=reduction,
            probs=True,
        )  # fmt: skip
    if type(x) is not np.ndarray and not 0 <= ignore_index < c:  # on a GPU: two fused kernels
        from deepgrad.cuda import loss as cuda_loss

        if cuda_loss.usable(x, w, label_smoothing, reduction):
            return cuda_loss.CrossEntropyCUDA.apply(input, target, reduction=reduction)
    ignored = _checks.check_class_range("CrossEntropyLoss", t, c, ignore_index)
    return _L.CrossEntropy.apply(
        input, target, weight=w, label_smoothing=label_smoothing, reduction=reduction,
        ignored=ignored,
    )  # fmt: skip


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities (N, C[, d1, ...]):
    loss_i = -w_{t_i} x_{i, t_i}; 'mean' divides by the sum of the weights used.

    Beyond PyTorch: a warning when the input looks like probabilities (softmax instead of
    log_softmax), and the target diagnostics of ``cross_entropy``.
    """
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    target, c, w, _ = _class_scores(
        "NLLLoss", input, target, weight, _LOG_SOFTMAX_FIX, allow_probs=False
    )
    ignored = _checks.check_class_range("NLLLoss", target._data, c, ignore_index)
    return _L.NLLLoss.apply(input, target, weight=w, reduction=reduction, ignored=ignored)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multiclass hinge loss (the SVM loss of the course):

    loss_i = (1/C) sum_{j != y_i} w_{y_i} max(0, margin - x_{i, y_i} + x_ij)^p,  p in {1, 2}
    """
    reduction = _reduction("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    target = _tensor(target)
    x, t = input._data, target._data
    if x.ndim not in (1, 2):
        raise ValueError(
            f"multi_margin_loss expects an input of shape (N, C) or (C,), got {tuple(x.shape)}"
        )
    _checks.check_class_targets("MultiMarginLoss", x, t, allow_probs=False)
    c = x.shape[-1]
    w = _weight_array(weight, x.dtype, "MultiMarginLoss", c)
    _checks.check_class_range("MultiMarginLoss", t, c, ignore_index=-(2**62))
    return _L.MultiMarginLoss.apply(
        input, target, p=p, margin=margin, weight=w, reduction=reduction
    )


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """x where y == 1, max(0, margin - x) where y == -1 (PyTorch's HingeEmbeddingLoss); see
    ``nn.HingeEmbeddingLoss`` for the course's binary hinge max(0, 1 - t y)."""
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    target = _tensor(target)
    y = target._data
    margin_term = (margin - input).clamp(min=0)
    zeros = _wrap(array_module(input._data).zeros((), dtype=input._data.dtype))
    out = where(_wrap(y != 1), margin_term, zeros) + where(_wrap(y != -1), input, zeros)
    return _reduce(out, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1, with
    cos = sum(x1 x2) / sqrt((sum(x1^2) + 1e-12)(sum(x2^2) + 1e-12)) over the last axis."""
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    cos = dot / ((input1 * input1).sum(-1) + eps).mul((input2 * input2).sum(-1) + eps).sqrt()
    y = _tensor(target)._data
    pos = _wrap((y == 1).astype(cos._data.dtype))
    neg = _wrap((y == -1).astype(cos._data.dtype))
    return _reduce(pos * (1 - cos) + neg * (cos - margin).clamp(min=0), reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target || p) with ``input`` = log p:

        sum t (log t - input)          (or exp(t) (t - input) with log_target=True)

    ``reduction='batchmean'`` (sum / batch size) is the true KL per sample. Plain 'mean'
    divides also by the number of classes, which is not KL: deepgrad warns, as PyTorch does,
    with the fix. Beyond PyTorch: a warning when the input holds positive values (probabilities
    instead of log-probabilities).
    """
    reduction = _reduction("kl_div", size_average, reduce, reduction, extra=("batchmean",))
    if reduction == "mean":
        _checks.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "number of classes, so it is not the KL divergence. Use reduction='batchmean' for "
            "the true KL per sample."
        )
    x = input._data
    if x.size and x.max() > 0:
        _checks.warn(
            "kl_div: the input has positive values, but it must hold log-probabilities "
            "(which are <= 0). Pass log_softmax(scores, dim=1), not softmax; the target holds "
            "probabilities (or log-probabilities with log_target=True)."
        )
    input, target = _promoted(input, target)
    return _L.KLDivergence.apply(input, target, reduction=reduction, log_target=log_target)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "multi_margin_loss",
    "nll_loss",
    "smooth_l1_loss",
]
