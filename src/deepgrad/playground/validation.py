"""Every value the browser can send, checked against its range before the session sees it.

The page is untrusted input: a message may be malformed JSON, name an unknown parameter, carry
a string where a number belongs, or a number outside its range. Each check raises
:class:`ValidationError` naming the parameter, the value received and the range allowed, so
the page can show the learner what to fix while the session keeps its last good settings.

The same tables (:data:`CHOICES`, :data:`RANGES`, :data:`DEFAULTS`) are served to the page at
``/api/options``, so the controls and the server agree on every limit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from deepgrad.registry import ACTIVATIONS, OPTIMIZERS, PLAYGROUND_DATASETS, REGRESSION_DATASETS

DATASETS = PLAYGROUND_DATASETS
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
FEATURE_LABELS = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1²",
    "x2sq": "x2²",
    "x1x2": "x1·x2",
    "sinx1": "sin(x1)",
    "sinx2": "sin(x2)",
}
REGULARIZATIONS = ("none", "l1", "l2")

CHOICES = {
    "dataset": DATASETS,
    "activation": tuple(ACTIVATIONS),
    "optimizer": tuple(OPTIMIZERS),
    "regularization": REGULARIZATIONS,
    "features": FEATURES,
}

# name -> (kind, low, high, low_inclusive); "int" values must be JSON integers.
RANGES = {
    "n_classes": ("int", 2, 5, True),
    "noise": ("number", 0, 50, True),
    "train_ratio": ("number", 10, 90, True),
    "seed": ("int", 0, 2**31 - 1, True),
    "lr": ("number", 0, 10, False),
    "batch_size": ("int", 1, None, True),  # upper bound: the number of training points
    "reg_rate": ("number", 0, 1, True),
    "n_layers": ("int", 0, 6, True),
    "neurons": ("int", 1, 8, True),
}

N_POINTS = 500  # points drawn for each generated data set (train + test), as in TF Playground

# Limits on uploads and sessions; the server takes its defaults from here.
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 10_000
MAX_CSV_CLASSES = 10
MAX_MESSAGE_CHARS = 65_536
MAX_JSON_DEPTH = 16  # a settings message nests 3 levels; more is an attack on the parser
UPLOAD_TIMEOUT = 30.0  # seconds for a whole CSV upload to arrive
MAX_LABEL = 2**31  # whole-number labels beyond this are refused (they name no real class)


class ValidationError(ValueError):
    """A value from the page outside its allowed range; ``field`` names the parameter."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PlaygroundConfig:
    """Everything that defines a playground run: data, features, network and training.

    The defaults are TF Playground's: the circle data set, features x1 and x2, two tanh
    layers of 4 and 2 neurons, SGD with learning rate 0.03 and batch size 10.
    """

    dataset: str = "circle"
    n_classes: int = 2
    noise: float = 0.0
    train_ratio: float = 50.0
    seed: int = 0
    features: tuple = ("x1", "x2")
    hidden: tuple = (4, 2)
    activation: str = "tanh"
    optimizer: str = "sgd"
    lr: float = 0.03
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["features"] = list(self.features)
        d["hidden"] = list(self.hidden)
        return d

    @property
    def task(self) -> str:
        return "regression" if self.dataset in REGRESSION_DATASETS else "classification"


DEFAULTS = PlaygroundConfig()

# Which changes need what: new data, a freshly initialised model, a new optimiser, or nothing
# beyond the next step (the learning rate, batch size and penalty are read at every step).
DATA_FIELDS = frozenset({"dataset", "n_classes", "noise", "train_ratio", "seed"})
MODEL_FIELDS = frozenset({"features", "hidden", "activation"})
OPTIMIZER_FIELDS = frozenset({"optimizer"})


def n_train_points(n_total: int, train_ratio: float) -> int:
    """How many of ``n_total`` points go to training: round(n * ratio / 100), at least 1 each."""
    return min(max(int(round(n_total * train_ratio / 100.0)), 1), n_total - 1)


