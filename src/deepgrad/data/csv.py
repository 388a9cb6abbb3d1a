"""``csv_dataset``: a user's own table of numbers as a ``TensorDataset``."""

from __future__ import annotations

import csv
import math
import os

import numpy as np

from deepgrad.data.dataset import TensorDataset
from deepgrad.tensor import _wrap


def _column_index(spec, names: list[str], path, what: str) -> int:
    if isinstance(spec, str):
        if spec not in names:
            raise KeyError(
                f"csv_dataset({os.fspath(path)!r}): no column named {spec!r} for the {what}; "
                f"the columns are {names}"
            )
        return names.index(spec)
    k = len(names)
    if isinstance(spec, bool) or not isinstance(spec, int) or not -k <= spec < k:
        raise KeyError(
            f"csv_dataset({os.fspath(path)!r}): {what} column {spec!r} is out of range; the "
            f"file has {k} columns {names} (use a name or an index in {-k}..{k - 1})"
        )
    return spec % k


def csv_dataset(
    path,
    label_column=-1,
    feature_columns=None,
    *,
    delimiter: str = ",",
    header: bool = True,
    classes=None,
    regression: bool | None = None,
    comment: str | None = "#",
) -> TensorDataset:
    """Read a CSV file into ``TensorDataset(X, y)``.

    ``X`` (float32, ``n x d``) holds ``feature_columns`` (names or indices; default every
    column but the label); ``y`` is the ``label_column`` (a name or an index, default the last
    column). Labels become:

    - class indices (int64, shape ``(n,)``) when they are strings, with
      ``classes[k]`` the name of label ``k`` (sorted names, or the ``classes`` list you pass so
      that a train and a test file agree);
    - class indices when they are whole numbers: kept as they are when none is negative
      (``classes = [0, 1, ..., max]``), else mapped to ``0..K-1`` through their sorted
      distinct values (so -1/+1 become 0/1, ``classes = [-1, 1]``);
    - regression targets (float32, shape ``(n, 1)``, ``classes = None``) when some are not
      whole numbers, or when ``regression=True``; ``regression=False`` makes such labels
      categories (by their text) instead.

    The data set also carries ``feature_names`` and ``label_name``. Blank lines and lines
    starting with ``comment`` are skipped. A missing column, an empty file, a short row or a
    value that is not a number raise an error naming the file, line and column.
    """
    where = f"csv_dataset({os.fspath(path)!r})"
    with open(path, newline="", encoding="utf-8-sig") as f:
        lines = [
            (i, row)
            for i, row in enumerate(csv.reader(f, delimiter=delimiter), start=1)
            if row
            and any(c.strip() for c in row)
            and not (comment and row[0].lstrip().startswith(comment))
        ]
    if not lines:
        raise ValueError(f"{where}: the file is empty (no header and no rows)")
    if header:
        names = [c.strip() for c in lines[0][1]]
        lines = lines[1:]
    else:
        names = [f"column {j}" for j in range(len(lines[0][1]))]
    if not lines:
        raise ValueError(f"{where}: the file has a header {names} but no data rows")
    for lineno, row in lines:
        if len(row) != len(names):
            raise ValueError(
                f"{where}: line {lineno} has {len(row)} fields, expected {len(names)} "
                f"({names}); check the delimiter (now {delimiter!r}) and quoting"
            )
    label = _column_index(label_column, names, path, "label")
    if feature_columns is None:
        features = [j for j in range(len(names)) if j != label]
    else:
        features = [_column_index(c, names, path, "feature") for c in feature_columns]
    if label in features:
        raise ValueError(f"{where}: the label column {names[label]!r} is also a feature column")
    if not features:
        raise ValueError(f"{where}: no feature columns left besides the label {names[label]!r}")

    x = np.empty((len(lines), len(features)), np.float32)
    for r, (lineno, row) in enumerate(lines):
        for c, j in enumerate(features):
            value = row[j].strip()
            try:
                x[r, c] = float(value)
            except ValueError:
                problem = "an empty value (missing data)" if not value else f"{value!r}"
                raise ValueError(
                    f"{where}: line {lineno}, column {names[j]!r} holds {problem}, not a number. "
                    "Features must be numeric: encode the column as numbers, or leave it out "
                    "with feature_columns=[...]"
                ) from None

    raw = [row[label].strip() for _, row in lines]
    y, found_classes = _labels(raw, classes, regression, where, names[label])
    ds = TensorDataset(_wrap(x), _wrap(y))
    ds.classes = found_classes
    ds.feature_names = [names[j] for j in features]
    ds.label_name = names[label]
    return ds


def _labels(raw: list[str], classes, regression, where: str, name: str):
    numbers = []
    for v in raw:
        try:
            numbers.append(float(v))
        except ValueError:
            break
    numeric = len(numbers) == len(raw)
    if regression:
        if not numeric:
            bad = raw[len(numbers)]
            raise ValueError(
                f"{where}: regression=True but the label column {name!r} holds {bad!r}, "
                "not a number"
            )
        return np.array(numbers, np.float32).reshape(-1, 1), None
    if classes is not None:
        index = {str(c): k for k, c in enumerate(classes)}
        unknown = sorted(set(raw) - set(index))
        if unknown:
            raise ValueError(
                f"{where}: label column {name!r} holds {unknown[:5]} which are not in "
                f"classes={list(classes)}"
            )
        return np.array([index[v] for v in raw], np.int64), list(classes)
    whole = numeric and all(math.isfinite(v) and v == int(v) for v in numbers)
    if numeric and not whole and regression is None:
        return np.array(numbers, np.float32).reshape(-1, 1), None
    if whole:
        ints = np.array(numbers).astype(np.int64)
        if ints.min() >= 0:
            return ints, list(range(int(ints.max()) + 1))
        distinct = np.unique(ints)
        return np.searchsorted(distinct, ints).astype(np.int64), distinct.tolist()
    if any(not v for v in raw):
        line = raw.index("")
        raise ValueError(f"{where}: label column {name!r} is empty in data row {line + 1}")
    distinct = sorted(set(raw))
    index = {c: k for k, c in enumerate(distinct)}
    return np.array([index[v] for v in raw], np.int64), distinct
