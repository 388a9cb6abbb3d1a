"""``csv_dataset``: a user's own table of numbers as a ``TensorDataset``.

Reading is bounded and never guesses silently: the delimiter is detected (``,`` ``;`` tab
``|``), a header row is detected from the cells' types (a first row of numbers is data), a
field longer than ``max_field_bytes`` or a label column with more than ``max_classes``
distinct values is refused, NaN and infinite features are refused unless
``allow_nonfinite=True``, and every bad cell is reported with its line and column.
"""

from __future__ import annotations

import csv
import io
import math
import os

import numpy as np

from deepgrad.data.dataset import TensorDataset
from deepgrad.tensor import _wrap

DELIMITERS = ",;\t|"
MAX_FIELD_BYTES = 1 << 20  # 1 MiB in one cell: more is not a table of numbers
MAX_CLASSES = 1000  # distinct labels; more means the label column is probably a feature


class CSVError(ValueError):
    """A CSV file that cannot be read as a table (the message names file, line and column)."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv_rows(
    path,
    delimiter: str | None = None,
    comment: str | None = "#",
    max_field_bytes: int = MAX_FIELD_BYTES,
    where: str | None = None,
) -> tuple[list[tuple[int, list[str]]], str]:
    """``([(line number, cells), ...], delimiter)`` of the non-blank, non-comment lines.

    ``delimiter=None`` detects it among ``, ; tab |``: the one that splits the first lines
    into the same number (more than one) of fields. Bytes that are not UTF-8 and fields over
    ``max_field_bytes`` raise :class:`CSVError` with the line.
    """
    where = where or f"csv file {os.fspath(path)!r}"
    raw = open(path, "rb").read()  # noqa: SIM115 - read in one go, closed by refcount
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise CSVError(
            f"{where}: line {line} holds bytes that are not UTF-8 text ({e.reason} at byte "
            f"{e.start}); save the file as UTF-8 (a spreadsheet's 'CSV UTF-8' export)"
        ) from None
    if delimiter is None:
        delimiter = _detect_delimiter(text, comment)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max_field_bytes)
    lines = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                if not (comment and row[0].lstrip().startswith(comment)):
                    lines.append((reader.line_num, row))
    except csv.Error as e:
        raise CSVError(
            f"{where}: line {reader.line_num}: {e}; a field may hold at most "
            f"{max_field_bytes:,} bytes, and quotes must be balanced"
        ) from None
    finally:
        csv.field_size_limit(old_limit)
    return lines, delimiter


def _detect_delimiter(text: str, comment: str | None) -> str:
    sample = [
        ln
        for ln in text.splitlines()[:200]
        if ln.strip() and not (comment and ln.lstrip().startswith(comment))
    ][:20]
    best, best_fields = ",", 1
    for d in DELIMITERS:
        try:
            counts = {len(r) for r in csv.reader(sample, delimiter=d)}
        except csv.Error:
            continue
        if len(counts) == 1 and (n := counts.pop()) > best_fields:
            best, best_fields = d, n
    return best


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row is a header: it has a non-number in a column that holds numbers
    in the next rows, or it has no number at all while the next rows have some."""
    first, rest = rows[0], rows[1:21]
    if all(_is_number(c) for c in first):
        return False
    if not rest:
        return True
    for j, cell in enumerate(first):
        column = [r[j] for r in rest if j < len(r)]
        if not _is_number(cell) and column and all(_is_number(c) for c in column):
            return True
    return not any(_is_number(c) for c in first) and any(_is_number(c) for r in rest for c in r)


def _column_index(spec, names: list[str], where: str, what: str, flag: str) -> int:
    if isinstance(spec, str):
        if spec not in names:
            raise KeyError(
                f"{where}: no column named {spec!r} for the {what} ({flag}); "
                f"the columns are {names}"
            )
        return names.index(spec)
    k = len(names)
    if isinstance(spec, bool) or not isinstance(spec, int) or not -k <= spec < k:
        raise KeyError(
            f"{where}: {what} column {spec!r} ({flag}) is out of range; the "
            f"file has {k} columns {names} (use a name or an index in {-k}..{k - 1})"
        )
    return spec % k