def options() -> dict:
    """The parameter tables as JSON, for the page to build its controls from."""
    ranges = {}
    for name, (kind, low, high, low_inclusive) in RANGES.items():
        ranges[name] = {"kind": kind, "min": low, "max": high, "min_inclusive": low_inclusive}
    return {
        "choices": {k: list(v) for k, v in CHOICES.items()},
        "regression_datasets": list(REGRESSION_DATASETS),
        "feature_labels": FEATURE_LABELS,
        "ranges": ranges,
        "defaults": DEFAULTS.to_json(),
        "n_points": N_POINTS,
        "limits": {
            "csv_bytes": MAX_CSV_BYTES,
            "csv_rows": MAX_CSV_ROWS,
            "csv_classes": MAX_CSV_CLASSES,
            "message_chars": MAX_MESSAGE_CHARS,
        },
    }


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (brackets in strings ignored),
    found without parsing, so a hostile message cannot exhaust the parser's recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _check_range(name: str, value, high_override=None, label: str | None = None):
    kind, low, high, low_inclusive = RANGES[name]
    if high_override is not None:
        high = high_override
    label = label or name
    span = f"{'[' if low_inclusive else '('}{low}, {high}]"
    if kind == "int" and not _is_int(value):
        raise ValidationError(
            f"{label} must be an integer in {span}, got {value!r} ({type(value).__name__})", name
        )
    if kind == "number" and not _is_number(value):
        raise ValidationError(f"{label} must be a finite number in {span}, got {value!r}", name)
    too_low = value < low if low_inclusive else value <= low
    if too_low or (high is not None and value > high):
        raise ValidationError(f"{label} = {value!r} is out of range; allowed: {span}", name)
    return int(value) if kind == "int" else float(value)


def _check_choice(name: str, value, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}; got {value!r}", name)
    return value


def _check_features(value) -> tuple:
    if not isinstance(value, list) or not value:
        raise ValidationError(
            f"features must be a non-empty list drawn from {', '.join(FEATURES)}; got {value!r}",
            "features",
        )
    for v in value:
        _check_choice("features", v, FEATURES)
    if len(set(value)) != len(value):
        raise ValidationError(f"features lists a feature twice: {value!r}", "features")
    # A fixed order, so the same set always builds the same first layer.
    return tuple(f for f in FEATURES if f in value)


def _check_hidden(value) -> tuple:
    if not isinstance(value, list):
        raise ValidationError(
            f"hidden must be a list of layer sizes, e.g. [4, 2]; got {value!r}", "hidden"
        )
    _check_range("n_layers", len(value), label="the number of hidden layers")
    return tuple(
        _check_range("neurons", v, label=f"hidden layer {i + 1}'s size")
        for i, v in enumerate(value)
    )


_FIELDS = tuple(f.name for f in dataclasses.fields(PlaygroundConfig))


def validate_update(
    update, current: PlaygroundConfig = DEFAULTS, csv_rows: int | None = None
) -> PlaygroundConfig:
    """Apply a partial settings update from the page to ``current`` and check every value.

    ``csv_rows`` is the size of the uploaded CSV (None when none was uploaded); it bounds the
    batch size when the data set is ``csv``. An update that leaves the batch size out clamps
    it to the new number of training points, so moving the train/test slider never fails.
    """
    if not isinstance(update, dict):
        raise ValidationError(f"config must be a JSON object, got {type(update).__name__}")
    unknown = sorted(set(update) - set(_FIELDS))
    if unknown:
        raise ValidationError(
            f"unknown parameter {unknown[0]!r}; known parameters: {', '.join(_FIELDS)}",
            unknown[0],
        )
    new = {}
    for name, value in update.items():
        if name in ("dataset", "activation", "optimizer", "regularization"):
            new[name] = _check_choice(name, value, CHOICES[name])
        elif name == "features":
            new[name] = _check_features(value)
        elif name == "hidden":
            new[name] = _check_hidden(value)
        elif name == "batch_size":
            continue  # checked below, once the number of training points is known
        else:
            new[name] = _check_range(name, value)
    merged = dataclasses.replace(current, **new)
    if merged.dataset == "csv" and csv_rows is None:
        raise ValidationError("dataset 'csv' needs a CSV file: upload one first", "dataset")
    n_total = csv_rows if merged.dataset == "csv" else N_POINTS
    n_train = n_train_points(n_total, merged.train_ratio)
    if "batch_size" in update:
        batch = _check_range("batch_size", update["batch_size"], high_override=n_train)
    else:
        batch = min(merged.batch_size, n_train)
    return dataclasses.replace(merged, batch_size=batch)


