"""Fisher's Iris data: 150 flowers, 4 measurements in cm, 3 species (50 each).

The data ships inside the package as ``iris.csv`` (header ``sepal_length, sepal_width,
petal_length, petal_width, species``). Source: the copy in scikit-learn 1.9.1
(``sklearn/datasets/data/iris.csv``, BSD-3-Clause), which is Fisher's (1936) table as in R,
not the UCI copy with two wrong values; only the layout was changed (header, species names).
R.A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of Eugenics 7
(1936), 179-188.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from deepgrad.data.dataset import TensorDataset
from deepgrad.tensor import Tensor, _wrap

FEATURE_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASSES = ["setosa", "versicolor", "virginica"]


def iris_path():
    """The shipped CSV file (a ``Traversable``; ``str()`` of it is a path for normal installs)."""
    return resources.files("deepgrad.data").joinpath("iris.csv")


def load_iris() -> tuple[Tensor, Tensor, list[str], list[str]]:
    """``(X, y, feature_names, class_names)``: ``X`` float32 ``150 x 4`` in cm, ``y`` int64
    species indices 0 (setosa), 1 (versicolor), 2 (virginica)."""
    with iris_path().open("r", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if header != FEATURE_NAMES + ["species"] or len(body) != 150:
        raise RuntimeError(  # only if the installed package was damaged
            f"the shipped iris.csv at {iris_path()} is damaged (header {header}, {len(body)} "
            "rows instead of 150); reinstall deepgrad"
        )
    x = np.array([[float(v) for v in r[:4]] for r in body], dtype=np.float32)
    index = {name: i for i, name in enumerate(CLASSES)}
    y = np.array([index[r[4]] for r in body], dtype=np.int64)
    return _wrap(x), _wrap(y), list(FEATURE_NAMES), list(CLASSES)


class Iris(TensorDataset):
    """The Iris data as a ``TensorDataset``: ``ds[i]`` is ``(features float32 (4,), label)``,
    with ``feature_names`` and ``classes``."""

    def __init__(self) -> None:
        x, y, self.feature_names, self.classes = load_iris()
        super().__init__(x, y)
