"""``repr`` of a tensor in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

# set by deepgrad.set_printoptions; threshold, edgeitems and linewidth are PyTorch's defaults
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}


# ---- client-programs block (i14clients): PyTorch's layout rules, from torch/_tensor_str.py ----
# tests/torch_parity/test_client_programs.py compares what programs print; NumPy's
# array2string breaks rows
# and picks the number style differently from torch, so the rules are spelled out here.


class _Formatter:
    """How torch writes each number of a tensor: the style is chosen from the nonzero finite
    values (integers: ``3.``; spread over 1000x, above 1e8 or below 1e-4: ``1.0000e-05``;
    else ``1.5000``) and every number is right-aligned to the widest."""

    def __init__(self, values: np.ndarray) -> None:
        digits = PRINT_OPTIONS["precision"]
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max((len(self._plain(v)) for v in values), default=1)
            return
        values = values.astype(np.float64)
        nonzero = values[np.isfinite(values) & (values != 0)]
        if nonzero.size == 0:
            return
        absmax, absmin = np.abs(nonzero).max(), np.abs(nonzero).min()
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        spread = absmax / absmin > 1000.0 or absmax > 1.0e8
        self.sci_mode = spread if self.int_mode else spread or absmin < 1.0e-4
        if self.sci_mode:
            self.width = max(len(f"{v:.{digits}e}") for v in nonzero)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in nonzero)
        else:
            self.width = max(len(f"{v:.{digits}f}") for v in nonzero)

    @staticmethod
    def _plain(v) -> str:
        return str(bool(v)) if isinstance(v, np.bool_) else str(v)

    def __call__(self, v) -> str:
        digits = PRINT_OPTIONS["precision"]
        if not self.floating:
            text = self._plain(v)
        elif not np.isfinite(v):
            text = "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        elif self.sci_mode:
            text = f"{float(v):.{digits}e}"
        elif self.int_mode:
            text = f"{float(v):.0f}."
        else:
            text = f"{float(v):.{digits}f}"
        return text.rjust(self.width)


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The values a summarised print shows (``edge`` at each end of every dimension)."""
    if a.ndim == 1:
        return a if len(a) <= 2 * edge else np.concatenate([a[:edge], a[-edge:]])
    n = a.shape[0]
    rows = range(n) if n <= 2 * edge else [*range(edge), *range(n - edge, n)]
    return np.concatenate([_summarized(a[i], edge) for i in rows])


def _layout(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    """torch's nested-list text; a row of numbers breaks after as many as fit in the line
    width from ``indent``, each taking its width plus ", "."""
    edge = PRINT_OPTIONS["edgeitems"]
    cut = summarize and a.shape[0] > 2 * edge
    if a.ndim == 1:
        if cut:
            items = [*map(fmt, a[:edge]), " ...", *map(fmt, a[-edge:])]
        else:
            items = list(map(fmt, a))
        per_line = max(1, (PRINT_OPTIONS["linewidth"] - indent) // (fmt.width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(a.shape[0])
    if cut:
        rows = [*range(edge), None, *range(a.shape[0] - edge, a.shape[0])]
    parts = ["..." if i is None else _layout(a[i], fmt, indent + 1, summarize) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, dtype=...`` and the like, on a new line when the last one is full."""
    last = len(text) - text.rfind("\n") + 1
    out = [text]
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTIONS["linewidth"]:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(out) + ")"


# ---- end of the client-programs block ----


def format_tensor(t) -> str:
    a = t._data
    suffix = []
    if type(a) is not np.ndarray and not isinstance(a, np.generic):  # on a GPU: print a copy
        suffix.append(f"device='{t.device}'")
        a = a.get()
    if a.dtype.kind == "f" and a.dtype != np.float32:
        suffix.append(f"dtype=deepgrad.{a.dtype.name}")
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        suffix.append(f"dtype=deepgrad.{a.dtype.name}")
    if a.size == 0:
        body = "[]"
        if a.shape != (0,):
            suffix.insert(0, f"size={tuple(a.shape)}")
    elif a.ndim == 0:
        body = _Formatter(a.reshape(1))(a.reshape(1)[0]).lstrip()
    else:
        summarize = a.size > PRINT_OPTIONS["threshold"]
        values = _summarized(a, PRINT_OPTIONS["edgeitems"]) if summarize else a.ravel()
        body = _layout(a, _Formatter(values), len("tensor("), summarize)
    if t._ctx is not None:
        suffix.append(f"grad_fn=<{t._ctx.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return _with_suffixes("tensor(" + body, suffix, len("tensor("))
