"""Cross-entropy from logits on the GPU in two kernels, for the common case of training.

The general op (``ops.loss.CrossEntropy``) runs about a dozen array operations, each a kernel
launch and a Python call; on a small model those launches cost more than the model's matrix
products. This op covers (N, C) logits with class-index targets, no class weights, no label
smoothing and a 'mean' or 'sum' reduction (what a training loop uses), with the same formula:

    m_i = max_c z_ic,  s_i = sum_c exp(z_ic - m_i),  loss_i = log s_i - (z_i,t_i - m_i)
    d loss_i / d z_ic = exp(z_ic - m_i) / s_i - [c = t_i]

The forward is one block that loops over the rows and adds the losses in a fixed tree order
(deterministic); the backward is one elementwise kernel. Class indices are not range-checked on
the GPU (see ``nn._checks.check_class_range``).
"""

from __future__ import annotations

import cupy

from deepgrad.autograd.op import Op

_SOURCE = r"""
template <typename T>
__global__ void ce_forward(const T* z, const long long* t, int n, int c, T* m, T* s, T* out,
                           T scale) {
    __shared__ T part[256];
    T acc = 0;
    for (int r = threadIdx.x; r < n; r += blockDim.x) {
        const T* row = z + (long long)r * c;
        T mx = row[0];
        for (int j = 1; j < c; ++j) mx = row[j] > mx ? row[j] : mx;
        T sum = 0;
        for (int j = 0; j < c; ++j) sum += exp(row[j] - mx);
        m[r] = mx;
        s[r] = sum;
        acc += log(sum) - (row[t[r]] - mx);
    }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[0] = part[0] * scale;
}
"""

_module = cupy.RawModule(code=_SOURCE, name_expressions=("ce_forward<float>", "ce_forward<double>"))
_forward = {
    "float32": _module.get_function("ce_forward<float>"),
    "float64": _module.get_function("ce_forward<double>"),
}

_backward = cupy.ElementwiseKernel(
    "T z, raw int64 t, raw T m, raw T s, raw T g, int32 c, T scale",
    "T gz",
    """
    const long long r = i / c;
    const int j = i % c;
    T p = exp(z - m[r]) / s[r];
    if (j == t[r]) p -= (T)1;
    gz = p * (g[0] * scale);
    """,
    "deepgrad_cross_entropy_backward",
)

#: Largest number of rows the one-block forward takes; more go to the general op.
MAX_ROWS = 1 << 16


def usable(x, weight, label_smoothing, reduction) -> bool:
    return (
        x.ndim == 2
        and x.dtype.name in _forward
        and weight is None
        and not label_smoothing
        and reduction in ("mean", "sum")
        and 0 < x.shape[0] <= MAX_ROWS
    )


class CrossEntropyCUDA(Op):
    """Mean or summed cross-entropy of (N, C) logits and class indices, on the GPU."""

    @classmethod
    def op_name(cls) -> str:
        return "CrossEntropy"

    def forward(ctx, z, target, reduction="mean"):
        z = z if z.flags.c_contiguous else cupy.ascontiguousarray(z)
        t = target.astype(cupy.int64, copy=False).reshape(-1)
        n, c = z.shape
        m = cupy.empty(n, dtype=z.dtype)
        s = cupy.empty(n, dtype=z.dtype)
        out = cupy.empty((), dtype=z.dtype)
        scale = z.dtype.type(1.0 / n if reduction == "mean" else 1.0)
        _forward[z.dtype.name]((1,), (256,), (z, t, cupy.int32(n), cupy.int32(c), m, s, out, scale))
        ctx.saved = (z, t, m, s)
        ctx.scale = scale
        return out

    def backward(ctx, g):
        z, t, m, s = ctx.saved
        return _backward(z, t, m, s, g, z.shape[1], ctx.scale), None
