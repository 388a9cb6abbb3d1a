"""Playground input checks: every setting against its range, and CSV uploads against the rules.

The oracle is the range table of the issue (layers 0..6, neurons 1..8, lr in (0, 10], batch
1..n_train, noise 0..50, ratio 10..90, rate 0..1, names from fixed lists, integer seed) and, for
CSV parsing, NumPy's own reading of the same text.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from deepgrad import registry
from deepgrad.playground.validation import (
    DEFAULTS,
    N_POINTS,
    ValidationError,
    n_train_points,
    options,
    parse_csv,
    validate_update,
)


def test_defaults_are_tf_playground_defaults():
    c = DEFAULTS
    assert (c.dataset, c.features, c.hidden, c.activation) == (
        "circle",
        ("x1", "x2"),
        (4, 2),
        "tanh",
    )
    assert (c.lr, c.batch_size, c.train_ratio, c.noise) == (0.03, 10, 50.0, 0.0)


@pytest.mark.parametrize(
    "update",
    [
        {"hidden": []},
        {"hidden": [8] * 6},
        {"hidden": [1, 2, 3]},
        {"lr": 10},
        {"lr": 1e-6},
        {"noise": 0},
        {"noise": 50},
        {"train_ratio": 10},
        {"train_ratio": 90},
        {"reg_rate": 0},
        {"reg_rate": 1},
        {"batch_size": 1},
        {"batch_size": 250},
        {"seed": 0},
        {"seed": 2**31 - 1},
        {"n_classes": 5},
        {"features": ["sinx2", "x1"]},
        {"activation": "leaky_relu", "optimizer": "adagrad", "regularization": "l1"},
    ],
)
def test_values_in_range_are_accepted(update):
    new = validate_update(update, DEFAULTS)
    for k, v in update.items():
        got = getattr(new, k)
        if k == "features":
            assert set(got) == set(v)
        elif isinstance(v, list):
            assert list(got) == v
        else:
            assert got == v


@pytest.mark.parametrize(
    "update, field",
    [
        ({"hidden": [4] * 7}, "n_layers"),
        ({"hidden": [0]}, "neurons"),
        ({"hidden": [9]}, "neurons"),
        ({"hidden": [2.5]}, "neurons"),
        ({"hidden": "4,2"}, "hidden"),
        ({"lr": 0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": 10.0001}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"lr": "0.1"}, "lr"),
        ({"lr": True}, "lr"),
        ({"noise": -1}, "noise"),
        ({"noise": 51}, "noise"),
        ({"train_ratio": 9}, "train_ratio"),
        ({"train_ratio": 91}, "train_ratio"),
        ({"reg_rate": -0.01}, "reg_rate"),
        ({"reg_rate": 1.5}, "reg_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 251}, "batch_size"),  # 50 % of 500 points train
        ({"batch_size": 10.0}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": 6}, "n_classes"),
        ({"activation": "swish"}, "activation"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"regularization": "l3"}, "regularization"),
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset": "csv"}, "dataset"),  # no CSV uploaded
        ({"features": []}, "features"),
        ({"features": ["x3"]}, "features"),
        ({"features": ["x1", "x1"]}, "features"),
        ({"features": "x1"}, "features"),
        ({"hidden_layers": [2]}, "hidden_layers"),
    ],
)
def test_values_out_of_range_are_rejected_with_the_field(update, field):
    with pytest.raises(ValidationError) as info:
        validate_update(update, DEFAULTS)
    assert info.value.field == field
    # The message names the value and what would be accepted.
    assert field.split("_")[0] in str(info.value) or "hidden layer" in str(info.value)


def test_non_object_update_is_rejected():
    with pytest.raises(ValidationError, match="JSON object"):
        validate_update([1, 2], DEFAULTS)


def test_batch_size_bound_follows_the_training_set():
    # 30 % of 500 points = 150 training points.
    assert validate_update({"train_ratio": 30, "batch_size": 150}, DEFAULTS).batch_size == 150
    with pytest.raises(ValidationError, match="150"):
        validate_update({"train_ratio": 30, "batch_size": 151}, DEFAULTS)
    # Moving the ratio alone clamps a batch size that no longer fits instead of failing.
    big = validate_update({"batch_size": 250}, DEFAULTS)
    assert validate_update({"train_ratio": 10}, big).batch_size == n_train_points(N_POINTS, 10)
    # A CSV's row count bounds it when the data set is the upload.
    c = validate_update({"dataset": "csv"}, DEFAULTS, csv_rows=20)
    assert c.batch_size == 10 and n_train_points(20, 50) == 10
    with pytest.raises(ValidationError):
        validate_update({"batch_size": 11}, c, csv_rows=20)


def test_n_train_points_matches_rounding_and_keeps_one_test_point():
    assert n_train_points(500, 50) == 250
    assert n_train_points(500, 33) == round(500 * 0.33)
    assert n_train_points(4, 90) == 3  # round(3.6) = 4 would leave no test point
    assert n_train_points(4, 10) == 1


def test_options_describe_the_same_ranges():
    opts = options()
    assert opts["ranges"]["neurons"]["min"] == 1 and opts["ranges"]["neurons"]["max"] == 8
    assert opts["ranges"]["n_layers"]["max"] == 6
    assert opts["ranges"]["lr"]["min_inclusive"] is False
    # The page offers the registry's names, the same as the deepgrad command.
    assert opts["choices"]["activation"] == list(registry.ACTIVATIONS)
    assert opts["choices"]["optimizer"] == list(registry.OPTIMIZERS)
    assert opts["defaults"]["hidden"] == [4, 2]


# ----- CSV -----


def _csv(rows, header="x1,x2,label"):
    lines = ([header] if header else []) + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def test_csv_three_classes_match_numpy_reading():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.integers(0, 3, 30)
    y[:3] = [0, 1, 2]
    data = _csv([(a, b, c) for (a, b), c in zip(x.tolist(), y.tolist())])
    table = parse_csv(data)
    ref = np.loadtxt(io.BytesIO(data), delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table.x, ref[:, :2].astype(np.float32))
    np.testing.assert_array_equal(table.y, ref[:, 2].astype(np.int64))
    assert table.task == "classification" and table.class_names == ["0", "1", "2"]
    assert table.header == ["x1", "x2", "label"]


def test_csv_without_header_semicolons_and_string_labels():
    data = b"1;2;cat\n3;4;dog\n5;6;cat\n7;8;bird\n"
    table = parse_csv(data)
    np.testing.assert_array_equal(table.x, np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.float32))
    assert table.class_names == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(table.y, [1, 2, 1, 0])
    assert table.header == []


def test_csv_labels_with_fractions_are_regression():
    table = parse_csv(_csv([(0, 0, 0.5), (1, 0, -1.25), (0, 1, 2), (1, 1, 0)]))
    assert table.task == "regression" and table.y.dtype == np.float32
    np.testing.assert_array_equal(table.y, [0.5, -1.25, 2, 0])


def test_csv_integer_labels_are_renumbered_in_order():
    table = parse_csv(_csv([(0, 0, 7), (1, 0, -3), (0, 1, 7), (1, 1, 10)]))
    assert table.class_names == ["-3", "7", "10"]
    np.testing.assert_array_equal(table.y, [1, 0, 1, 2])


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"x1,x2,label\n1,2,0\n1,abc,1\n3,4,0\n5,6,1\n", "row 3.*'abc'.*not a number"),
        (b"1,2\n3,4\n5,6\n7,8\n", "2 column"),
        (b"1,2,0,9\n3,4,1,9\n5,6,0,9\n7,8,1,9\n", "4 column"),
        (b"1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "one class only"),
        (b"1,2,0\n3,4,1\n", "at least 4"),
        (b"1,2,0\n3,nan,1\n5,6,0\n7,8,1\n", "not finite"),
        (b"1,2,0\n3,4,\n5,6,0\n7,8,1\n", "empty label"),
        (b"\xff\xfe1,2,0\n", "UTF-8"),
    ],
)
def test_invalid_csv_is_rejected_with_a_reason(data, match):
    with pytest.raises(ValidationError, match=match):
        parse_csv(data)


def test_csv_limits_on_bytes_rows_and_classes():
    rows = [(i, i, i % 2) for i in range(50)]
    with pytest.raises(ValidationError, match="bytes"):
        parse_csv(_csv(rows), max_bytes=100)
    with pytest.raises(ValidationError, match="50 rows.*limit is 40"):
        parse_csv(_csv(rows), max_rows=40)
    many = [(i, i, i % 12) for i in range(48)]
    with pytest.raises(ValidationError, match="12 classes"):
        parse_csv(_csv(many))
    assert parse_csv(_csv(rows), max_rows=50).x.shape == (50, 2)
