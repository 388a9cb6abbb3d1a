"""Loss functions as fused primitives: one forward, one hand-written backward each.

Fusing matters for two reasons. Stability: cross-entropy is computed from logits through
log-sum-exp, never as log(softmax(z)), so logits of +-1e4 give a finite loss and gradient (course
seed 001, "numerical issues 1 and 2"). Speed: the backward of softmax + NLL collapses to
``softmax - target``, one array op instead of a chain.

Every op takes ``reduction`` ('mean', 'sum' or 'none'); the caller (``nn.functional``) has
already validated shapes and values, so these work on plain arrays.
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module
from deepgrad.ops.elementwise import sigmoid_array, sign_array
from deepgrad.ops.reduce import max_keepdims


def _sum_all(a):
    """``a.sum()`` bit for bit: NumPy's pairwise sum, without its Python wrapper."""
    return np.add.reduce(a, axis=None) if type(a) is np.ndarray else a.sum()


def _mean_all(a):
    """``a.mean()`` bit for bit (the sum divided by the count through float64, as NumPy does),
    without NumPy's Python wrapper: 0.7 against 3.2 us on a small model's loss, where each
    step's Python is most of its time (W4)."""
    if type(a) is np.ndarray and a.size and a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        s = np.add.reduce(a, axis=None)
        return s.dtype.type(s / np.intp(a.size))
    return a.mean()


def _reduce(ctx, loss, reduction: str, batch: int = 1):
    """Reduce elementwise losses; remember how to spread the upstream gradient back.

    'batchmean' (``kl_div``'s) divides the sum by ``batch``, the size of the first dimension.
    """
    ctx.reduction = reduction
    ctx.count = loss.size
    ctx.batch = batch
    if reduction == "batchmean":
        return _sum_all(loss) / batch
    if reduction == "mean":
        return _mean_all(loss)
    if reduction == "sum":
        return _sum_all(loss)
    return loss


def _upstream(ctx, g):
    """The upstream gradient per element: g / n for 'mean', g / N for 'batchmean', g for 'sum',
    g itself for 'none'."""
    if ctx.reduction == "batchmean":
        return g / ctx.batch
    if ctx.reduction == "mean":
        return g / ctx.count if ctx.count else g
    return g


# ---------------------------------------------------------------------------- regression
class MSELoss(Op):
    """(x - y)^2, reduced.  d/dx = 2 (x - y), d/dy = -2 (x - y)."""

    def forward(ctx, x, y, reduction="mean"):
        d = x - y
        ctx.saved = (d,)
        return _reduce(ctx, d * d, reduction)

    def backward(ctx, g):
        (d,) = ctx.saved
        gx = d * (2 * _upstream(ctx, g))
        need_x, need_y = ctx.needs_input_grad
        return (gx if need_x else None), (-gx if need_y else None)


class L1Loss(Op):
    """|x - y|, reduced.  d/dx = sign(x - y) (0 where x == y, as PyTorch)."""

    def forward(ctx, x, y, reduction="mean"):
        d = x - y
        ctx.saved = (d,)
        return _reduce(ctx, array_module(d).abs(d), reduction)

    def backward(ctx, g):
        (d,) = ctx.saved
        # PyTorch's sign(NaN) is 0 (NumPy's is NaN): where x - y is NaN its gradient is 0
        gx = sign_array(d) * _upstream(ctx, g)
        need_x, need_y = ctx.needs_input_grad
        return (gx if need_x else None), (-gx if need_y else None)


# ---------------------------------------------------------------------------- binary
class BinaryCrossEntropy(Op):
    """-w [y log x + (1 - y) log(1 - x)] on probabilities x, each log clamped at -100 as
    PyTorch does, so x = 0 or 1 gives a large finite loss instead of inf.

    d/dx = w (x - y) / max(x (1 - x), 1e-12)   (PyTorch's clamp of the denominator)
    """

    def forward(ctx, x, y, weight=None, reduction="mean"):
        xp = array_module(x)
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = (y - 1) * log_1mx - y * log_x
        if weight is not None:
            loss = loss * weight
        ctx.saved = (x, y, weight)
        return _reduce(ctx, loss, reduction)

    def backward(ctx, g):
        x, y, w = ctx.saved
        gx = (x - y) / array_module(x).maximum(x * (1 - x), 1e-12)
        gx *= _upstream(ctx, g)
        if w is not None:
            gx = gx * w
        return gx, None


