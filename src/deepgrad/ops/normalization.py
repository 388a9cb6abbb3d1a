"""Batch normalisation as one primitive (the usual three-term backward, not a chain of ops).

For each channel c, over the batch (and spatial) axes:

    x_hat = (x - mu) / sqrt(var + eps),   y = gamma x_hat + beta

In training mode mu and var are the batch's (var biased, 1/n); in eval mode they are the running
estimates, so the op is a fixed affine map of x.
"""

from __future__ import annotations

from deepgrad.autograd.op import Op
from deepgrad.backend import array_module


def _channel_shape(x):
    """Broadcast shape of a per-channel vector: (1, C) or (1, C, 1, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Op):
    """Inputs (x, [gamma, beta]); ``mean``/``var`` given means eval mode (running statistics).

    Training backward, with n values per channel and g = dL/dy:
        dbeta = sum g,  dgamma = sum g x_hat,
        dx = gamma / (n sqrt(var + eps)) (n g - sum g - x_hat sum g x_hat)
    In training mode, forward stores the batch mean and unbiased variance (1/(n-1)) into the
    dict ``stats`` when one is given, so the caller can update its running statistics without
    a second pass over the data.
    """

    def forward(ctx, x, weight=None, bias=None, mean=None, var=None, eps=1e-5, stats=None):
        xp = array_module(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        ctx.axes = axes
        if mean is None:  # batch statistics
            n = x.size // x.shape[1]
            mu = x.mean(axis=axes, keepdims=True)
            centred = x - mu
            batch_var = (centred * centred).mean(axis=axes, keepdims=True)
            inv_std = 1 / xp.sqrt(batch_var + eps)
            x_hat = centred
            x_hat *= inv_std
            if stats is not None:
                stats["mean"] = mu.reshape(-1)
                stats["var"] = batch_var.reshape(-1) * (n / max(n - 1, 1))
            ctx.training = True
            ctx.n = n
        else:
            # PyTorch's eval form, y = x alpha + beta with alpha = gamma / std and
            # beta = beta - mean alpha per channel: the same numbers up to rounding, and where
            # a statistic or gamma is NaN or infinite, the same NaNs and infinities.
            inv_std = (1 / xp.sqrt(var + eps)).reshape(shape)
            alpha = inv_std * weight.reshape(shape) if weight is not None else inv_std
            beta = (bias.reshape(shape) if bias is not None else 0) - mean.reshape(shape) * alpha
            ctx.training = False
            ctx.saved = (x - mean.reshape(shape), inv_std, weight)
            return x * alpha + beta
        out = x_hat * weight.reshape(shape) if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        ctx.saved = (x_hat, inv_std, weight)
        return out

    def backward(ctx, g):
        x_hat, inv_std, w = ctx.saved  # in eval mode x - mean, not yet scaled (PyTorch's order)
        axes = ctx.axes
        shape = _channel_shape(x_hat)
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if len(need) > 1 and need[1]:
            gw = (g * x_hat).sum(axis=axes)
            if not ctx.training:
                gw *= inv_std.reshape(-1)
        if len(need) > 2 and need[2]:
            gb = g.sum(axis=axes)
        if need[0]:
            scale = inv_std * w.reshape(shape) if w is not None else inv_std
            if ctx.training:
                sum_g = g.sum(axis=axes, keepdims=True)
                sum_gx = (g * x_hat).sum(axis=axes, keepdims=True)
                gx = g - sum_g / ctx.n
                gx -= x_hat * (sum_gx / ctx.n)
                gx *= scale
            else:
                gx = g * scale
        return gx, gw, gb
