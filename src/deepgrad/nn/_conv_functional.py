"""Convolution and pooling as functions, with PyTorch's signatures (re-exported by
``deepgrad.nn.functional``): conv1d, conv2d, max_pool1d/2d, avg_pool1d/2d,
adaptive_avg_pool1d/2d and adaptive_max_pool2d.

Each function checks its arguments and input, then calls one primitive op from
``deepgrad.ops.conv``. The 1-D forms take the 2-D forms' arguments (``_one_dimensional``), add a
height-1 axis and call the 2-D ops. Unbatched inputs, (C, H, W) for the 2-D forms and (C, L) for
the 1-D forms, work as in PyTorch.

Beyond PyTorch: an input that cannot work (wrong rank, wrong channel count, an image smaller
than the kernel, a dtype that differs from the weight's) raises an error naming the function
(or the layer, when called by a module), the shapes involved, and the likely fix.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from deepgrad.nn.module import LayerInputError
from deepgrad.ops import conv as _C
from deepgrad.ops import pool as _P
from deepgrad.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
]


def _on_gpu(x: Tensor) -> bool:
    return type(x._data) is not np.ndarray


def _conv(x, *args, **params):
    if _on_gpu(x):  # GPU tensors: im2col + cuBLAS kernels of deepgrad.cuda
        from deepgrad.cuda.conv import Conv2dCUDA

        return Conv2dCUDA.apply(x, *args, **params)
    return _C.Conv2d.apply(x, *args, **params)


def _max_pool_class(x: Tensor):
    if _on_gpu(x):
        from deepgrad.cuda.conv import MaxPool2dCUDA

        return MaxPool2dCUDA
    return _P.MaxPool2d


def _max_pool_op(x, **params):
    return _max_pool_class(x).apply(x, **params)


_avg_pool_op = _P.AvgPool2d.apply


# ----------------------------------------------------------------------------- argument helpers
def _tuple(value, n: int, what: str, name: str) -> tuple:
    """An int or an n-sequence of ints as an n-tuple of ints (PyTorch's _pair / _single)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            return tuple(int(v) for v in value)
    if isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:
        return _tuple(value[0], n, what, name)
    raise TypeError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")


def _positive(values: tuple, what: str, name: str) -> tuple:
    if any(v <= 0 for v in values):
        raise ValueError(f"{name}: {what} must be positive, got {values}")
    return values


def positive_tuple(value, n: int, what: str, name: str) -> tuple:
    """``_tuple`` for sizes that must be positive (kernel_size, stride, dilation)."""
    return _positive(_tuple(value, n, what, name), what, name)


def conv_padding(padding, kernel: tuple, dilation: tuple, stride: tuple, name: str) -> tuple:
    """Per-side padding (before, after) for each spatial dimension, flattened: for 2-D
    (top, bottom, left, right). 'same' pads d*(k-1) in total, the extra one (when odd) after,
    as PyTorch does; it needs stride 1. 'valid' is no padding."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * n)
        if padding != "same":
            raise ValueError(
                f"{name}: invalid padding string {padding!r}, should be one of 'valid', 'same' "
                "(or give a number or a tuple)"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{name}: padding='same' is not supported for strided convolutions (stride="
                f"{stride}); give the padding as numbers instead"
            )
        out = ()
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            out += (total // 2, total - total // 2)
        return out
    pads = _tuple(padding, n, "padding", name)
    if any(p < 0 for p in pads):
        raise ValueError(f"{name}: negative padding {pads} is not supported")
    return tuple(v for p in pads for v in (p, p))


def _one_dimensional(form_2d, implementation, name: str, doc: str, fixed: dict | None = None):
    """The 1-D form of a 2-D convolution or pooling function: the same arguments, less those in
    ``fixed`` (which PyTorch's 1-D form lacks; they get those values), run by the shared
    ``implementation`` with dims=1, on sequences (N, C, L) as images of height 1."""
    fixed = fixed or {}
    signature = inspect.signature(form_2d)
    signature = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name not in fixed]
    )
    arguments = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != "_layer"]
    )

    def form_1d(*args, _layer=None, **kwargs):
        try:
            bound = arguments.bind(*args, **kwargs)
        except TypeError as err:  # name the function, as Python does for a def
            raise TypeError(f"{name}(): {err}") from None
        bound.apply_defaults()
        return implementation(**bound.arguments, **fixed, dims=1, layer=_layer, name=name)

    form_1d.__name__ = form_1d.__qualname__ = name
    form_1d.__doc__ = doc
    form_1d.__signature__ = signature
    return form_1d


def _error(layer, name: str, problem: str, fix: str) -> Exception:
    """An input error: a ``LayerInputError`` naming the layer's path when a module called us,
    else a RuntimeError naming the function (PyTorch raises RuntimeError here too)."""
    if layer is not None:
        return LayerInputError(layer, problem, fix)
    return RuntimeError(f"{name} {problem}. {fix}")


def _check_tensor(input, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name} expects a deepgrad Tensor as input, got {type(input).__name__}. Convert it "
            "first, e.g. torch.from_numpy(x).float()."
        )


def _square_side(features: int, channels: int):
    """s if ``features`` == channels * s * s, else None (to suggest a reshape of flat images)."""
    if channels <= 0 or features % channels:
        return None
    s = math.isqrt(features // channels)
    return s if s * s * channels == features else None


# ----------------------------------------------------------------------------- convolution
def _conv_input(input, weight, groups, dims, layer, name) -> tuple[Tensor, bool]:
    """Check input against weight; return it batched (N, C, *spatial) and whether it was not."""
    _check_tensor(input, name)
    shape = tuple(input.shape)
    c_in = weight.shape[1] * groups
    layout = "(N, C, H, W)" if dims == 2 else "(N, C, L)"
    unbatched = "(C, H, W)" if dims == 2 else "(C, L)"
    if input.ndim not in (dims + 1, dims + 2):
        fix = f"Give a batch of shape {layout} with C={c_in}."
        side = _square_side(shape[-1], c_in) if input.ndim == 2 else None
        if dims == 2 and side:
            fix = (
                f"It looks like flattened {c_in}x{side}x{side} images: reshape them back with "
                f"x.view(-1, {c_in}, {side}, {side})."
            )
        elif input.ndim == dims:
            fix = f"Add the channel dimension with x.unsqueeze({0 if dims == 1 else 1})."
        raise _fail(layer, name, f"expects input of shape {layout} or {unbatched}", shape, fix)
    if input._data.dtype != weight._data.dtype:
        raise _error(
            layer,
            name,
            f"got input of dtype {input._data.dtype}, but its weight is {weight._data.dtype}",
            "Convert one of them, e.g. x.float() (PyTorch raises for mixed dtypes too).",
        )
    batched = input.ndim == dims + 2
    channels = shape[1] if batched else shape[0]
    if channels != c_in:
        if not batched and dims == 2 and c_in == 1:
            fix = (
                f"A 3-D input is read as one unbatched image (C, H, W), here with C={channels}. "
                "For a batch of single-channel images add the channel dimension: x.unsqueeze(1)."
            )
        elif batched and shape[-1] == c_in and dims == 2:
            fix = (
                "The images look channels-last (N, H, W, C): move the channels with "
                "x.permute(0, 3, 1, 2)."
            )
        else:
            fix = (
                f"The previous layer's out_channels (or the data's number of channels) must be "
                f"{c_in}."
            )
        what = f"expects {c_in} input channel{'s' if c_in != 1 else ''}"
        what += f" (dimension {1 if batched else 0} of the input)"
        raise _fail(layer, name, what, shape, fix)
    return (input if batched else input.unsqueeze(0)), not batched


def _fail(layer, name, what, shape, fix) -> Exception:
    return _error(layer, name, f"{what}, but got input of shape {shape}", fix)


def _check_size(name, layer, shape, pads, kernel, dilation):
    """Error unless every padded spatial size holds the dilated kernel."""
    spatial = shape[2:]
    padded = tuple(n + pads[2 * i] + pads[2 * i + 1] for i, n in enumerate(spatial))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        sizes = " x ".join(map(str, padded))
        raise _error(
            layer,
            name,
            f"got input of shape {shape}: the padded input is {sizes} per channel, smaller than "
            f"the kernel ({' x '.join(map(str, reach))} with dilation)",
            "The images are too small for this layer: use larger inputs, fewer pooling layers "
            "before it, more padding, or a smaller kernel.",
        )


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, dims, layer, name):
    if not isinstance(weight, Tensor) or weight.ndim != dims + 2:
        raise ValueError(
            f"{name}: weight must be a tensor of shape (out_channels, in_channels/groups, "
            f"{'kH, kW' if dims == 2 else 'kW'}), got "
            f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}"
        )
    if groups < 1 or weight.shape[0] % groups:
        raise ValueError(
            f"{name}: groups={groups} must be positive and divide out_channels "
            f"({weight.shape[0]}, the weight's first dimension)"
        )
    kernel = tuple(weight.shape[2:])
    stride = positive_tuple(stride, dims, "stride", name)
    dilation = positive_tuple(dilation, dims, "dilation", name)
    pads = conv_padding(padding, kernel, dilation, stride, name)
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{name}: bias must have shape ({weight.shape[0]},) (one per output channel), got "
            f"{tuple(bias.shape)}"
        )
    x, unbatched = _conv_input(input, weight, groups, dims, layer, name)
    _check_size(name, layer, tuple(x.shape), pads, kernel, dilation)
    w = weight
    if dims == 1:  # a 1-D convolution is a 2-D one over images of height 1
        x, w = x.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation, pads = (1,) + stride, (1,) + dilation, (0, 0) + pads
    args = (x, w) if bias is None else (x, w, bias)
    y = _conv(*args, stride=stride, padding=pads, dilation=dilation, groups=groups)
    if dims == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
    *,
    _layer=None,
) -> Tensor:
    """2-D convolution (cross-correlation) of a batch of images::

        y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x[n, g(o)*C/G + c, i*s + p*d, j*s + q*d]

    ``input`` (N, C, H, W) or (C, H, W); ``weight`` (O, C/groups, kH, kW); ``bias`` (O,).
    ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may also be
    'valid' (none) or 'same' (output as large as the input; stride 1 only). The output,
    (N, O, OH, OW) with OH = (H + 2 pad - d (kH - 1) - 1) // s + 1, is stored batch-innermost
    in memory (see ``deepgrad.ops.conv``); its values and shape are PyTorch's.
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, _layer, "conv2d")


conv1d = _one_dimensional(
    conv2d,
    _conv_nd,
    "conv1d",
    """1-D convolution of a batch of sequences: ``input`` (N, C, L) or (C, L), ``weight``
    (O, C/groups, k), y[n, o, i] = b[o] + sum_{c, p} w[o, c, p] x[n, c, i*s + p*d]. Computed as
    ``conv2d`` over images of height 1.""",
)


# ----------------------------------------------------------------------------- pooling
def _pool_input(input, dims: int, layer, name: str) -> tuple[Tensor, bool]:
    """The input batched as (N, C, H, W) (1-D: (N, C, 1, L)) and whether it was unbatched."""
    _check_tensor(input, name)
    if input.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        fix = "Pooling works on image batches; reshape the input first."
        side = _square_side(input.shape[-1], 1) if input.ndim == 2 and dims == 2 else None
        if side:
            fix = f"Flattened images? Reshape them back, e.g. x.view(-1, 1, {side}, {side})."
        raise _error(layer, name, f"expects input of shape {layout}, got {tuple(input.shape)}", fix)
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    return (x.unsqueeze(2) if dims == 1 else x), unbatched


def _pool_output(y, dims, unbatched):
    if dims == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def _pool_args(kernel_size, stride, padding, dilation, dims, name):
    kernel = positive_tuple(kernel_size, dims, "kernel_size", name)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = positive_tuple(stride, dims, "stride", name)
    pads = _tuple(padding, dims, "padding", name)
    dilation = positive_tuple(dilation, dims, "dilation", name)
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{name}: padding {pads} must be between 0 and half the kernel size {kernel} "
            "(PyTorch's limit: larger padding would make windows of padding only)"
        )
    if dims == 1:
        kernel, stride, pads, dilation = (1,) + kernel, (1,) + stride, (0,) + pads, (1,) + dilation
    return kernel, stride, pads, dilation


