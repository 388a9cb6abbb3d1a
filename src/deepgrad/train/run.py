"""A training run as the ``deepgrad`` command does it: settings -> data -> model -> optimiser
-> ``fit`` -> files in a run folder.

A run folder holds ``config.json`` (every setting, the class names and the input
normalisation), ``model.safetensors`` and ``optimizer.safetensors`` (the checkpoint of the last
finished epoch, see :mod:`deepgrad.train.checkpoint`), ``history.csv``, ``metrics.json``,
pictures and ``report.md``. ``config.json`` is written before training starts and the
checkpoint after every epoch, so an interrupted run can be resumed.

Everything a run draws at random comes from ``seed``: the data sets and the train/test split
use their own generators seeded with it, the initial weights and the shuffling come from
deepgrad's global generator after ``manual_seed(seed)``. The checkpoint stores that
generator's state, so a resumed run continues exactly like one that was never interrupted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import deepgrad
from deepgrad.tensor import Tensor, _wrap

IMAGE_DATASETS = ("fashion-mnist", "mnist")
POINT_DATASETS = ("circle", "xor", "gauss", "spiral", "moons")
DATASETS = (*IMAGE_DATASETS, "iris", *POINT_DATASETS)  # and "csv:PATH"
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad", "adamax")
TEST_FRACTION = 0.2  # for the data sets without a test split of their own

# Defaults per model and kind of data, measured to reach the course's accuracies (Fashion-MNIST
# in 10 epochs: MLP >= 89.5%, softmax regression >= 84%, CNN >= 91.5%; 2-class spiral >= 95%,
# XOR 100%; Iris >= 96% in 10-fold cross-validation, where 50 epochs with a little weight
# decay beat 10 epochs without: 97.3% against 96.0%). lr_decay multiplies the learning rate
# after every epoch.
DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("mlp", "images"): dict(optimizer="adam", lr=1e-3, lr_decay=0.7, batch_size=64,
                            hidden=[512, 256]),
    ("softmax", "images"): dict(optimizer="momentum", lr=0.02, lr_decay=0.7, batch_size=128),
    ("cnn", "images"): dict(optimizer="adam", lr=1e-3, lr_decay=0.8, batch_size=32),
    ("lenet5", "images"): dict(optimizer="adam", lr=1e-3, lr_decay=0.8, batch_size=32),
    ("mlp", "table"): dict(optimizer="adam", lr=0.01, batch_size=16, hidden=[16],
                           weight_decay=0.01, epochs=50),
    ("mlp", "points"): dict(optimizer="adam", lr=0.01, batch_size=16, hidden=[64, 64]),
}  # fmt: skip
COMMON_DEFAULTS: dict[str, Any] = dict(
    epochs=10,
    optimizer="adam",
    lr=0.01,
    batch_size=16,
    momentum=None,  # 0.9 for "momentum", 0 for the others
    weight_decay=0.0,
    l1=0.0,
    lr_decay=1.0,  # learning rate times this after every epoch (ExponentialLR); 1 = constant
    hidden=[64],
    activation="relu",
    seed=0,
    limit=None,
    samples=1000,
    noise=0.0,
    label_column=None,
    folds=None,  # k of k-fold cross-validation, with fold (0 .. k-1) as the test data
    fold=None,
)


OUTPUT_FILES = (
    "model.safetensors", "optimizer.safetensors", "config.json", "history.csv", "metrics.json",
    "curves.png", "confusion.png", "boundary.png", "weights.png", "misclassified.png",
    "report.md",
)  # fmt: skip


class RunError(Exception):
    """A problem with the settings or the files of a run, reported without a traceback."""


# ---------------------------------------------------------------------------- data
@dataclass
class Data:
    """A data set split into train and test, as float32 inputs and int64 class labels."""

    name: str
    kind: str  # "images", "points" (2-D toy sets) or "table" (iris, CSV)
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    classes: list[str]
    feature_names: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        return int(np.prod(self.input_shape))


def dataset_kind(name: str) -> str:
    if name in IMAGE_DATASETS:
        return "images"
    if name in POINT_DATASETS:
        return "points"
    if name == "iris" or name.startswith("csv:"):
        return "table"
    raise RunError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or csv:PATH")


def load_data(config: dict[str, Any]) -> Data:
    """The train and test data of ``config["dataset"]``, not normalised yet."""
    from deepgrad import data as D

    name, seed = config["dataset"], config["seed"]
    kind = dataset_kind(name)
    if kind == "images":
        cls = D.FashionMNIST if name == "fashion-mnist" else D.MNIST
        try:
            train, test = cls(train=True), cls(train=False)
        except (D.DatasetNotFoundError, D.IDXError) as e:
            raise RunError(str(e)) from None
        xtr, ytr = train.tensors()
        xte, yte = test.tensors()
        data = Data(name, kind, xtr, ytr, xte, yte, list(train.classes))
    else:
        if name == "iris":
            x, y, features, classes = D.load_iris()
        elif kind == "points":
            fn = D.TOY_DATASETS[name][0]
            x, y = fn(config["samples"], config["noise"], seed=seed)
            features, classes = ["x1", "x2"], [f"class {k}" for k in range(int(y.max()) + 1)]
        else:
            x, y, features, classes = _load_csv(name[4:], config.get("label_column"))
        if config.get("folds"):  # one fold of k-fold cross-validation (deepgrad train --cv K)
            if config["folds"] > len(x):
                raise RunError(
                    f"{name}: {config['folds']}-fold cross-validation needs at least "
                    f"{config['folds']} samples, and there are {len(x)}"
                )
            xtr, xte, ytr, yte = D.kfold_split(
                x, y, k=config["folds"], fold=config["fold"], seed=seed, stratify=y
            )
        else:
            xtr, xte, ytr, yte = D.train_test_split(
                x, y, test_size=TEST_FRACTION, seed=seed, stratify=y
            )
        data = Data(name, kind, xtr, ytr, xte, yte, classes, features)
    limit = config.get("limit")
    if limit:
        data.x_train, data.y_train = data.x_train[:limit], data.y_train[:limit]
        data.x_test, data.y_test = data.x_test[:limit], data.y_test[:limit]
    return data


def _load_csv(path: str, label_column):
    from deepgrad.data import csv_dataset

    if not Path(path).is_file():
        raise RunError(f"csv:{path}: no such file")
    spec = -1 if label_column is None else label_column
    if isinstance(spec, str) and spec.lstrip("-").isdigit():
        spec = int(spec)
    try:
        ds = csv_dataset(path, spec)
    except (KeyError, ValueError, OSError) as e:
        raise RunError(str(e.args[0]) if e.args else str(e)) from None
    if ds.classes is None:
        raise RunError(
            f"csv:{path}: the label column {ds.label_name!r} holds real numbers; deepgrad train "
            "does classification, so it needs class labels (names or whole numbers)"
        )
    x, y = ds.tensors
    return x, y, list(ds.feature_names), [str(c) for c in ds.classes]


def fit_normalization(data: Data) -> dict[str, Any]:
    """Mean and standard deviation of the training inputs: one number for images (all pixels
    together; per-pixel statistics would blow up the nearly constant border pixels), one per
    feature for tables and points."""
    x = data.x_train._data.astype(np.float64)
    if data.kind == "images":
        return {"mean": float(x.mean()), "std": float(x.std())}
    std = x.std(axis=0)
    return {"mean": x.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}


def normalize(x: Tensor, norm: dict[str, Any]) -> Tensor:
    """``(x - mean) / std`` with the statistics of :func:`fit_normalization`, in float32."""
    mean = np.asarray(norm["mean"], dtype=np.float32)
    std = np.asarray(norm["std"], dtype=np.float32)
    return _wrap(((x._data - mean) / std).astype(np.float32, copy=False))


# ---------------------------------------------------------------------------- settings
def resolve_config(given: dict[str, Any]) -> dict[str, Any]:
    """Fill the settings the user left out (None) with the defaults for this model and data."""
    model, dataset = given["model"], given["dataset"]
    kind = dataset_kind(dataset)
    config = dict(COMMON_DEFAULTS)
    config.update(DEFAULTS.get((model, kind), {}))
    config.update({k: v for k, v in given.items() if v is not None})
    if config["momentum"] is None:
        config["momentum"] = 0.9 if config["optimizer"] == "momentum" else 0.0
    if model in ("cnn", "lenet5") and kind != "images":
        raise RunError(f"--model {model} needs images (fashion-mnist, mnist), not {dataset}")
    return config


def build_model(config: dict[str, Any], input_shape, num_classes: int):
    """The zoo model of ``config`` for inputs of ``input_shape`` (one sample) and
    ``num_classes`` classes."""
    from deepgrad import models

    name, k = config["model"], num_classes
    in_features = int(np.prod(input_shape))
    if name == "logistic":
        if k != 2:
            raise RunError(
                f"--model logistic is binary, but {config['dataset']} has {k} classes; use "
                "--model softmax (softmax regression) or mlp"
            )
        return models.logistic(in_features)
    if name == "softmax":
        return models.softmax(in_features, k)
    if name == "mlp":
        return models.mlp(in_features, config["hidden"], k, config["activation"])
    if name == "cnn":
        return models.cnn(input_shape[0], k)
    if name == "lenet5":
        return models.lenet5(input_shape[0], k)
    raise RunError(f"unknown model {name!r}; choose one of {', '.join(models.MODELS)}")


def build_optimizer(config: dict[str, Any], model):
    """The optimiser of ``config`` over ``model.parameters()``."""
    from deepgrad import optim

    name, lr = config["optimizer"], config["lr"]
    wd, mom = config["weight_decay"], config["momentum"]
    params = model.parameters()
    if name in ("sgd", "momentum"):
        return optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "adamax":
        return optim.Adamax(params, lr=lr, weight_decay=wd)
    raise RunError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


class L1Penalty:
    r"""``loss_fn`` plus :math:`\lambda_1 \sum |w|` over the weights (not the biases).

    The penalty is part of the training cost only: under ``no_grad`` (evaluation) the plain
    data loss is returned, so test losses stay comparable between runs.
    """

    def __init__(self, loss_fn, model, l1: float) -> None:
        self.loss_fn = loss_fn
        self.l1 = l1
        self.weights = [p for n, p in model.named_parameters() if not n.endswith("bias")]

    def __call__(self, output, target):
        loss = self.loss_fn(output, target)
        if not deepgrad.is_grad_enabled():
            return loss
        for w in self.weights:
            loss = loss + self.l1 * w.abs().sum()
        return loss


def build_scheduler(config: dict[str, Any], optimizer):
    """``ExponentialLR(gamma=lr_decay)``, or None for a constant learning rate.

    An exponential decay does not depend on the total number of epochs, so ``--resume`` with a
    larger ``--epochs`` continues the same schedule.
    """
    from deepgrad.optim.lr_scheduler import ExponentialLR

    gamma = config.get("lr_decay", 1.0)
    return ExponentialLR(optimizer, gamma=gamma) if gamma != 1.0 else None


def build_loss(config: dict[str, Any], model):
    from deepgrad import nn

    loss = nn.BCEWithLogitsLoss() if config["model"] == "logistic" else nn.CrossEntropyLoss()
    return L1Penalty(loss, model, config["l1"]) if config["l1"] else loss


def targets(config: dict[str, Any], y: Tensor) -> Tensor:
    """Labels as the loss wants them: class indices, or ``(N, 1)`` floats for ``logistic``."""
    if config["model"] == "logistic":
        return _wrap(y._data.astype(np.float32).reshape(-1, 1))
    return y


# ---------------------------------------------------------------------------- a run
def prepare(config: dict[str, Any]):
    """Seed, load and normalise the data, build model, loss and optimiser (in that order, so
    the random draws are the same every time). Returns ``(data, norm, model, loss, optimizer)``;
    ``data`` is normalised with the training statistics stored in ``config["normalization"]``
    (computed and stored when missing)."""
    deepgrad.manual_seed(config["seed"])
    data = load_data(config)
    if not len(data.x_train) or not len(data.x_test):
        raise RunError(f"{data.name}: no training or test samples (check --limit)")
    norm = config.get("normalization") or fit_normalization(data)
    config["normalization"] = norm
    data.x_train, data.x_test = normalize(data.x_train, norm), normalize(data.x_test, norm)
    model = build_model(config, data.input_shape, len(data.classes))
    return data, model, build_loss(config, model), build_optimizer(config, model)


def train(
    config: dict[str, Any], out, resume: bool = False, progress: bool = True, device="cpu"
) -> dict:
    """Train (or, with ``resume``, continue) the run in folder ``out``; returns the metrics.

    ``config`` must be complete (see :func:`resolve_config`). ``device="cuda"`` trains on the
    GPU (the data stay in host memory and each batch is copied over, as with a PyTorch
    DataLoader); the model comes back to the CPU for the final evaluation and the files.
    """
    from deepgrad.data import DataLoader, TensorDataset
    from deepgrad.train import parallel
    from deepgrad.train.checkpoint import CheckpointError, atomic_write_text, load_checkpoint
    from deepgrad.train.fit import fit

    out = Path(out)
    started = time.perf_counter()
    data, model, loss_fn, optimizer = prepare(config)
    model.to(device)  # in place: the optimiser keeps its parameters (raises if no GPU)
    main = parallel.is_main_process()  # with several ranks only rank 0 writes (train/parallel.py)
    if not resume and main:  # a new run in an old folder: leave nothing of the old run behind
        for name in OUTPUT_FILES:
            (out / name).unlink(missing_ok=True)
    scheduler = build_scheduler(config, optimizer)
    history, initial_epoch = None, 0
    if resume:
        try:
            state = load_checkpoint(out, model, optimizer, scheduler)
        except CheckpointError as e:
            raise RunError(str(e)) from None
        history, initial_epoch = state["history"], state["epoch"]
    config["classes"] = data.classes
    config["feature_names"] = data.feature_names
    config["input_shape"] = list(data.input_shape)
    if main:
        atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")

    from deepgrad.train.callbacks import ModelCheckpoint

    train_set = TensorDataset(data.x_train, targets(config, data.y_train))
    trained, callbacks = model, [ModelCheckpoint(out)]
    if parallel.world_size() > 1:
        trained, loader, callbacks = parallel.prepare_training(
            model, train_set, config["batch_size"], config["seed"], initial_epoch
        )
        callbacks.append(parallel.MainRankCheckpoint(out))
    else:
        loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True)
    test = (data.x_test, targets(config, data.y_test))
    history = fit(
        trained,
        loss_fn,
        optimizer,
        loader,
        test,
        epochs=config["epochs"],
        callbacks=callbacks,
        scheduler=scheduler,
        progress=progress and main,
        initial_epoch=initial_epoch,
        history=history,
    )
    model.to("cpu")
    if not main:
        return {}
    return finish(config, out, data, model, loss_fn, history, time.perf_counter() - started)


def finish(config, out: Path, data: Data, model, loss_fn, history, wall: float) -> dict:
    """Evaluate the trained model and write metrics, history, pictures and the report."""
    from deepgrad.train.checkpoint import atomic_write_text
    from deepgrad.train.fit import evaluate, predict
    from deepgrad.train.metrics import confusion_matrix, precision_recall, predicted_classes
    from deepgrad.viz import plots

    test = evaluate(model, loss_fn, (data.x_test, targets(config, data.y_test)))
    train_ = evaluate(model, loss_fn, (data.x_train, targets(config, data.y_train)))
    scores = predict(model, data.x_test)
    cm = confusion_matrix(data.y_test, predicted_classes(scores), len(data.classes))
    per_class = precision_recall(cm)
    metrics = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_accuracy": train_["accuracy"],
        "train_loss": train_["loss"],
        "epochs": len(history),
        "seconds": float(sum(history.epochs.get("seconds", []))),
        "wall_seconds": wall,
        "train_samples": len(data.x_train),
        "test_samples": len(data.x_test),
        "per_class": {
            name: {k: float(v[i]) for k, v in per_class.items()}
            for i, name in enumerate(data.classes)
        },
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    history.to_csv(out / "history.csv")
    pictures = {"curves.png": "learning curves", "confusion.png": "confusion matrix (test)"}
    title = f"{config['model']} on {data.name}"
    plots.plot_learning_curves(history, out / "curves.png", title=title)
    plots.plot_confusion_matrix(cm, data.classes, out / "confusion.png")
    if data.kind == "points":
        norm = config["normalization"]
        x_tr = _denormalize(data.x_train, norm)
        x_te = _denormalize(data.x_test, norm)
        plots.plot_decision_boundary(
            model,
            x_tr,
            data.y_train,
            x_te,
            data.y_test,
            out / "boundary.png",
            transform=lambda x: normalize(x, norm),
            title=f"decision boundary: {title}",
        )
        pictures["boundary.png"] = "decision boundary (dots: train, crosses: test)"
    if data.kind == "images":
        if config["model"] == "softmax":
            weight = model[1].weight
            plots.plot_softmax_weights(weight, data.classes, out / "weights.png")
            pictures["weights.png"] = "softmax-regression weights, one image per class"
        plots.plot_misclassified(
            data.x_test, data.y_test, scores, data.classes, out / "misclassified.png"
        )
        pictures["misclassified.png"] = "misclassified test images"
    atomic_write_text(out / "report.md", report(config, metrics, pictures, cm, per_class, data))
    return metrics


def _denormalize(x: Tensor, norm) -> Tensor:
    mean = np.asarray(norm["mean"], dtype=np.float32)
    std = np.asarray(norm["std"], dtype=np.float32)
    return _wrap(x._data * std + mean)


def report(config, metrics, pictures, cm, per_class, data: Data) -> str:
    """``report.md``: the numbers, the settings and the pictures of a run."""
    pct = lambda v: f"{100 * v:.2f}%"  # noqa: E731
    lines = [
        f"# deepgrad run: {config['model']} on {data.name}",
        "",
        "| result | value |",
        "|---|---|",
        f"| test accuracy | {pct(metrics['test_accuracy'])} |",
        f"| test loss | {metrics['test_loss']:.4f} |",
        f"| train accuracy | {pct(metrics['train_accuracy'])} |",
        f"| train loss | {metrics['train_loss']:.4f} |",
        f"| epochs | {metrics['epochs']} |",
        f"| training time | {metrics['seconds']:.1f} s |",
        f"| samples | {metrics['train_samples']} train, {metrics['test_samples']} test |",
        "",
        "## Settings",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    shown = ["model", "dataset", "epochs", "batch_size", "optimizer", "lr", "lr_decay"]
    if config["optimizer"] in ("sgd", "momentum", "rmsprop"):
        shown.append("momentum")
    shown += ["weight_decay", "l1", "seed"] + (["limit"] if config.get("limit") else [])
    if config["model"] == "mlp":
        shown += ["hidden", "activation"]
    if data.kind == "points":
        shown += ["samples", "noise"]
    lines += [f"| {k} | {config.get(k)} |" for k in shown]
    norm = config["normalization"]
    if data.kind == "images":
        stats = f"mean {norm['mean']:.4f} and std {norm['std']:.4f} (all pixels)"
    else:
        stats = "each feature's mean and std"
    lines += ["", f"Inputs standardised with the training data's {stats}."]
    lines += ["", f"Command: `{command_line(config)}`", ""]
    for file, caption in pictures.items():
        lines += [f"## {caption[0].upper() + caption[1:]}", "", f"![{caption}]({file})", ""]
        if file == "confusion.png":
            lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            for i, name in enumerate(data.classes):
                lines.append(
                    f"| {name} | {per_class['precision'][i]:.3f} | {per_class['recall'][i]:.3f}"
                    f" | {per_class['f1'][i]:.3f} | {per_class['support'][i]} |"
                )
            lines.append("")
    return "\n".join(lines)


def command_line(config) -> str:
    """The ``deepgrad train`` command that reproduces this run."""
    parts = ["deepgrad train", f"--model {config['model']}", f"--dataset {config['dataset']}"]
    keys = ["epochs", "batch_size", "optimizer", "lr", "lr_decay", "weight_decay", "l1"]
    if config["optimizer"] in ("sgd", "momentum", "rmsprop"):
        keys.append("momentum")
    for key in keys:
        parts.append(f"--{key.replace('_', '-')} {config[key]}")
    if config["model"] == "mlp":
        parts.append(f"--hidden {','.join(map(str, config['hidden']))}")
        parts.append(f"--activation {config['activation']}")
    if dataset_kind(config["dataset"]) == "points":
        parts += [f"--samples {config['samples']}", f"--noise {config['noise']}"]
    if config.get("label_column") is not None:
        parts.append(f"--label-column {config['label_column']}")
    if config.get("limit"):
        parts.append(f"--limit {config['limit']}")
    parts.append(f"--seed {config['seed']}")
    return " ".join(parts)


# ---------------------------------------------------------------------------- saved runs
def load_config(run_dir) -> dict[str, Any]:
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise RunError(
            f"{run_dir} is not a deepgrad run folder (no config.json); train one with "
            "deepgrad train --out RUN_DIR"
        )
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise RunError(f"{path} is not valid JSON ({e})") from None


def load_run(run_dir, limit=None):
    """``(config, data, model, loss_fn)`` of a saved run, with its trained weights loaded."""
    from deepgrad.train.checkpoint import CheckpointError, load_model

    config = load_config(run_dir)
    if limit is not None:
        config["limit"] = limit
    data, model, loss_fn, _ = prepare(config)
    try:
        load_model(model, Path(run_dir) / "model.safetensors")
    except CheckpointError as e:
        raise RunError(str(e)) from None
    return config, data, model, loss_fn


def load_trained_model(run_dir):
    """``(config, model)`` of a saved run without loading its data (for predictions)."""
    from deepgrad.train.checkpoint import CheckpointError, load_model

    config = load_config(run_dir)
    model = build_model(config, config["input_shape"], len(config["classes"]))
    try:
        load_model(model, Path(run_dir) / "model.safetensors")
    except CheckpointError as e:
        raise RunError(str(e)) from None
    model.eval()
    return config, model
