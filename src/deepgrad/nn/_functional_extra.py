"""Functional forms the API census found in teaching code beyond deepgrad's core set.

Each is composed from differentiable tensor operations (indexing, arithmetic, reductions,
``conv2d``), so autograd derives its backward pass; the docstrings give the formula.
"""

from __future__ import annotations

import math

import numpy as np

from deepgrad.tensor import Tensor, _wrap


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (PyTorch's ``F.normalize``)."""
    norm = input.norm(p=p, dim=dim, keepdim=True).clamp(min=eps)
    return input / norm


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial axes of (N, C, L), (N, C, H, W) by nearest-neighbour sampling:
    out[..., i, j] = x[..., floor(i * H / H_out), floor(j * W / W_out)].

    deepgrad implements ``mode='nearest'`` only; other modes raise NotImplementedError."""
    if mode != "nearest":
        raise NotImplementedError(
            f"F.interpolate: mode={mode!r} is not implemented in deepgrad; only 'nearest' is."
        )
    spatial = input.shape[2:]
    if size is not None:
        out = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        scales = [s_in / s_out for s_in, s_out in zip(spatial, out)]
    elif scale_factor is not None:
        factors = (
            scale_factor
            if isinstance(scale_factor, (tuple, list))
            else (scale_factor,) * len(spatial)
        )
        out = tuple(int(math.floor(s * f)) for s, f in zip(spatial, factors))
        scales = [1 / f for f in factors]
    else:
        raise ValueError("F.interpolate: either size or scale_factor should be defined")
    index = [slice(None), slice(None)]
    for axis, (n_out, n_in, scale) in enumerate(zip(out, spatial, scales)):
        src = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
        shape = [1] * len(spatial)
        shape[axis] = n_out
        index.append(src.reshape(shape))
    return input[tuple(index)]


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:  # fmt: skip
    """PyTorch's deprecated name for ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(N, C r^2, H, W) -> (N, C, H r, W r):
    out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]."""
    r = upscale_factor
    *batch, c, h, w = input.shape
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    n = len(batch)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def reflection_pad2d(input: Tensor, padding) -> Tensor:
    """Pad the last two axes by reflecting at the border (the edge itself is not repeated).
    ``padding`` is (left, right, top, bottom) or one number for all four."""
    left, right, top, bottom = (padding,) * 4 if isinstance(padding, int) else padding
    h, w = input.shape[-2:]

    def reflect(n, lo, hi):
        if lo >= n or hi >= n:
            raise ValueError(
                f"ReflectionPad2d: padding ({lo}, {hi}) must be smaller than the input size {n}"
            )
        i = np.arange(-lo, n + hi)
        return np.abs(i) - 2 * np.maximum(i - (n - 1), 0)  # mirror at 0 and at n-1

    rows, cols = reflect(h, top, bottom), reflect(w, left, right)
    return input[..., rows[:, None], cols[None, :]]


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose (gradient) of conv2d: each input pixel scatters ``weight`` into the output.

    H_out = (H - 1) s - 2 p + k + output_padding. Computed as conv2d of the input spread out by
    the stride (zeros between pixels) and padded by k - 1 - p, with the kernel flipped and its
    in/out channels swapped. ``weight`` is (C_in, C_out, kH, kW). groups and dilation must be 1.
    """
    from deepgrad.nn.functional import conv2d

    if groups != 1 or _pair(dilation) != (1, 1):
        raise NotImplementedError("conv_transpose2d: deepgrad supports groups=1, dilation=1 only")
    (sh, sw), (ph, pw), (oph, opw) = _pair(stride), _pair(padding), _pair(output_padding)
    kh, kw = weight.shape[2:]
    h, w = input.shape[-2:]

    def spread(n, s, k, p, op):
        # for each row of the conv2d input: the source row and whether it holds a pixel
        n_out = (n - 1) * s - 2 * p + k + op
        d = np.arange(n_out + k - 1) - (k - 1 - p)
        valid = (d >= 0) & (d <= (n - 1) * s) & (d % s == 0)
        return np.clip(d // s, 0, n - 1), valid

    rows, row_ok = spread(h, sh, kh, ph, oph)
    cols, col_ok = spread(w, sw, kw, pw, opw)
    mask = _wrap((row_ok[:, None] & col_ok[None, :]).astype(input._data.dtype))
    spread_input = input[..., rows[:, None], cols[None, :]] * mask
    flipped = weight[:, :, np.arange(kh)[::-1, None], np.arange(kw)[None, ::-1]]
    return conv2d(spread_input, flipped.permute(1, 0, 2, 3), bias)


def embedding(
    input: Tensor, weight: Tensor, padding_idx: int | None = None, *args, **kwargs
) -> Tensor:
    """Rows of ``weight`` picked by the integer tensor ``input``: out[...] = weight[input[...]]."""
    index = input._data if isinstance(input, Tensor) else np.asarray(input)
    out = weight[index]
    if padding_idx is not None:  # the padding row gets no gradient, as in PyTorch
        out = out * _wrap((index != padding_idx)[..., None].astype(weight._data.dtype))
    return out


def instance_norm(input: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
                  eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalise each (sample, channel) over its spatial axes: (x - mean) / sqrt(var + eps),
    with the biased variance, then scale by ``weight`` and shift by ``bias`` per channel."""
    axes = tuple(range(2, input.ndim))
    mean = input.mean(dim=axes, keepdim=True)
    centred = input - mean
    var = (centred * centred).mean(dim=axes, keepdim=True)
    out = centred / (var + eps).sqrt()
    shape = (1, -1) + (1,) * len(axes)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def conv3d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
    groups: int = 1,
) -> Tensor:  # fmt: skip
    """3-D convolution over (N, C, D, H, W), built on conv2d: output depth i sees the slab of
    kD input planes starting at i * stride; its C x kD planes become the channels of a conv2d
    with the weight reshaped to (O, C kD, kH, kW). groups and dilation must be 1."""
    from deepgrad.functions import cat, stack
    from deepgrad.nn.functional import conv2d

    if groups != 1 or dilation not in (1, (1, 1, 1)):
        raise NotImplementedError("conv3d: deepgrad supports groups=1, dilation=1 only")
    sd, sh, sw = (stride,) * 3 if isinstance(stride, int) else tuple(stride)
    pd, ph, pw = (padding,) * 3 if isinstance(padding, int) else tuple(padding)
    n, c, d, h, w = input.shape
    o, _, kd, kh, kw = weight.shape
    if pd:  # zero planes made from the input, so the batch size stays free (ONNX export)
        zeros = input[:, :, :1] * 0
        input = cat([zeros] * pd + [input] + [zeros] * pd, dim=2)
    w2 = weight.reshape(o, c * kd, kh, kw)
    planes = []
    for i in range(0, d + 2 * pd - kd + 1, sd):
        slab = input[:, :, i : i + kd].reshape(n, c * kd, h, w)
        planes.append(conv2d(slab, w2, None, (sh, sw), (ph, pw)))
    y = stack(planes, dim=2)
    return y if bias is None else y + bias.reshape(1, o, 1, 1, 1)
