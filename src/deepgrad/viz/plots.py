"""Training pictures with matplotlib: learning curves, decision boundaries, confusion matrices,
softmax-regression weights and misclassified images.

Every function builds a ``matplotlib.figure.Figure`` on the Agg canvas directly (no pyplot, so
no window, no global backend switch, safe in scripts, servers and tests) and returns it. With
``path`` (one path or several) it is also saved, in the format of each suffix (``.png``,
``.svg``, ``.pdf``), atomically: a crash never leaves a half-written picture. In a notebook,
``display(fig)`` shows a returned figure.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import deepgrad
from deepgrad.utils.outputs import class_probabilities, predicted_classes, to_numpy, true_classes

TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#d62728"


def new_figure(width: float = 6.4, height: float = 4.8, dpi: int = 100):
    """A Figure on an Agg canvas (what every plot here starts from)."""
    from deepgrad.utils.interrupts import interrupts_deferred

    # A Ctrl-C in the middle of matplotlib's first import can abort the process at exit
    # (deepgrad.utils.interrupts says why); held back, it comes right after the import.
    with interrupts_deferred():
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path) -> list[Path]:
    """Save ``fig`` to ``path`` (or to each path of a list); the suffix picks the format.

    Each file is written atomically (rendered in memory, then temp file + rename).
    """
    from deepgrad.utils.atomic import atomic_write

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    out = []
    for p in paths:
        p = Path(p)
        fmt = p.suffix.lstrip(".").lower() or "png"
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight")
        out.append(atomic_write(p, buf.getvalue()))
    return out


def _finish(fig, path):
    if path is not None:
        save_figure(fig, path)
    return fig


# ----------------------------------------------------------------------- learning curves
def plot_learning_curves(
    history,
    path=None,
    labels: tuple[str, str] = ("train", "test"),
    metric: str = "accuracy",
    title: str | None = None,
):
    """Cost and ``metric`` versus epoch (top row) and versus iteration (bottom row), training
    data against test data, as in the course's "Performance on training and test data".

    Per iteration the raw mini-batch values are drawn faintly with a moving average over them;
    test values appear where they were measured (each epoch's end, or every ``eval_every``
    steps of ``fit``). ``history`` is a :class:`deepgrad.train.History`.
    """
    ep = history.epochs
    has_metric = f"train_{metric}" in ep or metric in history.iterations
    cols = 2 if has_metric else 1
    fig = new_figure(5.2 * cols, 7.2)
    axes = fig.subplots(2, cols, squeeze=False)
    epochs = np.arange(1, len(history) + 1)
    train_label, test_label = labels
    per_epoch_curves = (("train", TRAIN_COLOR, train_label), ("val", TEST_COLOR, test_label))
    kinds = [("loss", "cost (loss)")] + ([(metric, metric)] if has_metric else [])
    scale = {"accuracy": 100.0}
    for c, (key, name) in enumerate(kinds):
        s = scale.get(key, 1.0)
        unit = " (%)" if key in scale else ""
        ax = axes[0, c]
        marker = "o" if len(epochs) < 30 else None
        for split, color, label in per_epoch_curves:
            if f"{split}_{key}" in ep:
                values = s * np.asarray(ep[f"{split}_{key}"])
                ax.plot(epochs, values, marker=marker, color=color, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name + unit)
        ax.set_title(f"{name} per epoch")
        if len(epochs):
            ax.set_xticks(epochs if len(epochs) <= 12 else ax.get_xticks()[1:-1])
        ax = axes[1, c]
        it = np.asarray(history.iterations.get(key, []), dtype=np.float64) * s
        if len(it):
            steps = np.arange(1, len(it) + 1)
            per_epoch = max(1, len(it) // max(1, len(epochs)))
            window = max(1, min(per_epoch // 4, 50))
            ax.plot(steps, it, color=TRAIN_COLOR, alpha=0.25, linewidth=0.8)
            smooth = f"{train_label} (batch, mean of {window})" if window > 1 else train_label
            ax.plot(steps, _moving_average(it, window), color=TRAIN_COLOR, label=smooth)
        val = history.val_iterations
        if f"val_{key}" in val and val.get("step"):
            ax.plot(
                val["step"],
                s * np.asarray(val[f"val_{key}"]),
                marker=".",
                color=TEST_COLOR,
                label=test_label,
            )
        ax.set_xlabel("iteration")
        ax.set_ylabel(name + unit)
        ax.set_title(f"{name} per iteration")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start)."""
    if window <= 1:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    i = np.arange(1, len(values) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


# ----------------------------------------------------------------------- decision boundary
def _model_outputs(model, x, batch_size: int = 8192) -> np.ndarray:
    """``model(x)`` in eval mode without gradients, in batches, on the model's device."""
    params = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        with deepgrad.no_grad():
            outputs = []
            for i in range(0, len(x), batch_size):
                batch = x[i : i + batch_size]
                outputs.append(
                    to_numpy(model(batch if params is None else batch.to(params.device)))
                )
    finally:
        if was_training is not None:
            model.train(was_training)
    return np.concatenate(outputs)


def plot_decision_boundary(
    model,
    X_train,
    y_train,
    X_test=None,
    y_test=None,
    path=None,
    transform=None,
    resolution: int = 200,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
):
    """The regions where a 2-D classifier predicts each class, with the training points (dots)
    and test points (crosses) on top, as the course draws them.

    ``model`` is any callable from an ``N x 2`` float32 tensor to logits: ``N x C`` scores or
    one logit per point for a binary model. ``transform`` (e.g. the standardisation used in
    training) maps plot coordinates to model inputs. For two classes the colour shows
    :math:`p(y=1|x)` and a black line marks :math:`p = 0.5`; for more, the colour is the
    predicted class, paler where the model is less sure.
    """
    from matplotlib.colors import ListedColormap

    xtr, ytr = to_numpy(X_train), to_numpy(y_train).reshape(-1)
    if xtr.ndim != 2 or xtr.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary: needs 2-D points (N x 2), got X of shape {xtr.shape}"
        )
    pts = [xtr] + ([to_numpy(X_test)] if X_test is not None else [])
    allx = np.concatenate(pts)
    lo, hi = allx.min(axis=0), allx.max(axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-6)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    inputs = deepgrad.from_numpy(grid)
    if transform is not None:
        inputs = transform(inputs)
    prob = class_probabilities(_model_outputs(model, inputs))
    k = max(prob.shape[1], int(ytr.max()) + 1 if len(ytr) else 2)
    palette = ["#3b73c4", "#e0563f", "#45a35b", "#9467bd", "#e6a122", "#8c564b", "#e377c2"]
    colors = [palette[i % len(palette)] for i in range(k)]
    fig = new_figure(6.4, 5.6)
    ax = fig.add_subplot()
    if prob.shape[1] == 2:
        p1 = prob[:, 1].reshape(xx.shape)
        cmap = _two_class_cmap(colors[0], colors[1])
        filled = ax.contourf(xx, yy, p1, levels=np.linspace(0, 1, 21), cmap=cmap, alpha=0.8)
        ax.contour(xx, yy, p1, levels=[0.5], colors="k", linewidths=1.2)
        fig.colorbar(filled, ax=ax, label="p(class 1)", ticks=[0, 0.25, 0.5, 0.75, 1])
    else:
        cls = prob.argmax(axis=1).reshape(xx.shape)
        conf = prob.max(axis=1).reshape(xx.shape)
        rgb = np.asarray([_hex_rgb(colors[c]) for c in range(prob.shape[1])])[cls]
        alpha = (0.25 + 0.55 * (conf - 1 / prob.shape[1]) / (1 - 1 / prob.shape[1]))[..., None]
        img = 1 - alpha * (1 - rgb)  # blend each class colour with white by confidence
        ax.imshow(img, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), aspect="auto")
    names = list(class_names) if class_names is not None else [f"class {i}" for i in range(k)]
    # Points in darker shades of the region colours, with dark edges, so they stand out.
    cmap_pts = ListedColormap([_darker(c) for c in colors])
    style = dict(cmap=cmap_pts, vmin=-0.5, vmax=k - 0.5, edgecolors="#111111")
    ax.scatter(xtr[:, 0], xtr[:, 1], c=ytr, s=16, linewidths=0.4, **style)
    if X_test is not None and y_test is not None:
        xte, yte = to_numpy(X_test), to_numpy(y_test).reshape(-1)
        ax.scatter(xte[:, 0], xte[:, 1], c=yte, s=30, marker="X", linewidths=0.6, **style)
    from matplotlib.lines import Line2D

    handles = [
        _legend_patch(colors[i], names[i] if i < len(names) else f"class {i}") for i in range(k)
    ]
    handles.append(Line2D([], [], ls="", marker="o", color="#777777", mec="#111111", label="train"))
    if X_test is not None:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="X",
                color="#777777",
                mec="#111111",
                markersize=8,
                label="test",
            )
        )
    ax.legend(handles=handles, loc="upper left", fontsize="small", framealpha=0.85)
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "decision boundary")
    fig.tight_layout()
    return _finish(fig, path)


