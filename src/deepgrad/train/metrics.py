"""Classification metrics: accuracy, the confusion matrix, per-class precision and recall.

Every function takes deepgrad Tensors, NumPy arrays or lists. ``output`` is what a model
returns: scores of shape ``(N, C)`` (logits or probabilities; the class is the arg-max) or,
for a binary model with one output, shape ``(N,)`` or ``(N, 1)`` holding *logits*: class 1
where the logit is > 0, i.e. where ``sigmoid(logit) > 0.5``. Pass ``threshold=0.5`` for a model
that ends in ``Sigmoid`` and returns probabilities.
"""

from __future__ import annotations

import numpy as np

from deepgrad.utils.outputs import predicted_classes, to_numpy, true_classes

__all__ = [
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "count_correct",
    "precision_recall",
    "predicted_classes",
]


def count_correct(output, target, threshold: float = 0.0) -> int:
    """How many predictions of ``output`` equal ``target`` (the numerator of accuracy)."""
    return int(np.count_nonzero(predicted_classes(output, threshold) == true_classes(target)))


def accuracy(output, target, threshold: float = 0.0) -> float:
    r"""Fraction of correct predictions, :math:`\frac{1}{n}\sum_i \mathbb{I}(\hat y_i = y_i)`.

    ``target`` holds class indices (or one-hot rows, or 0/1 floats for a binary model).
    """
    n = len(to_numpy(target))
    if n == 0:
        raise ValueError("accuracy: no samples (target is empty)")
    return count_correct(output, target, threshold) / n


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as class ``j``.

    Rows are true classes and columns predictions (scikit-learn's convention), so the diagonal
    holds the correct predictions. ``y_pred`` may be class indices or model outputs (scores or
    binary logits, see :func:`predicted_classes`). ``num_classes`` defaults to one more than the
    largest label seen. Returns an int64 array ``C x C``.
    """
    t = true_classes(y_true).astype(np.int64, copy=False)
    p = to_numpy(y_pred)
    if p.ndim == 2 or p.dtype.kind == "f":  # scores or binary logits, not class indices
        p = predicted_classes(p)
    p = p.astype(np.int64, copy=False)
    if t.shape != p.shape:
        raise ValueError(
            f"confusion_matrix: {t.shape[0]} true labels but {p.shape[0]} predictions; pass "
            "one prediction per sample"
        )
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(
            f"confusion_matrix: labels must lie in 0..{num_classes - 1}, got true labels in "
            f"{t.min()}..{t.max()} and predictions in {p.min()}..{p.max()}"
        )
    # One bincount over the flat index true * C + pred counts every cell at once.
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def precision_recall(cm) -> dict[str, np.ndarray]:
    r"""Per-class precision, recall, F1 and support from a confusion matrix ``cm``.

    For class :math:`k`: precision :math:`= C_{kk} / \sum_i C_{ik}` (of the samples predicted
    :math:`k`, the fraction that are :math:`k`), recall :math:`= C_{kk} / \sum_j C_{kj}` (of the
    samples of class :math:`k`, the fraction found), :math:`F_1 = 2PR/(P+R)`, support
    :math:`= \sum_j C_{kj}`. A class never predicted (or never present) gets 0, as
    scikit-learn's ``zero_division=0``.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support.astype(np.int64),
    }


def classification_report(cm, class_names=None) -> str:
    """A text table of per-class precision, recall, F1 and support, plus overall accuracy."""
    m = precision_recall(cm)
    cm = np.asarray(cm)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
    width = max(12, *(len(str(n)) for n in names))
    lines = [f"{'class':>{width}}  precision  recall     f1  support"]
    for i, name in enumerate(names):
        lines.append(
            f"{name!s:>{width}}  {m['precision'][i]:9.3f}  {m['recall'][i]:6.3f}  "
            f"{m['f1'][i]:5.3f}  {m['support'][i]:7d}"
        )
    total = int(cm.sum())
    acc = np.trace(cm) / total if total else 0.0
    lines.append(f"{'accuracy':>{width}}  {'':9}  {'':6}  {acc:5.3f}  {total:7d}")
    return "\n".join(lines)