class BinaryCrossEntropyWithLogits(Op):
    """BCE on logits z, stable for any z:  (1 - y) z + l softplus(-z),  l = 1 + (p - 1) y
    with p the ``pos_weight`` (l = 1 without it), times ``weight``.

    d/dz = (1 - y) - l sigmoid(-z)   ( = sigmoid(z) - y without pos_weight )
    d/dy = -z + (p - 1) softplus(-z)
    """

    def forward(ctx, z, y, weight=None, pos_weight=None, reduction="mean"):
        xp = array_module(z)
        softplus_neg = xp.maximum(-z, 0) + xp.log1p(xp.exp(-xp.abs(z)))  # log(1 + e^-z)
        if pos_weight is None:
            loss = (1 - y) * z + softplus_neg
        else:
            loss = (1 - y) * z + (1 + (pos_weight - 1) * y) * softplus_neg
        if weight is not None:
            loss = loss * weight
        ctx.saved = (z, y, softplus_neg, weight, pos_weight)
        return _reduce(ctx, loss, reduction)

    def backward(ctx, g):
        z, y, softplus_neg, w, pw = ctx.saved
        up = _upstream(ctx, g)
        if w is not None:
            up = up * w
        need_z, need_y = ctx.needs_input_grad
        gz = gy = None
        if need_z:
            if pw is None:
                gz = (sigmoid_array(z) - y) * up
            else:
                gz = ((1 - y) - (1 + (pw - 1) * y) * sigmoid_array(-z)) * up
        if need_y:
            gy = -z if pw is None else -z + (pw - 1) * softplus_neg
            gy = gy * up
        return gz, gy


# ---------------------------------------------------------------------------- multiclass
def _to_rows(x, class_axis: int = 1):
    """(N, C, d1, ...) -> (N*d1*..., C): one row of class scores per prediction."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[None, :]
    return array_module(x).moveaxis(x, class_axis, -1).reshape(-1, x.shape[class_axis])


def _from_rows(rows, shape):
    """Inverse of ``_to_rows`` for a gradient of the original input's ``shape``."""
    if len(shape) == 2:
        return rows
    if len(shape) == 1:
        return rows[0]
    moved = shape[:1] + shape[2:] + shape[1:2]
    return array_module(rows).moveaxis(rows.reshape(moved), -1, 1)


def _per_sample_shape(shape):
    """Shape of the per-prediction losses for input ``shape`` (class axis removed)."""
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def _class_targets(target, weight, ignored, dtype):
    """Class indices as one row each, and w_t, the weight of each row's class.

    Ignored rows point at class 0 and weigh 0. w_t is None when every row weighs 1 (no class
    weights, nothing ignored: the fast, common case).
    """
    t = target.reshape(-1)
    if ignored is None:
        return t, (weight[t] if weight is not None else None)
    t = array_module(t).where(ignored, 0, t)
    if weight is None:
        return t, (~ignored).astype(dtype)
    return t, weight[t] * ~ignored