def _hex_rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def _darker(color: str, factor: float = 0.75) -> tuple[float, float, float]:
    r, g, b = _hex_rgb(color)
    return (r * factor, g * factor, b * factor)


def _two_class_cmap(c0: str, c1: str):
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("two_class", [c0, "#ffffff", c1])


def _legend_patch(color: str, label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=color, edgecolor="none", label=label)


# ----------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    cm,
    class_names: Sequence[str] | None = None,
    path=None,
    normalize: bool = False,
    title: str | None = None,
):
    """The confusion matrix as a heat map: rows true classes, columns predictions, each cell
    labelled with its count (or, with ``normalize``, the fraction of its row = the recall)."""
    cm = np.asarray(cm)
    k = len(cm)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(4.5, 0.55 * k + 2.5)
    fig = new_figure(size + 1.0, size)
    ax = fig.add_subplot()
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize="small")
    ax.set_yticks(range(k), names, fontsize="small")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 30:
        top = shown.max() if shown.size else 0
        for i in range(k):
            for j in range(k):
                v = shown[i, j]
                text = f"{v:.2f}" if normalize else f"{int(v)}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7 if k > 12 else 8,
                    color="white" if v > top / 2 else "black",
                )
    total = cm.sum()
    acc = np.trace(cm) / total if total else 0.0
    ax.set_title(title or f"confusion matrix (accuracy {100 * acc:.1f}%)")
    fig.tight_layout()
    return _finish(fig, path)