def csv_dataset(
    path,
    label_column=-1,
    feature_columns=None,
    *,
    delimiter: str | None = None,
    header: bool | None = None,
    classes=None,
    regression: bool | None = None,
    comment: str | None = "#",
    allow_nonfinite: bool = False,
    max_classes: int = MAX_CLASSES,
    max_field_bytes: int = MAX_FIELD_BYTES,
    arg_names: dict[str, str] | None = None,
) -> TensorDataset:
    """Read a CSV file into ``TensorDataset(X, y)``.

    ``X`` (float32, ``n x d``) holds ``feature_columns`` (names or indices; default every
    column but the label); ``y`` is the ``label_column`` (a name or an index, default the last
    column). Labels become:

    - class indices (int64, shape ``(n,)``) when they are strings, with
      ``classes[k]`` the name of label ``k`` (sorted names, or the ``classes`` list you pass so
      that a train and a test file agree);
    - class indices when they are whole numbers, mapped to ``0..K-1`` through the sorted
      distinct values present (so -1/+1 become 0/1 with ``classes = [-1, 1]``, and 1/2
      become 0/1 with ``classes = [1, 2]``: no empty class 0);
    - regression targets (float32, shape ``(n, 1)``, ``classes = None``) when some are not
      whole numbers, or when ``regression=True``; ``regression=False`` makes such labels
      categories (by their text) instead.

    ``delimiter=None`` detects it; ``header=None`` detects whether the first row is a header
    (see :func:`detect_header`). More than ``max_classes`` distinct labels are refused (the
    column is probably a feature), and so are NaN or infinite features unless
    ``allow_nonfinite``. ``arg_names`` maps these argument names to the names errors should
    use (the command line passes its flags). The data set also carries ``feature_names`` and
    ``label_name``. Blank lines and lines starting with ``comment`` are skipped. A missing
    column, an empty file, a short row or a value that is not a number raise an error naming
    the file, line and column.

    Deviation from a plain reader, on purpose: nothing is guessed silently (see above).
    """
    arg = (arg_names or {}).get
    where = f"{arg('path', 'csv_dataset')}({os.fspath(path)!r})" if not arg_names else (
        f"{arg('path')}{os.fspath(path)}"
    )  # fmt: skip
    lines, delimiter = read_csv_rows(path, delimiter, comment, max_field_bytes, where)
    if not lines:
        raise CSVError(f"{where}: the file is empty (no header and no rows)")
    if header is None:
        header = detect_header([row for _, row in lines])
    if header:
        names = [c.strip() for c in lines[0][1]]
        lines = lines[1:]
    else:
        names = [f"column {j}" for j in range(len(lines[0][1]))]
    if not lines:
        raise CSVError(f"{where}: the file has a header {names} but no data rows")
    for lineno, row in lines:
        if len(row) != len(names):
            raise CSVError(
                f"{where}: line {lineno} has {len(row)} fields, expected {len(names)} "
                f"({names}); check the delimiter (now {delimiter!r}) and quoting"
            )
    label = _column_index(label_column, names, where, "label", arg("label_column", "label_column"))
    if feature_columns is None:
        features = [j for j in range(len(names)) if j != label]
    else:
        features = [
            _column_index(c, names, where, "feature", "feature_columns") for c in feature_columns
        ]
    if label in features:
        raise CSVError(f"{where}: the label column {names[label]!r} is also a feature column")
    if not features:
        raise CSVError(f"{where}: no feature columns left besides the label {names[label]!r}")

    x = np.empty((len(lines), len(features)), np.float32)
    for r, (lineno, row) in enumerate(lines):
        for c, j in enumerate(features):
            value = row[j].strip()
            try:
                x[r, c] = float(value)
            except ValueError:
                problem = "an empty value (missing data)" if not value else f"{value!r}"
                raise CSVError(
                    f"{where}: line {lineno}, column {names[j]!r} holds {problem}, not a number. "
                    "Features must be numeric: encode the column as numbers, or "
                    + (
                        f"make it the label with {arg('label_column')}"
                        if arg_names
                        else "leave it out with feature_columns=[...]"
                    )
                ) from None
            if not allow_nonfinite and not math.isfinite(x[r, c]):
                raise CSVError(
                    f"{where}: line {lineno}, column {names[j]!r} holds {value!r}, which is "
                    f"not a finite number. Fill in the missing values, or pass "
                    f"{arg('allow_nonfinite', 'allow_nonfinite=True')} to keep them"
                )

    raw = [row[label].strip() for _, row in lines]
    if classes is None and not regression:
        distinct = set(raw)
        numeric = all(_is_number(v) for v in distinct)
        whole = numeric and all(
            math.isfinite(float(v)) and float(v) == int(float(v)) for v in distinct
        )
        if len(distinct) > max_classes and (whole or not numeric or regression is False):
            raise CSVError(
                f"{where}: the label column {names[label]!r} holds {len(distinct):,} distinct "
                f"values, more than {arg('max_classes', 'max_classes')}={max_classes}; it looks "
                f"like a feature, not a class. {_suggest(names, lines, label, arg_names)}"
            )
    y, found_classes = _labels(raw, classes, regression, where, names[label])
    ds = TensorDataset(_wrap(x), _wrap(y))
    ds.classes = found_classes
    ds.feature_names = [names[j] for j in features]
    ds.label_name = names[label]
    return ds