@dataclass
class CsvTable:
    """A validated CSV upload: points, labels and what the labels mean."""

    x: np.ndarray  # float32 (n, 2)
    y: np.ndarray  # int64 class indices, or float32 targets for regression
    task: str
    class_names: list = field(default_factory=list)
    header: list = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def _parse_float(text: str, row: int, col: int, header) -> float:
    try:
        v = float(text)
    except ValueError:
        name = header[col] if header else f"column {col + 1}"
        raise ValidationError(
            f"CSV row {row}: {name} is {text.strip()!r}, not a number; the first two columns "
            "must be numeric features",
            "csv",
        ) from None
    if not math.isfinite(v):
        raise ValidationError(f"CSV row {row}: value {text.strip()!r} is not finite", "csv")
    return v


def parse_csv(
    data: bytes,
    max_bytes: int = MAX_CSV_BYTES,
    max_rows: int = MAX_CSV_ROWS,
    max_classes: int = MAX_CSV_CLASSES,
) -> CsvTable:
    """Parse an uploaded CSV of ``x1, x2, label`` rows into a :class:`CsvTable`.

    Rules: UTF-8 text, comma-, semicolon- or tab-separated, exactly three columns, an optional
    header row (a first row whose feature cells are not numbers). Labels that are all integers
    or non-numeric strings are classes (2 to ``max_classes``); numeric labels with a fractional
    part make a regression target.
    """
    if len(data) > max_bytes:
        raise ValidationError(
            f"CSV is {len(data):,} bytes; the limit is {max_bytes:,} bytes", "csv"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationError(
            f"CSV is not UTF-8 text ({e.reason} at byte {e.start})", "csv"
        ) from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValidationError("CSV is empty; expected rows of x1, x2, label", "csv")
    first = lines[0]
    sep = "," if "," in first else ";" if ";" in first else "\t" if "\t" in first else ","
    rows = [ln.split(sep) for ln in lines]
    header: list = []
    try:
        float(rows[0][0])
        float(rows[0][1] if len(rows[0]) > 1 else "x")
    except ValueError:
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    for i, r in enumerate(rows):
        if len(r) != 3:
            line_no = i + 1 + bool(header)
            raise ValidationError(
                f"CSV row {line_no} has {len(r)} column(s); expected 3: x1, x2, label", "csv"
            )
    if len(rows) > max_rows:
        raise ValidationError(f"CSV has {len(rows):,} rows; the limit is {max_rows:,}", "csv")
    if len(rows) < 4:
        raise ValidationError(
            f"CSV has {len(rows)} data row(s); at least 4 are needed to split train and test",
            "csv",
        )
    offset = 1 + bool(header)
    x = np.array(
        [
            [_parse_float(r[0], i + offset, 0, header), _parse_float(r[1], i + offset, 1, header)]
            for i, r in enumerate(rows)
        ],
        dtype=np.float32,
    )
    labels = [r[2].strip() for r in rows]
    if any(not lab for lab in labels):
        row = labels.index("") + offset
        raise ValidationError(f"CSV row {row} has an empty label", "csv")
    try:
        values = np.array([float(lab) for lab in labels])
    except ValueError:
        values = None
    if values is not None and not np.all(np.isfinite(values)):
        raise ValidationError("CSV labels must be finite numbers or class names", "csv")
    if values is not None and np.any(values != np.round(values)):
        return CsvTable(x=x, y=values.astype(np.float32), task="regression", header=header)
    if values is not None:
        if np.abs(values).max() >= MAX_LABEL:
            row = int(np.argmax(np.abs(values) >= MAX_LABEL)) + offset
            raise ValidationError(
                f"CSV row {row}: label {labels[row - offset]!r} is too large for a class "
                f"number (the limit is {MAX_LABEL:,}); use class names or small whole numbers",
                "csv",
            )
        ints = values.astype(np.int64)
        keys = sorted(set(ints.tolist()))
        names = [str(k) for k in keys]
        y = np.searchsorted(np.array(keys, dtype=np.int64), ints).astype(np.int64)
    else:
        names = sorted(set(labels))
        index = {k: i for i, k in enumerate(names)}
        y = np.array([index[lab] for lab in labels], dtype=np.int64)
    if len(names) < 2:
        raise ValidationError(
            f"CSV labels hold one class only ({names[0]!r}); a classifier needs at least 2",
            "csv",
        )
    if len(names) > max_classes:
        raise ValidationError(
            f"CSV labels hold {len(names)} classes; the playground draws up to {max_classes}. "
            "(Labels with a fractional part are treated as a regression target.)",
            "csv",
        )
    return CsvTable(x=x, y=y, task="classification", class_names=names, header=header)