# ----------------------------------------------------------------------- images
def _images(x, image_shape=None) -> np.ndarray:
    """``N x H x W`` images from ``N x D`` rows, ``N x 1 x H x W`` or ``N x H x W``."""
    a = to_numpy(x)
    if a.ndim == 4 and a.shape[1] == 1:
        return a[:, 0]
    if a.ndim == 3:
        return a
    if a.ndim == 2:
        if image_shape is None:
            side = math.isqrt(a.shape[1])
            if side * side != a.shape[1]:
                raise ValueError(
                    f"cannot show rows of {a.shape[1]} values as square images; pass image_shape"
                )
            image_shape = (side, side)
        return a.reshape(len(a), *image_shape)
    raise ValueError(f"expected images N x D, N x H x W or N x 1 x H x W, got shape {a.shape}")


def _grid(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return max(1, math.ceil(n / max(cols, 1))), max(cols, 1)


def plot_softmax_weights(
    weight,
    class_names: Sequence[str] | None = None,
    path=None,
    image_shape: tuple[int, int] | None = None,
    title: str | None = None,
):
    """The weights of softmax regression, one image per class: row ``k`` of ``W`` (``C x D``,
    ``Linear.weight``) reshaped to the input image. Red pixels raise the score of class ``k``,
    blue ones lower it (colour scale symmetric around 0, per class)."""
    imgs = _images(weight, image_shape)
    k = len(imgs)
    rows, cols = _grid(k)
    fig = new_figure(2.0 * cols, 2.2 * rows + 0.4)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.axis("off")
        if i >= k:
            continue
        m = float(np.abs(imgs[i]).max()) or 1.0
        ax.imshow(imgs[i], cmap="seismic", vmin=-m, vmax=m)
        ax.set_title(str(names[i]), fontsize="small")
    fig.suptitle(title or "softmax regression weights per class")
    fig.tight_layout()
    return _finish(fig, path)


def plot_misclassified(
    images,
    y_true,
    y_pred,
    class_names: Sequence[str] | None = None,
    path=None,
    max_images: int = 25,
    image_shape: tuple[int, int] | None = None,
    title: str | None = None,
):
    """A grid of the first ``max_images`` test images whose prediction is wrong, each titled
    with its true and predicted label. ``y_pred`` may be class indices or model outputs."""
    imgs = _images(images, image_shape)
    t = true_classes(y_true)
    p = to_numpy(y_pred)
    p = predicted_classes(p) if p.ndim == 2 or p.dtype.kind == "f" else p.reshape(-1)
    wrong = np.flatnonzero(t != p)[:max_images]
    names = list(class_names) if class_names is not None else None
    n = max(len(wrong), 1)
    rows, cols = _grid(n)
    fig = new_figure(2.0 * cols, 2.3 * rows + 0.4)
    for slot in range(rows * cols):
        ax = fig.add_subplot(rows, cols, slot + 1)
        ax.axis("off")
        if slot >= len(wrong):
            continue
        i = wrong[slot]
        ax.imshow(imgs[i], cmap="gray_r")
        true_name = names[t[i]] if names else str(t[i])
        pred_name = names[p[i]] if names else str(p[i])
        ax.set_title(f"true: {true_name}\npred: {pred_name}", fontsize=7, color="#b22222")
    if not len(wrong):
        fig.axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    total = int(np.count_nonzero(t != p))
    fig.suptitle(title or f"misclassified test images ({len(wrong)} of {total} shown)")
    fig.tight_layout()
    return _finish(fig, path)