def _suggest(names, lines, label: int, arg_names) -> str:
    """Which columns could be the label: those with few distinct values."""
    flag = (arg_names or {}).get("label_column", "label_column=")
    few = []
    for j, name in enumerate(names):
        if j != label:
            k = len({row[j].strip() for _, row in lines})
            if k <= 20:
                few.append(f"{name!r} ({k} values)")
    if few:
        return f"Columns with few distinct values: {', '.join(few[:5])}; choose one with {flag}"
    return f"Choose the label column with {flag}"


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
            raise CSVError(
                f"{where}: regression=True but the label column {name!r} holds {bad!r}, "
                "not a number"
            )
        return np.array(numbers, np.float32).reshape(-1, 1), None
    if classes is not None:
        index = {str(c): k for k, c in enumerate(classes)}
        unknown = sorted(set(raw) - set(index))
        if unknown:
            raise CSVError(
                f"{where}: label column {name!r} holds {unknown[:5]} which are not in "
                f"classes={list(classes)}"
            )
        return np.array([index[v] for v in raw], np.int64), list(classes)
    whole = numeric and all(math.isfinite(v) and v == int(v) for v in numbers)
    if numeric and not whole and regression is None:
        return np.array(numbers, np.float32).reshape(-1, 1), None
    if whole:
        # Through the values present: {1, 2} are two classes, not three with an empty 0, and
        # 0 and 1e9 are two classes, not a billion. (Values beyond int64 stay exact as text.)
        distinct = sorted({int(v) for v in numbers})
        index = {v: k for k, v in enumerate(distinct)}
        return np.array([index[int(v)] for v in numbers], np.int64), distinct
    if any(not v for v in raw):
        line = raw.index("")
        raise CSVError(f"{where}: label column {name!r} is empty in data row {line + 1}")
    distinct = sorted(set(raw))
    index = {c: k for k, c in enumerate(distinct)}
    return np.array([index[v] for v in raw], np.int64), distinct


def read_samples(
    path,
    n_features: int,
    feature_names=(),
    label_column: str | None = None,
    pixels: bool = False,
) -> np.ndarray:
    """The samples of a CSV file, to be classified by a trained model, as an
    ``N x n_features`` float32 array.

    The file needs a header when ``feature_names`` are given: its columns are matched to them
    by name (any order); a column named like the training label (``label_column``, or
    ``label``) is ignored; any other extra or missing column is refused. Without feature names
    (image models) the rows hold ``n_features`` values, one per pixel, besides an optional
    ``label`` column. Every cell must be a finite number. With ``pixels``, values above 1 are
    taken as 0..255 pixel values (as in the Kaggle CSV files) and divided by 255.
    """
    lines, _ = read_csv_rows(path, where=str(path))
    if not lines:
        raise CSVError(f"{path} is empty; it needs a header row and one row per sample")
    names = list(feature_names)
    rows = [r for _, r in lines]
    has_header = detect_header(rows)
    if not has_header and names:
        raise CSVError(
            f"{path} has no header row; add one naming the columns {names} (the features the "
            "model was trained on), so that no column is matched by position"
        )
    header = [c.strip() for c in rows[0]] if has_header else []
    body = lines[1:] if has_header else lines
    if not body:
        raise CSVError(f"{path} has a header {header} but no data rows")
    cols = _sample_columns(path, header, len(rows[0]), names, label_column, n_features)
    x = np.empty((len(body), len(cols)), np.float32)
    for r, (lineno, row) in enumerate(body):
        if len(row) != len(rows[0]):
            raise CSVError(
                f"{path}: line {lineno} has {len(row)} fields, the header {len(rows[0])}"
            )
        for c, j in enumerate(cols):
            cell = row[j].strip()
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                name = header[j] if header else f"column {j + 1}"
                raise CSVError(
                    f"{path}: line {lineno}, column {name!r} holds {cell!r}, not a finite "
                    "number; fill in every feature of every row"
                )
            x[r, c] = value
    if pixels and x.max(initial=0) > 1.0:
        x /= 255.0
    return x


def _sample_columns(path, header, width: int, names, label_column, n_features: int) -> list[int]:
    """Which columns of the file hold the features, in the order the model wants them."""
    if names:
        ignored = {str(label_column or "label"), "label"}
        missing = [n for n in names if n not in header]
        extra = [h for h in header if h not in names and h not in ignored]
        if missing or extra or len(set(header)) != len(header):
            raise CSVError(
                f"{path}: the columns {header} do not match the features the model was "
                f"trained on, {names}"
                + (f"; missing {missing}" if missing else "")
                + (f"; not used in training {extra}" if extra else "")
                + ". Rename or remove columns so that each training feature appears once"
            )
        return [header.index(n) for n in names]
    skip = [j for j, h in enumerate(header) if h.lower() == "label"]
    cols = [j for j in range(width) if j not in skip]
    if len(cols) != n_features:
        raise CSVError(
            f"{path}: rows have {len(cols)} values, but the model needs {n_features} (one per "
            "pixel, besides an optional 'label' column)"
        )
    return cols
