"""Metrics against independent oracles: torch for accuracy, np.histogram2d and explicit counting
for the confusion matrix, the textbook formulas for precision and recall."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.train.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall,
    predicted_classes,
)


@pytest.fixture
def scores():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 7)).astype(np.float32)
    labels = rng.integers(0, 7, 200)
    return logits, labels


def test_accuracy_matches_torch(scores):
    logits, labels = scores
    expected = (torch.from_numpy(logits).argmax(1) == torch.from_numpy(labels)).float().mean()
    assert accuracy(deepgrad.tensor(logits), deepgrad.tensor(labels)) == pytest.approx(
        expected.item(), abs=1e-7
    )
    # NumPy arrays and one-hot targets give the same value.
    one_hot = np.eye(7)[labels]
    assert accuracy(logits, one_hot) == pytest.approx(expected.item(), abs=1e-7)


def test_binary_logits_and_probabilities():
    logits = np.array([[-2.0], [0.5], [3.0], [-0.1]], dtype=np.float32)
    y = np.array([[0.0], [1.0], [0.0], [0.0]], dtype=np.float32)
    # torch oracle: sigmoid(logit) > 0.5
    pred = (torch.sigmoid(torch.from_numpy(logits)) > 0.5).float()
    expected = (pred == torch.from_numpy(y)).float().mean().item()
    assert accuracy(logits, y) == pytest.approx(expected)
    probs = torch.sigmoid(torch.from_numpy(logits)).numpy()
    assert accuracy(probs, y, threshold=0.5) == pytest.approx(expected)
    np.testing.assert_array_equal(predicted_classes(logits), pred.numpy().ravel().astype(int))


def test_confusion_matrix_matches_histogram2d(scores):
    logits, labels = scores
    pred = logits.argmax(1)
    cm = confusion_matrix(labels, logits, num_classes=7)
    hist, _, _ = np.histogram2d(labels, pred, bins=[np.arange(8) - 0.5, np.arange(8) - 0.5])
    np.testing.assert_array_equal(cm, hist.astype(np.int64))
    assert cm.dtype == np.int64
    assert cm.sum() == len(labels)


def test_confusion_matrix_manual_counts():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    expected = np.zeros((3, 3), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), expected)
    # num_classes larger than the labels seen adds empty rows and columns
    assert confusion_matrix(y_true, y_pred, num_classes=5)[:3, :3].tolist() == expected.tolist()


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="3 true labels but 2 predictions"):
        confusion_matrix([0, 1, 1], [0, 1])


def test_precision_recall_textbook():
    # true\pred: class 0 found 3 of 4 times; class 1 predicted 3 times, right twice; class 2
    # never predicted and never present -> 0 by the zero_division=0 convention.
    y_true = [0, 0, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 1, 0]
    m = precision_recall(confusion_matrix(y_true, y_pred, num_classes=3))
    np.testing.assert_allclose(m["precision"], [3 / 4, 2 / 3, 0.0])
    np.testing.assert_allclose(m["recall"], [3 / 4, 2 / 3, 0.0])
    p, r = 3 / 4, 3 / 4
    assert m["f1"][0] == pytest.approx(2 * p * r / (p + r))
    assert m["support"].tolist() == [4, 3, 0]
    text = classification_report(confusion_matrix(y_true, y_pred), ["a", "b"])
    assert "accuracy" in text and f"{5 / 7:.3f}" in text