def _check_pool_size(x, kernel, stride, pads, dilation, ceil_mode, layer, name):
    h, w = x.shape[2:]
    oh = _P.pool_output_size(h, kernel[0], stride[0], pads[0], dilation[0], ceil_mode)
    ow = _P.pool_output_size(w, kernel[1], stride[1], pads[1], dilation[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise _error(
            layer,
            name,
            f"got input of shape {tuple(x.shape)}: windows of {kernel[0]} x {kernel[1]} (with "
            f"padding {pads}, dilation {dilation}) leave an output of {oh} x {ow}",
            "The images are too small for this pooling: use a smaller kernel, padding, or fewer "
            "downsampling layers before it.",
        )


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims,
              layer, name):  # fmt: skip
    kernel, stride, pads, dilation = _pool_args(kernel_size, stride, padding, dilation, dims, name)
    x, unbatched = _pool_input(input, dims, layer, name)
    _check_pool_size(x, kernel, stride, pads, dilation, ceil_mode, layer, name)
    params = dict(kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    y = _max_pool_op(x, ceil_mode=bool(ceil_mode), **params)
    out = _pool_output(y, dims, unbatched)
    if not return_indices:
        return out
    ctx = y._ctx
    op = _max_pool_class(x)
    if ctx is None:  # no graph was recorded (no_grad): run the op again to read its argmax
        ctx = op()
        ctx.forward(x._data, ceil_mode=bool(ceil_mode), **params)
    idx = op.indices(ctx)
    if dims == 1:
        idx = idx[:, :, 0]  # the plane is one row, so the flat index is the position
    idx = Tensor(idx[0] if unbatched else idx, dtype=np.int64)
    return out, idx


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    _layer=None,
):
    """Max over each kH x kW window: y[n, c, i, j] = max_{p,q} x[n, c, i*s + p*d, j*s + q*d]
    (``stride`` defaults to ``kernel_size``; padding counts as -inf). The gradient flows to the
    first maximum of each window in row-major order, as in PyTorch on the CPU.
    ``return_indices=True`` also returns each maximum's flat index in its (H, W) plane."""
    return _max_pool(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, _layer,
        "max_pool2d",
    )  # fmt: skip


max_pool1d = _one_dimensional(
    max_pool2d,
    _max_pool,
    "max_pool1d",
    "Max over each window of a sequence (N, C, L) or (C, L); see ``max_pool2d``.",
)


def _check_average_dtype(x: Tensor, name: str, int64: bool) -> None:
    """PyTorch averages floating-point tensors and, in avg_pool (``int64=True``), int64 ones
    (each average truncated toward zero); it refuses other dtypes, and so does deepgrad."""
    dt = x._data.dtype
    if dt.kind == "f" or (int64 and dt == np.int64):
        return
    takes = "floating-point or int64 tensors" if int64 else "floating-point tensors"
    raise NotImplementedError(
        f"{name} is not implemented for {x.dtype}: it takes {takes}, as in PyTorch. Convert the "
        "input first, e.g. x.float()."
    )


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              dims, layer, name):  # fmt: skip
    kernel, stride, pads, _ = _pool_args(kernel_size, stride, padding, 1, dims, name)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{name}: divisor_override must not be zero")
    x, unbatched = _pool_input(input, dims, layer, name)
    _check_average_dtype(x, name, int64=True)
    _check_pool_size(x, kernel, stride, pads, (1, 1), ceil_mode, layer, name)
    y = _avg_pool_op(
        x,
        kernel=kernel,
        stride=stride,
        padding=pads,
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )
    return _pool_output(y, dims, unbatched)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
    *,
    _layer=None,
) -> Tensor:
    """Mean over each kH x kW window: y[n, c, i, j] = sum_{p,q} x[n, c, i*s + p, j*s + q] / D.

    D is PyTorch's divisor: the window's size clipped to the padded input (padding counted,
    ``count_include_pad=True``) or to the input itself (False), or ``divisor_override``.
    """
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
        _layer, "avg_pool2d",
    )  # fmt: skip


