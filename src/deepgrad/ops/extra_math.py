"""Primitives the API census added: arcsine, determinant, and piecewise-constant functions."""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op


class Asin(Op):
    def forward(ctx, a):
        ctx.saved = (a,)
        return np.arcsin(a)

    def backward(ctx, g):  # d asin(x) = 1 / sqrt(1 - x^2)
        (a,) = ctx.saved
        return g / np.sqrt(1 - a * a)


class Det(Op):
    def forward(ctx, a):
        d = np.linalg.det(a).astype(a.dtype)
        ctx.saved = (a, d)
        return d

    def backward(ctx, g):  # d det(A) = det(A) A^-T (Jacobi's formula)
        a, d = ctx.saved
        return (g * d)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)


class PiecewiseConstant(Op):
    """sign, floor, ceil, round: flat between jumps, so their gradient is zero, as in PyTorch."""

    def forward(ctx, a, fn):
        return fn(a)

    def backward(ctx, g):
        return np.zeros_like(g)


class SVD(Op):
    """Reduced SVD A = U diag(S) V^T of an (m, n) matrix, k = min(m, n). One op returns one
    array, so the three factors travel packed as rows of a (m + 1 + n, k) array: U, then S,
    then V; ``deepgrad.svd`` slices them apart, and the slices' gradients arrive packed too."""

    def forward(ctx, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.saved = (u, s, vh.T)
        return np.concatenate([u, s[None, :], vh.T], axis=0)

    def backward(ctx, g):
        # Townsend, "Differentiating the singular value decomposition" (2016), real case:
        # dA = U [ (F o (U^T gU - gU^T U)) S + diag(gS) + S (F o (V^T gV - gV^T V)) ] V^T
        #      + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),  F_ij = 1 / (s_j^2 - s_i^2)
        u, s, v = ctx.saved
        m = u.shape[0]
        gu, gs, gv = g[:m], g[m], g[m + 1 :]
        s2 = s * s
        diff = s2[None, :] - s2[:, None]
        f = np.divide(1.0, diff, out=np.zeros_like(diff), where=diff != 0)
        smat, sinv = np.diag(s), np.diag(1 / s)
        inner = (
            (f * (u.T @ gu - gu.T @ u)) @ smat + np.diag(gs) + smat @ (f * (v.T @ gv - gv.T @ v))
        )
        out = u @ inner @ v.T
        out += (np.eye(m) - u @ u.T) @ gu @ sinv @ v.T
        out += u @ sinv @ gv.T @ (np.eye(v.shape[0]) - v @ v.T)
        return out.astype(g.dtype)


class Log1p(Op):
    def forward(ctx, a):
        ctx.saved = (a,)
        return np.log1p(a)

    def backward(ctx, g):  # d log(1 + x) = 1 / (1 + x)
        (a,) = ctx.saved
        return g / (1 + a)
