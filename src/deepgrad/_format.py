"""``repr`` of a tensor in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absmax, absmin = np.abs(finite).max(), np.abs(finite).min()
    if np.all(finite == np.round(finite)) and absmax < 1e8:
        fmt = "{:.0f}."
    elif absmax >= 1e8 or (absmin > 0 and (absmin < 1e-4 or absmax / absmin > 1000)):
        fmt = "{:.4e}"
    else:
        fmt = "{:.4f}"
    return lambda v: _special(v) or fmt.format(v)


def _special(v) -> str:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return ""


def format_tensor(t) -> str:
    a = t._data
    suffix = []
    if type(a) is not np.ndarray and not isinstance(a, np.generic):  # on a GPU: print a copy
        suffix.append(f"device='{t.device}'")
        a = a.get()
    if a.dtype.kind == "f":
        if a.dtype != np.float32:
            suffix.append(f"dtype=deepgrad.{a.dtype.name}")
        fmt = _float_formatter(a.astype(np.float64).ravel()) if a.size else str
    elif a.dtype == np.bool_:
        fmt = str
    else:
        if a.dtype != np.int64:
            suffix.append(f"dtype=deepgrad.{a.dtype.name}")
        fmt = str
    if a.size == 0:
        body = "[]"
        if a.shape != (0,):
            suffix.insert(0, f"size={tuple(a.shape)}")
    else:
        sample = a.ravel()[: min(a.size, 10_000)]
        if a.dtype.kind == "f":  # like torch, nan and inf don't widen the columns
            sample = sample[np.isfinite(sample)]
        width = max((len(fmt(v)) for v in sample), default=0)
        body = np.array2string(
            a,
            separator=", ",
            prefix="tensor(",
            threshold=1000,
            edgeitems=3,
            max_line_width=80,
            formatter={"all": lambda v: fmt(v).rjust(width)},
        )
    if t._ctx is not None:
        suffix.append(f"grad_fn=<{t._ctx.op_name()}Backward>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + ", ".join([body, *suffix]) + ")"
