"""Convolution and max pooling on the GPU: im2col + cuBLAS, with small CUDA kernels.

Why this path (measured on an H200, see benchmarks/README.md, "GPU"): CuPy 14 no longer
exposes cuDNN (``cupy.cuda.cudnn`` and ``cupyx.cudnn`` are gone), so the choice was between
raw direct-convolution kernels and im2col + cuBLAS. im2col + cuBLAS is what a readable framework
can make fast with little code: two gather kernels (``im2col``, ``col2im``) written here, and
every multiply-add in cuBLAS's batched GEMM, which is tuned for the chip.

Layouts. Images are NCHW. The columns form one (K, N*L) matrix, K = C*kh*kw (one row per
input channel and kernel offset), L = OH*OW (one column per output pixel of each image), so
every product is one large GEMM rather than N small ones:

    forward   y2 (O, N*L) = W (O, K) @ cols (K, N*L)     y = y2 viewed as (N, O, OH, OW)
    backward  dW = g2 @ cols^T,  dcols = W^T @ g2,  dx = col2im(dcols)      g2: (O, N*L)

The forward returns the (O, N, OH, OW) memory as an (N, O, OH, OW) view, as the CPU path
does: the next elementwise op reads it in place, and no transposing copy is made.
``col2im`` gathers (one thread per input pixel sums the columns that read it), so it needs no
atomics and is deterministic. Max pooling records the flat index (h*W + w) of each window's
maximum, PyTorch's ``return_indices``; its backward adds the gradient at those indices with
``atomicAdd`` (overlapping windows may share a maximum), exact for non-overlapping windows.
"""

from __future__ import annotations

import os

import cupy

from deepgrad.autograd.op import Op
from deepgrad.ops.pool import pool_output_size

_GEOMETRY = (
    "int32 N, int32 C, int32 H, int32 W, int32 OH, int32 OW, int32 KH, int32 KW, "
    "int32 SH, int32 SW, int32 PH, int32 PW, int32 DH, int32 DW"
)

_SOURCES: dict = {}


def _define(kind: str, array_param: str, out_params: str, body: str, name: str):
    """The generic kernel (sizes as arguments); the source is kept for ``_fixed_kernel``."""
    _SOURCES[kind] = (array_param, out_params, body, name)
    return cupy.ElementwiseKernel(array_param + ", " + _GEOMETRY, out_params, body, name)


_im2col = _define(
    "im2col",
    "raw T x",
    "T col",
    """
    // col is (K, N*L): i = k*N*L + n*L + l, k = (c*KH + kh)*KW + kw, l = oh*OW + ow
    const long long L = (long long)OH * OW;
    const long long l = i % L, kn = i / L;
    const int n = kn % N, k = kn / N;
    const int ow = l % OW, oh = l / OW;
    const int kw = k % KW, kh = (k / KW) % KH, c = k / (KW * KH);
    const int h = oh * SH - PH + kh * DH, w = ow * SW - PW + kw * DW;
    col = (h >= 0 && h < H && w >= 0 && w < W)
        ? x[(((long long)n * C + c) * H + h) * W + w] : (T)0;
    """,
    "deepgrad_im2col",
)

_col2im = _define(
    "col2im",
    "raw T col",
    "T gx",
    """
    // one thread per input pixel (n, c, h, w): sum every column entry that read it
    const long long L = (long long)OH * OW, NL = (long long)N * L;
    const int w = i % W, h = (i / W) % H, c = (i / ((long long)W * H)) % C;
    const int n = i / ((long long)W * H * C);
    T sum = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int hh = h + PH - kh * DH;
        if (hh < 0 || hh % SH) continue;
        const int oh = hh / SH;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int ww = w + PW - kw * DW;
            if (ww < 0 || ww % SW) continue;
            const int ow = ww / SW;
            if (ow >= OW) continue;
            const long long k = ((long long)c * KH + kh) * KW + kw;
            sum += col[k * NL + (long long)n * L + (long long)oh * OW + ow];
        }
    }
    gx = sum;
    """,
    "deepgrad_col2im",
)