class CrossEntropy(Op):
    """Cross-entropy from logits in one stable op (softmax and log never formed separately).

    With p = softmax(z) and a target distribution a over the classes,

        loss_i = -sum_c a_ic log p_ic = sum_c a_ic (lse(z_i) - z_ic),   lse = log sum exp
        d loss_i / d z_i = (sum_c a_ic) p_i - a_i          ( = softmax - target )

    Class indices t give a_ic = (1 - eps) w_t [c = t] + (eps / C) w_c (label smoothing eps,
    class weights w, rows with t == ignore_index dropped); 'mean' divides by sum_i w_{t_i}, as
    PyTorch. Probability targets q give a = w * ((1 - eps) q + eps / C); 'mean' divides by
    the number of predictions. lse is computed as max + log sum exp(z - max), so it never
    overflows.
    """

    def forward(
        ctx,
        z,
        target,
        weight=None,
        label_smoothing=0.0,
        reduction="mean",
        probs=False,
        ignored=None,
    ):
        xp = array_module(z)
        ctx.shape = z.shape
        ctx.weight, ctx.eps, ctx.reduction, ctx.probs = weight, label_smoothing, reduction, probs
        rows = _to_rows(z)
        n, c = rows.shape
        shifted = rows - max_keepdims(rows, 1)
        eps = label_smoothing
        if probs:
            q = _to_rows(target)
            if eps:
                q = q * (1 - eps) + eps / c
            a = q * weight if weight is not None else q
            e = xp.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            log_p = shifted - xp.log(s)  # log-softmax, finite even for logits of +-1e4
            loss = -(a * log_p).sum(axis=1)
            ctx.saved = (e, s, a, log_p)
            ctx.denom = n
            return _reduce_rows(ctx, loss, reduction, z.shape)

        t, wt = _class_targets(target, weight, ignored, z.dtype)
        ar = xp.arange(n)
        picked = shifted[ar, t]
        smooth = None
        if eps:
            smooth = shifted @ weight if weight is not None else shifted.sum(axis=1)
        if shifted is not rows:  # a fresh array: exponentiate in place, it is not needed again
            e = xp.exp(shifted, out=shifted)
        else:  # pragma: no cover - subtraction always allocates
            e = xp.exp(shifted)
        s = np.add.reduce(e, axis=1) if xp is np else e.sum(axis=1)  # (no Python wrapper)
        lse = xp.log(s)
        loss = lse - picked  # -log p_target
        if wt is not None:
            loss *= wt
        if eps:
            total_w = weight.sum() if weight is not None else c
            smooth = lse * total_w - smooth  # -sum_c w_c log p_c
            if ignored is not None:
                smooth = smooth * ~ignored
            loss = loss * (1 - eps) + smooth * (eps / c)
        ctx.saved = (e, s, t, wt)
        ctx.ignored = ignored
        ctx.denom = wt.sum() if wt is not None else n
        return _reduce_rows(ctx, loss, reduction, z.shape)

    def backward(ctx, g):
        xp = array_module(g)
        if ctx.reduction == "mean":
            # every row weighs 0 (all ignored): the loss is nan, the gradient 0 (as PyTorch)
            up = g / ctx.denom if ctx.denom else g * 0
        elif ctx.reduction == "sum":
            up = g
        else:
            up = g.reshape(-1, 1)
        eps, w = ctx.eps, ctx.weight
        if ctx.probs:
            e, s, a, log_p = ctx.saved
            gz = gq = None
            if ctx.needs_input_grad[0]:
                gz = e / s
                gz *= a.sum(axis=1, keepdims=True)
                gz -= a
                gz *= up
                gz = _from_rows(gz, ctx.shape)
            if ctx.needs_input_grad[1]:  # d loss / d q = -(1 - eps) w log p
                gq = log_p * (-(1 - eps) * up)
                if w is not None:
                    gq *= w
                gq = _from_rows(gq, ctx.shape)
            return gz, gq
        e, s, t, wt = ctx.saved
        n, c = e.shape
        ar = xp.arange(n)
        p = e / s[:, None]  # softmax
        if not eps:
            p[ar, t] -= 1  # softmax - one_hot(t)
            if wt is not None:
                p *= wt[:, None]
            p *= up
            return _from_rows(p, ctx.shape), None
        # a = (1 - eps) w_t one_hot(t) + (eps / C) w, zero on ignored rows
        keep = 1.0 if ctx.ignored is None else (~ctx.ignored)[:, None].astype(p.dtype)
        smooth_row = (w if w is not None else xp.ones(c, dtype=p.dtype))[None, :] * (eps / c)
        smooth_row = smooth_row * keep  # (1, C), or (N, C) with the ignored rows zeroed
        w_t = wt[:, None] if wt is not None else 1.0
        p *= (1 - eps) * w_t + smooth_row.sum(axis=1, keepdims=True)
        p -= smooth_row
        p[ar, t] -= (1 - eps) * (wt if wt is not None else 1.0)
        p *= up
        return _from_rows(p, ctx.shape), None


def _reduce_rows(ctx, loss, reduction, in_shape):
    """Reduce per-prediction losses (already multiplied by their weights) by ``ctx.denom``."""
    if reduction == "mean":
        if type(ctx.denom) is int and ctx.denom:  # no class weights: the count of rows
            return _sum_all(loss) / ctx.denom
        with np.errstate(invalid="ignore", divide="ignore"):  # all rows ignored: nan, as torch
            return _sum_all(loss) / ctx.denom
    if reduction == "sum":
        return _sum_all(loss)
    return loss.reshape(_per_sample_shape(in_shape))


class NLLLoss(Op):
    """Negative log-likelihood on log-probabilities x: loss_i = -w_{t_i} x_{i, t_i}.

    'mean' divides by sum_i w_{t_i} over rows not ignored (as PyTorch). The gradient is
    -w_{t_i} at (i, t_i) and zero elsewhere.
    """

    def forward(ctx, x, target, weight=None, reduction="mean", ignored=None):
        xp = array_module(x)
        ctx.shape = x.shape
        rows = _to_rows(x)
        n = rows.shape[0]
        t, wt = _class_targets(target, weight, ignored, x.dtype)
        loss = -rows[xp.arange(n), t]
        if wt is not None:
            loss = loss * wt
        ctx.saved = (t, wt)
        ctx.rows_shape = rows.shape
        ctx.reduction = reduction
        ctx.denom = wt.sum() if wt is not None else n
        return _reduce_rows(ctx, loss, reduction, x.shape)

    def backward(ctx, g):
        xp = array_module(g)
        t, wt = ctx.saved
        if ctx.reduction == "mean":
            up = xp.broadcast_to(-g / ctx.denom if ctx.denom else g * 0, t.shape)
        elif ctx.reduction == "sum":
            up = xp.broadcast_to(-g, t.shape)
        else:
            up = -g.reshape(-1)
        if wt is not None:
            up = up * wt
        grad = xp.zeros(ctx.rows_shape, dtype=g.dtype)
        grad[xp.arange(t.shape[0]), t] = up
        return _from_rows(grad, ctx.shape), None


