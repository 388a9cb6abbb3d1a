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


def _lu_factor(a):
    """LU with partial pivoting of a batch of (n, n) matrices, step for step as LAPACK's getf2
    (which PyTorch calls), so that NaN and inf land where they do in PyTorch; NumPy's det and
    solve go through another LAPACK and differ there. Returns (lu, rows, swaps): L (unit
    diagonal) below the diagonal of ``lu`` and U on and above it, for the rows of ``a`` in the
    order ``rows``; ``swaps`` counts the row exchanges of each matrix."""
    lu = a.reshape(-1, *a.shape[-2:]).copy()
    batch, n = lu.shape[0], lu.shape[-1]
    at = np.arange(batch)
    rows = np.tile(np.arange(n), (batch, 1))
    swaps = np.zeros(batch, dtype=np.int64)
    for k in range(n):
        size = np.abs(lu[:, k:, k])
        # LAPACK's idamax: the first largest |value|; a NaN is chosen only in first place
        p = k + np.where(np.isnan(size[:, 0]), 0, np.argmax(np.nan_to_num(size, nan=-1), 1))
        swaps += p != k
        lu[at, k], lu[at, p] = lu[at, p], lu[at, k].copy()
        rows[at, k], rows[at, p] = rows[at, p], rows[at, k].copy()
        pivot = lu[:, k, k]
        scale = np.where(pivot != 0, 1 / np.where(pivot != 0, pivot, 1), 1)  # 0: no scaling
        lu[:, k + 1 :, k] *= scale[:, None]
        lu[:, k + 1 :, k + 1 :] -= lu[:, k + 1 :, k, None] * lu[:, k, None, k + 1 :]
    return lu, rows, swaps


def _lu_solve(lu, rows, b):
    """x with A x = b, for A factored by ``_lu_factor`` (LAPACK's getrs: L, then U)."""
    x = np.take_along_axis(b, rows[:, :, None], axis=1)
    n = lu.shape[-1]
    for k in range(n):
        x[:, k + 1 :] -= x[:, k, None] * lu[:, k + 1 :, k, None]
    for k in reversed(range(n)):
        x[:, k] /= lu[:, k, k, None]
        x[:, :k] -= x[:, k, None] * lu[:, :k, k, None]
    return x


class Det(Op):
    """det(A), through PyTorch's own route: the LU factors of A^T (det = +-prod(diag U)), and
    for the gradient g det(A) A^-T, the solve of A^T X = g det(A) I with those factors (a zero
    pivot raised to eps, as PyTorch does for singular A). The same steps give the same NaN and
    inf as PyTorch where A holds NaN or inf."""

    def forward(ctx, a):
        with np.errstate(all="ignore"):  # inf - inf and the like, as in LAPACK
            lu, rows, swaps = _lu_factor(np.swapaxes(a, -1, -2))
            n = a.shape[-1]
            d = np.where(swaps % 2, -1, 1) * np.prod(lu[:, range(n), range(n)], axis=-1)
        d = d.reshape(a.shape[:-2]).astype(a.dtype)
        ctx.saved = (a, d, lu, rows)
        return d

    def backward(ctx, g):  # d det(A) = det(A) A^-T (Jacobi's formula)
        a, d, lu, rows = ctx.saved
        n = a.shape[-1]
        if n == 1:  # PyTorch gives g itself, also where a is 0, NaN or inf
            return np.broadcast_to(g[..., None, None], a.shape).astype(a.dtype)
        diag = lu[:, range(n), range(n)]
        lu = lu.copy()
        lu[:, range(n), range(n)] = np.where(diag == 0, np.finfo(a.dtype).eps, diag)
        rhs = np.zeros_like(lu)
        rhs[:, range(n), range(n)] = (g * d).reshape(-1, 1)  # zeros off the diagonal, not inf * 0
        with np.errstate(all="ignore"):
            return _lu_solve(lu, rows, rhs).reshape(a.shape)


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