_maxpool = _define(
    "maxpool",
    "raw T x",
    "T y, int32 arg",
    """
    // one thread per output (n, c, oh, ow); PyTorch's rule: a larger value or a NaN wins,
    // so NaN propagates; the index starts at the window's first in-bounds pixel
    const int ow = i % OW, oh = (i / OW) % OH;
    const long long plane = i / ((long long)OW * OH);
    const T* base = &x[plane * H * W];
    int hs = oh * SH - PH, ws = ow * SW - PW;
    int h0 = hs, w0 = ws;
    while (h0 < 0) h0 += DH;
    while (w0 < 0) w0 += DW;
    T best = -(T)__int_as_float(0x7f800000);  // -inf
    int at = h0 * W + w0;
    for (int kh = 0; kh < KH; ++kh) {
        const int h = hs + kh * DH;
        if (h < 0 || h >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int w = ws + kw * DW;
            if (w < 0 || w >= W) continue;
            const T v = base[h * W + w];
            if (v > best || isnan(v)) { best = v; at = h * W + w; }
        }
    }
    y = best;
    arg = at;
    """,
    "deepgrad_maxpool",
)

_scatter_max = cupy.ElementwiseKernel(
    "T g, int32 arg, int64 per_plane, int32 HW",
    "raw T gx",
    "atomicAdd(&gx[(i / per_plane) * HW + arg], g);",
    "deepgrad_maxpool_backward",
)


