"""Iris (shipped), csv_dataset and the preprocessing helpers."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from deepgrad.data import (
    DataLoader,
    Iris,
    TensorDataset,
    csv_dataset,
    kfold_split,
    load_iris,
    standardize,
    train_test_split,
)


# ------------------------------------------------------------------ Iris
def test_iris_matches_the_literature():
    x, y, features, classes = load_iris()
    assert tuple(x.shape) == (150, 4) and x.dtype == deepgrad.float32
    assert y.dtype == deepgrad.int64
    assert features == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert classes == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(np.bincount(y.numpy()), [50, 50, 50])
    # Fisher (1936) as summarised in the UCI/scikit-learn description: means and ranges in cm
    mean = x.numpy().astype(np.float64).mean(0)
    np.testing.assert_allclose(mean, [5.843, 3.057, 3.758, 1.199], atol=5e-4)
    np.testing.assert_allclose(x.numpy().min(0), [4.3, 2.0, 1.0, 0.1], atol=1e-6)
    np.testing.assert_allclose(x.numpy().max(0), [7.9, 4.4, 6.9, 2.5], atol=1e-6)
    # the first flower of Fisher's table, and setosa is the first 50 rows
    np.testing.assert_allclose(x.numpy()[0], [5.1, 3.5, 1.4, 0.2])
    assert (y.numpy()[:50] == 0).all() and (y.numpy()[100:] == 2).all()
    # setosa is linearly separable by petal length (< 2 cm), a classic property of the data
    petal = x.numpy()[:, 2]
    assert petal[y.numpy() == 0].max() < 2 < petal[y.numpy() != 0].min()


def test_iris_dataset():
    ds = Iris()
    assert len(ds) == 150 and ds.classes[2] == "virginica" and len(ds.feature_names) == 4
    xb, yb = next(iter(DataLoader(ds, batch_size=150)))
    x, y, _, _ = load_iris()
    np.testing.assert_array_equal(xb.numpy(), x.numpy())
    np.testing.assert_array_equal(yb.numpy(), y.numpy())


# ------------------------------------------------------------------ csv_dataset
def _write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_string_labels(tmp_path):
    p = _write(
        tmp_path,
        "# a comment\nheight,weight,kind\n1.5,60,cat\n\n2.0,80.5,dog\n0.5,3,cat\n1,2,bird\n",
    )
    ds = csv_dataset(p, "kind")
    assert isinstance(ds, TensorDataset) and len(ds) == 4
    x, y = ds.tensors
    assert x.dtype == deepgrad.float32 and y.dtype == deepgrad.int64
    np.testing.assert_array_equal(
        x.numpy(), np.array([[1.5, 60], [2, 80.5], [0.5, 3], [1, 2]], np.float32)
    )
    assert ds.classes == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(y.numpy(), [1, 2, 1, 0])
    assert ds.feature_names == ["height", "weight"] and ds.label_name == "kind"
    # a fixed class list keeps train and test files consistent
    ds2 = csv_dataset(p, "kind", classes=["dog", "cat", "bird"])
    np.testing.assert_array_equal(ds2.tensors[1].numpy(), [1, 0, 1, 2])
    with pytest.raises(ValueError, match=r"\['bird'\] which are not in classes"):
        csv_dataset(p, "kind", classes=["dog", "cat"])


def test_csv_label_by_index_and_feature_selection(tmp_path):
    p = _write(tmp_path, "a,b,c,label\n1,2,3,0\n4,5,6,2\n")
    ds = csv_dataset(p)  # default: the last column
    # Labels 0 and 2 are two classes (the values present), not three with an empty class 1.
    np.testing.assert_array_equal(ds.tensors[1].numpy(), [0, 1])
    assert ds.classes == [0, 2]
    ds = csv_dataset(p, 0, feature_columns=["c", 1])
    np.testing.assert_array_equal(ds.tensors[0].numpy(), [[3, 2], [6, 5]])
    np.testing.assert_array_equal(ds.tensors[1].numpy(), [0, 1])
    assert ds.classes == [1, 4]


def test_csv_negative_integer_labels_are_mapped(tmp_path):
    p = _write(tmp_path, "x,y\n0.1,-1\n0.2,1\n0.3,1\n")
    ds = csv_dataset(p, "y")
    assert ds.classes == [-1, 1]
    np.testing.assert_array_equal(ds.tensors[1].numpy(), [0, 1, 1])


def test_csv_float_labels_are_regression_targets(tmp_path):
    p = _write(tmp_path, "x1;x2;t\n1;2;0.5\n3;4;1.25\n5;6;2\n")
    ds = csv_dataset(p, "t", delimiter=";")
    t = ds.tensors[1]
    assert t.dtype == deepgrad.float32 and tuple(t.shape) == (3, 1) and ds.classes is None
    np.testing.assert_array_equal(t.numpy()[:, 0], [0.5, 1.25, 2])
    forced = csv_dataset(_write(tmp_path, "x,t\n1,0\n2,1\n", "int.csv"), "t", regression=True)
    assert forced.tensors[1].dtype == deepgrad.float32
    cats = csv_dataset(p, "t", delimiter=";", regression=False)
    assert cats.classes == ["0.5", "1.25", "2"]


def test_csv_without_header(tmp_path):
    p = _write(tmp_path, "1,2,a\n3,4,b\n")
    ds = csv_dataset(p, 2, header=False)
    assert ds.classes == ["a", "b"] and ds.feature_names == ["column 0", "column 1"]


def test_csv_errors_are_clear(tmp_path):
    p = _write(tmp_path, "a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(KeyError, match=r"no column named 'lbl'.*\['a', 'b', 'label'\]"):
        csv_dataset(p, "lbl")
    with pytest.raises(KeyError, match="out of range"):
        csv_dataset(p, 5)
    with pytest.raises(ValueError, match=r"line 3, column 'b' holds 'oops', not a number"):
        csv_dataset(p, "label")
    with pytest.raises(ValueError, match="empty value"):
        csv_dataset(_write(tmp_path, "a,label\n,1\n", "missing.csv"), "label")
    with pytest.raises(ValueError, match="the file is empty"):
        csv_dataset(_write(tmp_path, "\n\n", "empty.csv"), 0)
    with pytest.raises(ValueError, match="no data rows"):
        csv_dataset(_write(tmp_path, "a,b\n", "header.csv"), "b")
    with pytest.raises(ValueError, match="line 3 has 2 fields, expected 3"):
        csv_dataset(_write(tmp_path, "a,b,c\n1,2,3\n4,5\n", "short.csv"), "c")
    with pytest.raises(ValueError, match="also a feature column"):
        csv_dataset(_write(tmp_path, "a,b\n1,2\n", "dup.csv"), "b", feature_columns=["a", "b"])
    with pytest.raises(FileNotFoundError):
        csv_dataset(tmp_path / "nope.csv")


# ------------------------------------------------------------------ preprocessing
def test_standardize_matches_numpy():
    g = np.random.default_rng(0)
    x = (g.standard_normal((50, 3)) * [1, 10, 0.1] + [5, -3, 0]).astype(np.float32)
    x[:, 2] = 7.0  # a constant column
    xs, mean, std = standardize(deepgrad.tensor(x))
    assert xs.dtype == deepgrad.float32 and mean.dtype == deepgrad.float32
    ref_std = x.std(0)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), np.where(ref_std == 0, 1, ref_std), rtol=1e-6)
    expected = (x[:, :2] - x[:, :2].mean(0)) / ref_std[:2]
    np.testing.assert_allclose(xs.numpy()[:, :2], expected, atol=1e-5)
    np.testing.assert_array_equal(xs.numpy()[:, 2], 0)
    np.testing.assert_allclose(xs.numpy()[:, :2].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(xs.numpy()[:, :2].std(0), 1, atol=1e-5)
    # the training statistics applied to new data; arrays in give arrays out
    new = x[:5] + 1
    ys, m2, s2 = standardize(new, mean, std)
    assert isinstance(ys, np.ndarray) and isinstance(m2, np.ndarray)
    np.testing.assert_allclose(ys, (new - mean.numpy()) / std.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="shape of one row"):
        standardize(x, mean=np.zeros(2), std=np.ones(2))


def test_standardize_integer_input_becomes_float32():
    xs, _, _ = standardize(np.array([[1, 2], [3, 4]]))
    assert xs.dtype == np.float32
    np.testing.assert_allclose(xs, [[-1, -1], [1, 1]])


def test_train_test_split_sizes_disjoint_and_aligned():
    x = deepgrad.arange(50).reshape(25, 2)
    y = np.arange(25) * 2
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, seed=0)
    assert isinstance(x_tr, deepgrad.Tensor) and isinstance(y_tr, np.ndarray)
    assert len(x_te) == 5 and len(x_tr) == 20  # sklearn: ceil(0.2 * 25) test rows
    rows = np.concatenate([x_tr.numpy()[:, 0], x_te.numpy()[:, 0]]) // 2
    np.testing.assert_array_equal(np.sort(rows), np.arange(25))
    np.testing.assert_array_equal(x_tr.numpy()[:, 0], y_tr)  # rows stay aligned
    assert len(train_test_split(x, test_size=0.21)[1]) == 6  # ceil(5.25)
    assert len(train_test_split(x, test_size=3)[1]) == 3


def test_train_test_split_reproducible_and_unshuffled():
    x = np.arange(30)
    a = train_test_split(x, seed=1)
    b = train_test_split(x, seed=1)
    c = train_test_split(x, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    deepgrad.manual_seed(4)
    d = train_test_split(x)
    deepgrad.manual_seed(4)
    np.testing.assert_array_equal(d[1], train_test_split(x)[1])
    tr, te = train_test_split(x, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(24))
    np.testing.assert_array_equal(te, np.arange(24, 30))


def test_train_test_split_stratified_keeps_proportions():
    _, y, _, _ = load_iris()
    _, y_te = train_test_split(y, test_size=0.2, seed=0, stratify=y)
    np.testing.assert_array_equal(np.bincount(y_te.numpy()), [10, 10, 10])


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="different numbers of rows"):
        train_test_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="must be in"):
        train_test_split(np.zeros(3), test_size=1.5)
    with pytest.raises(ValueError, match="both parts"):
        train_test_split(np.zeros(3), test_size=3)


# ------------------------------------------------------------------ k-fold cross-validation
@pytest.mark.parametrize("n, k", [(25, 5), (23, 4), (10, 10), (7, 2)])
def test_kfold_split_folds_partition_the_rows(n, k):
    x = deepgrad.arange(2 * n).reshape(n, 2)
    y = np.arange(n) * 2
    tests = []
    for fold in range(k):
        x_tr, x_te, y_tr, y_te = kfold_split(x, y, k=k, fold=fold, seed=3)
        assert isinstance(x_tr, deepgrad.Tensor) and isinstance(y_te, np.ndarray)
        np.testing.assert_array_equal(x_tr.numpy()[:, 0], y_tr)  # rows stay aligned
        np.testing.assert_array_equal(x_te.numpy()[:, 0], y_te)
        train_rows, test_rows = set(y_tr // 2), set(y_te // 2)
        assert not train_rows & test_rows and len(train_rows | test_rows) == n
        tests.append(y_te // 2)
    every = np.concatenate(tests)
    np.testing.assert_array_equal(np.sort(every), np.arange(n))  # each row tested once
    sizes = [len(t) for t in tests]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n


def test_kfold_split_stratified_and_reproducible():
    _, y, _, _ = load_iris()
    for fold in range(10):
        _, y_te = kfold_split(y, k=10, fold=fold, seed=0, stratify=y)
        np.testing.assert_array_equal(np.bincount(y_te.numpy(), minlength=3), [5, 5, 5])
    labels = np.array([0] * 7 + [1] * 3)  # unbalanced: the folds still share the rows evenly
    sizes = [len(kfold_split(labels, k=3, fold=f, seed=1, stratify=labels)[1]) for f in range(3)]
    assert sorted(sizes) == [3, 3, 4]
    a = kfold_split(np.arange(30), k=5, fold=2, seed=7)
    b = kfold_split(np.arange(30), k=5, fold=2, seed=7)
    c = kfold_split(np.arange(30), k=5, fold=2, seed=8)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(k=1, fold=0), "k=1 must be a whole number from 2"),
        (dict(k=11, fold=0), "from 2 to the rows, 10"),
        (dict(k=5, fold=5), "fold=5 must be a whole number from 0 to k-1=4"),
        (dict(k=2.0, fold=0), "k=2.0"),
        (dict(k=2, fold=0, stratify=np.zeros(3)), "stratify has 3 labels for 10 rows"),
    ],
)
def test_kfold_split_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        kfold_split(np.arange(10), **kwargs)
