"""Each picture is produced, readable and not blank; inputs of the wrong shape are refused."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

import deepgrad
from deepgrad import models, nn, optim
from deepgrad.data import circle, spiral, standardize
from deepgrad.train import fit
from deepgrad.train.metrics import confusion_matrix
from deepgrad.viz.plots import (
    _moving_average,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_learning_curves,
    plot_misclassified,
    plot_softmax_weights,
    save_figure,
)


def _check_png(path, min_side=200):
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= min_side, img.shape
    assert img[..., :3].var() > 1e-4  # something was drawn
    return img


@pytest.fixture(scope="module")
def trained():
    deepgrad.manual_seed(0)
    x, y = circle(200, 0.0, seed=0)
    x, _, _ = standardize(x)
    model = models.mlp(2, (8,), 2)
    opt = optim.Adam(model.parameters(), lr=0.05)
    h = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        (x[:150], y[:150]),
        (x[150:], y[150:]),
        epochs=3,
        batch_size=25,
        eval_every=3,
        progress=False,
    )
    return model, h, x, y


def test_learning_curves_png_and_svg(tmp_path, trained):
    _, h, _, _ = trained
    fig = plot_learning_curves(h, [tmp_path / "c.png", tmp_path / "c.svg"], title="t")
    assert len(fig.axes) == 4  # cost and accuracy, per epoch and per iteration
    _check_png(tmp_path / "c.png")
    svg = (tmp_path / "c.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    labels = {t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()}
    assert "train" in labels and "test" in labels
    # The per-epoch test curve holds the recorded values (in percent for accuracy).
    acc_ax = fig.axes[1]
    test_line = [ln for ln in acc_ax.get_lines() if ln.get_label() == "test"][0]
    np.testing.assert_allclose(test_line.get_ydata(), 100 * np.asarray(h["val_accuracy"]))


def test_learning_curves_without_accuracy(tmp_path):
    h = deepgrad.train.History()
    for e in range(3):
        h.log_epoch(train_loss=1.0 / (e + 1), val_loss=1.2 / (e + 1), step=(e + 1) * 2)
    h.iterations["loss"] = [1.0, 0.9, 0.6, 0.5, 0.4, 0.3]
    fig = plot_learning_curves(h, tmp_path / "c.png")
    assert len(fig.axes) == 2
    _check_png(tmp_path / "c.png")


def test_moving_average_matches_numpy():
    v = np.arange(10, dtype=np.float64) ** 2
    expected = [v[max(0, i - 2) : i + 1].mean() for i in range(10)]
    np.testing.assert_allclose(_moving_average(v, 3), expected)


def test_decision_boundary_two_classes(tmp_path, trained):
    model, _, x, y = trained
    fig = plot_decision_boundary(model, x[:150], y[:150], x[150:], y[150:], tmp_path / "b.png")
    img = _check_png(tmp_path / "b.png")
    # Both class colours appear in the picture (the model separates the disc from the ring).
    rgb = img[..., :3].reshape(-1, 3)
    blueish = np.sum(rgb[:, 2] > rgb[:, 0] + 0.15)
    reddish = np.sum(rgb[:, 0] > rgb[:, 2] + 0.15)
    assert blueish > 500 and reddish > 500
    assert fig.axes[0].get_title() == "decision boundary"


def test_decision_boundary_multiclass_and_transform(tmp_path):
    x, y = spiral(90, 0.0, seed=0, n_classes=3)
    model = models.mlp(2, (8,), 3)
    seen = {}

    def transform(t):
        seen["shape"] = t.shape
        return t / 5

    plot_decision_boundary(model, x, y, path=tmp_path / "b.png", transform=transform, resolution=50)
    assert seen["shape"] == (2500, 2)
    _check_png(tmp_path / "b.png")
    with pytest.raises(ValueError, match="needs 2-D points"):
        plot_decision_boundary(model, deepgrad.randn(5, 3), y[:5])


def test_confusion_matrix_picture(tmp_path):
    cm = confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], 3)
    fig = plot_confusion_matrix(cm, ["a", "b", "c"], tmp_path / "cm.png")
    _check_png(tmp_path / "cm.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(v) for v in cm.ravel()]  # every cell labelled with its count
    assert "80.0%" in fig.axes[0].get_title()
    fig = plot_confusion_matrix(cm, normalize=True)
    assert fig.axes[0].texts[4].get_text() == "0.50"  # recall of class 1


def test_softmax_weights_one_image_per_class(tmp_path):
    model = models.softmax(784, 10)
    fig = plot_softmax_weights(model[1].weight, [f"c{i}" for i in range(10)], tmp_path / "w.png")
    _check_png(tmp_path / "w.png")
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 10 and shown[0].shape == (28, 28)
    np.testing.assert_array_equal(shown[3], model[1].weight._data[3].reshape(28, 28))


def test_misclassified_grid(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((40, 1, 28, 28)).astype(np.float32)
    y_true = rng.integers(0, 10, 40)
    y_pred = y_true.copy()
    wrong = [3, 7, 20]
    y_pred[wrong] = (y_true[wrong] + 1) % 10
    names = [f"n{i}" for i in range(10)]
    fig = plot_misclassified(images, y_true, y_pred, names, tmp_path / "m.png")
    _check_png(tmp_path / "m.png", min_side=100)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [f"true: n{y_true[i]}\npred: n{y_pred[i]}" for i in wrong]


def test_save_figure_is_atomic_and_infers_format(tmp_path):
    fig = plot_confusion_matrix(np.eye(2, dtype=int))
    (out,) = save_figure(fig, tmp_path / "x.pdf")
    assert out.read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf"]