avg_pool1d = _one_dimensional(
    avg_pool2d,
    _avg_pool,
    "avg_pool1d",
    "Mean over each window of a sequence (N, C, L) or (C, L); see ``avg_pool2d``.",
    fixed={"divisor_override": None},
)


def _adaptive_size(output_size, spatial: tuple, dims: int, name: str) -> tuple:
    """Output size as a tuple, None entries meaning 'keep the input's size'."""
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * dims
    sizes = tuple(output_size)
    if len(sizes) != dims:
        raise ValueError(f"{name}: output_size must be an int or a {dims}-tuple, got {sizes}")
    sizes = tuple(n if o is None else int(o) for o, n in zip(sizes, spatial))
    if any(o < 1 for o in sizes):
        raise ValueError(f"{name}: output_size must be positive, got {sizes}")
    return sizes


def _adaptive_avg(input, output_size, dims, layer, name):
    x, unbatched = _pool_input(input, dims, layer, name)
    _check_average_dtype(x, name, int64=False)
    spatial = tuple(x.shape[2:]) if dims == 2 else (x.shape[3],)
    size = _adaptive_size(output_size, spatial, dims, name)
    if dims == 1:
        size = (1,) + size
    h, w = x.shape[2:]
    if h % size[0] == 0 and w % size[1] == 0:
        # equal windows that tile the input: an ordinary average pooling (sum, then divide)
        k = (h // size[0], w // size[1])
        y = _avg_pool_op(
            x, kernel=k, stride=k, padding=(0, 0), ceil_mode=False, count_include_pad=True,
            divisor_override=None,
        )  # fmt: skip
    else:
        y = _P.AdaptiveAvgPool2d.apply(x, output_size=size)
    return _pool_output(y, dims, unbatched)


def adaptive_avg_pool2d(input: Tensor, output_size, *, _layer=None) -> Tensor:
    """Average pooling to a fixed output size (OH, OW): output row i averages input rows
    floor(i H / OH) .. ceil((i + 1) H / OH) - 1, likewise for columns. ``output_size=1`` is
    global average pooling; a None entry keeps that input size."""
    return _adaptive_avg(input, output_size, 2, _layer, "adaptive_avg_pool2d")


adaptive_avg_pool1d = _one_dimensional(
    adaptive_avg_pool2d,
    _adaptive_avg,
    "adaptive_avg_pool1d",
    "Average pooling of a sequence to a fixed length; see ``adaptive_avg_pool2d``.",
)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False, *, _layer=None):
    """Max pooling to a fixed output size, over the windows of ``adaptive_avg_pool2d``.

    Supported when the output size divides the input size (then the windows tile the input and
    this is ``max_pool2d`` with kernel = stride = input // output); other sizes raise
    NotImplementedError."""
    name = "adaptive_max_pool2d"
    x, unbatched = _pool_input(input, 2, _layer, name)
    size = _adaptive_size(output_size, tuple(x.shape[2:]), 2, name)
    h, w = x.shape[2:]
    if h % size[0] or w % size[1]:
        raise NotImplementedError(
            f"{name}: output size {size} does not divide the input size ({h}, {w}); deepgrad "
            "supports adaptive max pooling only for sizes that divide evenly (use max_pool2d, "
            "or adaptive_avg_pool2d)"
        )
    k = (h // size[0], w // size[1])
    return max_pool2d(input, k, k, 0, 1, False, return_indices, _layer=_layer)