class MultiMarginLoss(Op):
    """Multiclass hinge: loss_i = (1/C) sum_{j != y_i} w_{y_i} max(0, margin - x_{i,y_i} +
    x_ij)^p, p in {1, 2} (PyTorch's definition; 'mean' averages over the N rows)."""

    def forward(ctx, x, target, p=1, margin=1.0, weight=None, reduction="mean"):
        xp = array_module(x)
        ctx.shape = x.shape
        rows = _to_rows(x)
        n, c = rows.shape
        t = target.reshape(-1)
        ar = xp.arange(n)
        z = margin - rows[ar, t][:, None] + rows
        z[ar, t] = 0  # the target class itself is not a margin violation
        active = z > 0
        # where, not z * active: PyTorch skips the inactive terms, so a NaN or -inf z (from a
        # NaN or inf score) adds nothing, where NaN * 0 or -inf * 0 would give NaN
        z = xp.where(active, z, 0)
        h = z if p == 1 else z * z
        wt = weight[t][:, None] if weight is not None else None
        if wt is not None:
            h = h * wt
        loss = h.sum(axis=1) / c
        ctx.saved = (z, active, t, wt)
        ctx.p, ctx.c, ctx.reduction, ctx.n = p, c, reduction, n
        if reduction == "mean":
            return _mean_all(loss)
        if reduction == "sum":
            return _sum_all(loss)
        return loss.reshape(_per_sample_shape(x.shape))

    def backward(ctx, g):
        xp = array_module(g)
        z, active, t, wt = ctx.saved
        n, c = z.shape
        if ctx.reduction == "mean":
            up = g / (n * c)
        elif ctx.reduction == "sum":
            up = g / c
        else:
            up = g.reshape(-1, 1) / c
        grad = active * up if ctx.p == 1 else z * (2 * up)
        grad = grad.astype(z.dtype, copy=False)
        if wt is not None:
            grad = grad * wt
        ar = xp.arange(n)
        grad[ar, t] = 0
        grad[ar, t] = -grad.sum(axis=1)
        return _from_rows(grad, ctx.shape), None


class KLDivergence(Op):
    """Pointwise KL term for log-probabilities x and target t (PyTorch's ``kl_div``):

        t (log t - x)                 (log_target=False; 0 where t == 0)
        exp(t) (t - x)                (log_target=True: t given as log-probabilities)

    d/dx = -t (or -exp(t)); d/dt = log t + 1 - x (or exp(t) (t - x + 1)).
    'batchmean' divides the sum by the batch size N: the true KL(t || p) per sample.
    """

    def forward(ctx, x, t, reduction="mean", log_target=False):
        xp = array_module(x)
        if log_target:
            et = xp.exp(t)
            loss = et * (t - x)
            ctx.saved = (x, t, et)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                t_log_t = xp.where(t > 0, t * xp.log(xp.where(t > 0, t, 1)), 0)
            loss = t_log_t - t * x
            ctx.saved = (x, t, None)
        ctx.log_target = log_target
        return _reduce(ctx, loss, reduction, batch=x.shape[0] if x.ndim else 1)

    def backward(ctx, g):
        xp = array_module(g)
        x, t, et = ctx.saved
        up = _upstream(ctx, g)
        need_x, need_t = ctx.needs_input_grad
        gx = gt = None
        if need_x:
            gx = -(et if ctx.log_target else t) * up
        if need_t:
            if ctx.log_target:
                gt = et * (t - x + 1) * up
            else:
                # d/dt (t log t) = log t + 1, with the 1 written t / t as PyTorch's xlogy(t, t)
                # backward has it: 1 for every finite t != 0, NaN at t = 0 and t = inf,
                # as in PyTorch (not the one-sided limits -inf and inf).
                with np.errstate(divide="ignore", invalid="ignore"):
                    gt = (xp.log(t) + t / t - x) * up
        return gx, gt
