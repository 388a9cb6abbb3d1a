"""torch.* functions the API census found in teaching code beyond deepgrad's core set.

Each follows PyTorch's signature; differentiable ones are built from differentiable tensor
operations or from the primitives in ``deepgrad.ops.extra_math``.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepgrad import _format
from deepgrad.layout import preserve_format
from deepgrad.ops import extra_math  # noqa: F401 - loaded with deepgrad, so tracers see its ops
from deepgrad.tensor import Tensor, _wrap


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else _wrap(np.asarray(x))


def asin(input: Tensor) -> Tensor:
    """Elementwise arcsine; d/dx = 1/sqrt(1 - x^2).

    >>> deepgrad.asin(deepgrad.tensor([0.0, 1.0]))
    tensor([0.0000, 1.5708])
    """
    return input.asin()


def clone(input: Tensor, *, memory_format=preserve_format) -> Tensor:
    """A copy of ``input`` that stays in the graph (its gradient flows back to ``input``).

    >>> deepgrad.clone(deepgrad.tensor([1., 2.]))
    tensor([1., 2.])
    """
    return input.clone(memory_format=memory_format)


def log1p(input: Tensor) -> Tensor:
    """log(1 + x), accurate for small x; d/dx = 1/(1 + x).

    >>> deepgrad.log1p(deepgrad.tensor([0.0, 1e-8])).tolist()[1] > 0
    True
    """
    return input.log1p()


def sin_(input: Tensor) -> Tensor:
    """In-place sine.

    >>> deepgrad.sin_(deepgrad.tensor([0.0]))
    tensor([0.])
    """
    return input.sin_()


def multiply(input: Tensor, other, *, out=None) -> Tensor:
    """Alias of ``mul``.

    >>> deepgrad.multiply(deepgrad.tensor([1, 2]), 3)
    tensor([3, 6])
    """
    from deepgrad.functions import mul

    return mul(input, other) if out is None else mul(input, other, out=out)


def bitwise_xor(input: Tensor, other) -> Tensor:
    """Elementwise XOR of integer or bool tensors.

    >>> deepgrad.bitwise_xor(deepgrad.tensor([1, 2]), deepgrad.tensor([3, 2]))
    tensor([2, 0])
    """
    return _wrap(np.bitwise_xor(_t(input)._data, _t(other)._data))


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:  # fmt: skip
    """|input - other| <= atol + rtol |other|, elementwise, as a bool tensor.

    >>> deepgrad.isclose(deepgrad.tensor([1., 2.]), deepgrad.tensor([1., 2.1]))
    tensor([ True, False])
    """
    return _wrap(np.isclose(_t(input)._data, _t(other)._data, rtol, atol, equal_nan))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along ``dim``: (values, indices).

    >>> deepgrad.topk(deepgrad.tensor([3., 1., 2.]), 2).values
    tensor([3., 2.])
    """
    return input.topk(k, dim, largest, sorted)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):  # fmt: skip
    """The distinct elements in ascending order; optionally the index of each input element in
    them (``return_inverse``) and how often each occurs (``return_counts``).

    >>> deepgrad.unique(deepgrad.tensor([3, 1, 3]))
    tensor([1, 3])
    """
    if dim is not None:
        raise NotImplementedError("unique: deepgrad does not implement dim=")
    values, inverse, counts = np.unique(input._data, return_inverse=True, return_counts=True)
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.reshape(input._data.shape).astype(np.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
    elements outside are ignored.

    >>> deepgrad.histc(deepgrad.tensor([1., 2., 1.]), bins=2, min=0, max=2)
    tensor([0., 3.])
    """
    x = input._data
    lo, hi = (x.min(), x.max()) if min == 0 and max == 0 else (min, max)
    counts, _ = np.histogram(x, bins=bins, range=(float(lo), float(hi)))
    return _wrap(counts.astype(x.dtype))


def range(start: float = 0, end: float | None = None, step: float = 1, *, dtype=None,
          device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Deprecated in PyTorch: like ``arange`` but including ``end``; floating by default.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     deepgrad.range(0, 2)
    tensor([0., 1., 2.])
    """
    from deepgrad.creation import arange
    from deepgrad.dtypes import get_default_dtype

    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
        "which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    out = arange(n, dtype=dtype or get_default_dtype()) * step + start
    return out.requires_grad_(requires_grad) if requires_grad else out


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None):  # fmt: skip
    """(std, mean) along ``dim``, with the unbiased (n - 1) standard deviation by default.

    >>> deepgrad.std_mean(deepgrad.tensor([1., 3.]))
    (tensor(1.4142), tensor(2.))
    """
    kwargs = {} if correction is None else {"correction": correction}
    if unbiased is False:
        kwargs = {"correction": 0}
    std = input.std(dim, keepdim=keepdim, **kwargs) if dim is not None else input.std(**kwargs)
    mean = input.mean(dim, keepdim=keepdim) if dim is not None else input.mean()
    return std, mean


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """Pairwise distances: out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p.

    >>> deepgrad.cdist(deepgrad.tensor([[0., 0.]]), deepgrad.tensor([[3., 4.], [0., 1.]]))
    tensor([[5., 1.]])
    """
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 2.0:
        return (diff * diff).sum(-1).sqrt()
    return diff.abs().pow(p).sum(-1).pow(1 / p)


def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or a batch of them); d det(A) = det(A) A^-T.

    >>> deepgrad.det(deepgrad.tensor([[2., 0.], [0., 3.]]))
    tensor(6.)
    """
    from deepgrad.ops.extra_math import Det

    return Det.apply(input)


def set_printoptions(precision: int | None = None, threshold=None, edgeitems=None,
                     linewidth=None, profile=None, sci_mode=None) -> None:  # fmt: skip
    """Digits after the point when printing tensors (``precision``; default 4). deepgrad takes
    ``precision`` and ``profile`` ('default', 'short' = 2, 'full') and ignores the rest.

    >>> deepgrad.set_printoptions(precision=2); print(deepgrad.tensor([1 / 3]))
    tensor([0.33])
    >>> deepgrad.set_printoptions(precision=4)
    """
    if profile is not None:
        _format.PRINT_OPTIONS["precision"] = 2 if profile == "short" else 4
    if precision is not None:
        _format.PRINT_OPTIONS["precision"] = precision


def _svd_factors(input: Tensor):
    from deepgrad.ops.extra_math import SVD

    if input.ndim != 2:
        raise NotImplementedError("svd: deepgrad factorises one matrix (2-D), not batches")
    m = input.shape[0]
    packed = SVD.apply(input)
    return packed[:m], packed[m], packed[m + 1 :]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """Reduced SVD (U, S, V) with input = U diag(S) V^T; differentiable (distinct singular
    values). deepgrad implements ``some=True`` (the reduced factors) only.

    >>> U, S, V = deepgrad.svd(deepgrad.tensor([[3., 0.], [0., 2.]]))
    >>> S
    tensor([3., 2.])
    """
    if not some or not compute_uv:
        raise NotImplementedError("svd: deepgrad implements some=True, compute_uv=True only")
    return _svd_factors(input)