def _geometry_args(n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
    return tuple(int(v) for v in (n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw))


# ------------------------------------------------------------------ kernels for one geometry
# The kernels above take the sizes as arguments, so every index computation divides by a
# runtime value (a long subroutine for 64-bit integers). A training run uses a handful of
# geometries, each thousands of times: for each one, the same source is compiled again with
# the sizes as constants (a division by a constant is a multiply and a shift). CuPy caches the
# compiled kernels on disk. DEEPGRAD_CUDA_SPECIALIZE=0 keeps the generic kernels.
_NAMES = ("N", "C", "H", "W", "OH", "OW", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW")
_GENERIC = {"im2col": _im2col, "col2im": _col2im, "maxpool": _maxpool}
_SPECIALIZE = os.environ.get("DEEPGRAD_CUDA_SPECIALIZE", "1") != "0"
_fixed: dict = {}


def _fixed_kernel(kind: str, dims: tuple):
    key = (kind, dims)
    kernel = _fixed.get(key)
    if kernel is None:
        array_param, out_params, body, name = _SOURCES[kind]
        consts = "\n".join(f"static constexpr int {n} = {v};" for n, v in zip(_NAMES, dims))
        kernel = cupy.ElementwiseKernel(
            array_param, out_params, body, name + "_fixed", preamble=consts
        )
        _fixed[key] = kernel
    return kernel


def _launch(kind: str, dims: tuple, x, *outputs):
    """Run kernel ``kind`` on input ``x`` into ``outputs`` for geometry ``dims``."""
    global _SPECIALIZE
    if _SPECIALIZE:
        try:
            return _fixed_kernel(kind, dims)(x, *outputs)
        except cupy.cuda.compiler.CompileException:  # pragma: no cover - keep training
            _SPECIALIZE = False
    return _GENERIC[kind](x, *dims, *outputs)


def _contiguous(a):
    return a if a.flags.c_contiguous else cupy.ascontiguousarray(a)


class Conv2dCUDA(Op):
    """2-D convolution on the GPU (same arguments and results as ``ops.conv.Conv2d``)."""

    @classmethod
    def op_name(cls) -> str:
        return "Conv2d"

    def forward(ctx, x, weight, bias=None, *, stride, padding, dilation, groups):
        top, bottom, left, right = padding
        ctx.crop = None
        if top != bottom or left != right:  # asymmetric ('same' with an even kernel): pad first
            ctx.crop = (top, left) + tuple(x.shape[2:])
            x = cupy.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
            top = left = 0
        x = _contiguous(x)
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        (sh, sw), (dh, dw) = stride, dilation
        oh = (h + 2 * top - dh * (kh - 1) - 1) // sh + 1
        ow = (w + 2 * left - dw * (kw - 1) - 1) // sw + 1
        og = o // groups
        ctx.dims = (n, c, h, w, oh, ow, kh, kw, sh, sw, top, left, dh, dw)
        ctx.groups = groups
        geometry = _geometry_args(n, cg, h, w, oh, ow, kh, kw, sh, sw, top, left, dh, dw)
        k, nl = cg * kh * kw, n * oh * ow
        out = cupy.empty((o, nl), dtype=x.dtype)
        cols_kept = []
        for g in range(groups):
            xg = x if groups == 1 else _contiguous(x[:, g * cg : (g + 1) * cg])
            cols = cupy.empty((k, nl), dtype=x.dtype)
            _launch("im2col", geometry, xg, cols)
            wg = weight[g * og : (g + 1) * og].reshape(og, k)
            cupy.matmul(wg, cols, out=out[g * og : (g + 1) * og])  # rows: a contiguous block
            cols_kept.append(cols)
        if bias is not None:
            out += bias[:, None]
        need = ctx.needs_input_grad
        if need:
            ctx.saved = (cols_kept if need[1] else None, weight if need[0] else None)
        return out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)

    def backward(ctx, grad):
        cols_kept, weight = ctx.saved
        need = ctx.needs_input_grad
        n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw = ctx.dims
        groups = ctx.groups
        o = grad.shape[1]
        # (O, N*L): free when grad has the forward's layout, else one transposing copy
        g2 = _contiguous(grad.transpose(1, 0, 2, 3)).reshape(o, n * oh * ow)
        og, cg = o // groups, c // groups
        k = cg * kh * kw
        geometry = _geometry_args(n, cg, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = g2.sum(axis=1)
        if need[1]:
            parts = [g2[g * og : (g + 1) * og] @ cols_kept[g].T for g in range(groups)]
            gw = (parts[0] if groups == 1 else cupy.concatenate(parts)).reshape(o, cg, kh, kw)
        if need[0]:
            gx = cupy.empty((n, c, h, w), dtype=grad.dtype)
            for g in range(groups):
                wg = weight[g * og : (g + 1) * og].reshape(og, k)
                dcols = wg.T @ g2[g * og : (g + 1) * og]  # (K, N*L)
                if groups == 1:
                    _launch("col2im", geometry, dcols, gx)
                else:
                    part = cupy.empty((n, cg, h, w), dtype=grad.dtype)
                    _launch("col2im", geometry, dcols, part)
                    gx[:, g * cg : (g + 1) * cg] = part
            if ctx.crop is not None:  # drop the rows and columns the forward padded on
                top, left, h0, w0 = ctx.crop
                gx = gx[:, :, top : top + h0, left : left + w0]
        return gx, gw, gb


class MaxPool2dCUDA(Op):
    """Max pooling on the GPU (same arguments and results as ``ops.pool.MaxPool2d``)."""

    @classmethod
    def op_name(cls) -> str:
        return "MaxPool2d"

    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        x = _contiguous(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        oh = pool_output_size(h, kh, sh, ph, dh, ceil_mode)
        ow = pool_output_size(w, kw, sw, pw, dw, ceil_mode)
        y = cupy.empty((n, c, oh, ow), dtype=x.dtype)
        arg = cupy.empty((n, c, oh, ow), dtype=cupy.int32)
        _launch(
            "maxpool", _geometry_args(n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw), x, y, arg
        )
        ctx.arg, ctx.in_shape = arg, x.shape
        return y

    def backward(ctx, grad):
        n, c, h, w = ctx.in_shape
        gx = cupy.zeros(ctx.in_shape, dtype=grad.dtype)
        per_plane = ctx.arg.shape[2] * ctx.arg.shape[3]
        _scatter_max(_contiguous(grad), ctx.arg, per_plane, h * w, gx)
        return gx

    @staticmethod
    def indices(ctx):
        """Each maximum's flat index in its (H, W) plane, as int64 (``return_indices``)."""
        return ctx.arg.astype(cupy.int64)
