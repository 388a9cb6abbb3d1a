"""The names the apps offer, in one place: models, activations, optimisers, learning-rate
schedules and data sets.

The ``deepgrad`` command (its ``choices``), the training runner (:mod:`deepgrad.train.run`),
the model zoo (:mod:`deepgrad.models`) and the playground (its checks and its page) all read
these tables, so a name added here is offered everywhere, and no list can drift from another.
``tests/cli/test_registry.py`` checks that every app agrees with them and that every name builds.

Data sets: ``deepgrad train`` does classification, so it takes :data:`TRAIN_DATASETS` (images,
Iris, the 2-D classification sets) and ``csv:PATH``; ``deepgrad datasets`` lists exactly those.
The regression sets ``plane`` and ``multi_gauss`` are for the playground only
(:data:`PLAYGROUND_DATASETS`), which fits them with a squared-error loss.
"""

from __future__ import annotations

from typing import Any

from deepgrad.data.toy import TOY_DATASETS

# ----------------------------------------------------------------------------- models
MODELS = ("logistic", "softmax", "mlp", "cnn", "lenet5")
"""The zoo of :mod:`deepgrad.models`; each name is also the name of its builder function."""

IMAGE_MODELS = ("cnn", "lenet5")
"""Models built of convolutions: they need ``N x 1 x 28 x 28`` images, not feature vectors."""

# ----------------------------------------------------------------------------- activations
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "linear": "Identity",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "softplus": "Softplus",
}
"""Activation name -> class of ``deepgrad.nn`` (and of ``torch.nn``: exported code uses it)."""


def activation_layer(name: str):
    """A fresh activation layer by name (``relu``, ``tanh``, ``linear``, ``gelu``, ...)."""
    from deepgrad import nn

    key = name.lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return getattr(nn, ACTIVATIONS[key])()


# ----------------------------------------------------------------------------- optimisers
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "adam": ("Adam", {}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "adamax": ("Adamax", {}),
}
"""Optimiser name -> (class of ``deepgrad.optim`` and ``torch.optim``, its keyword defaults).
``momentum`` is SGD with momentum 0.9."""

MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "rmsprop")
"""The optimisers that take a ``momentum`` argument."""


def optimizer_kwargs(name: str, **settings) -> dict[str, Any]:
    """The keyword arguments of optimiser ``name``: its defaults, overridden by the
    ``settings`` that are not None (``momentum`` only where the optimiser takes one)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if name not in MOMENTUM_OPTIMIZERS:
        settings.pop("momentum", None)
    return {**OPTIMIZERS[name][1], **{k: v for k, v in settings.items() if v is not None}}


def build_optimizer(name: str, params, lr: float, **settings):
    """Optimiser ``name`` over ``params`` with learning rate ``lr``; ``settings`` (momentum,
    weight_decay, ...) left as None keep the optimiser's defaults."""
    from deepgrad import optim

    kwargs = optimizer_kwargs(name, **settings)
    return getattr(optim, OPTIMIZERS[name][0])(params, lr=lr, **kwargs)


# ----------------------------------------------------------------------------- schedules
LR_SCHEDULERS: dict[str, str] = {"exponential": "ExponentialLR"}
"""Learning-rate schedule name -> class of ``deepgrad.optim.lr_scheduler`` (the runner's
``lr_decay`` is the ``gamma`` of ``exponential``; 1 means a constant rate, no scheduler)."""


def build_lr_scheduler(name: str, optimizer, **kwargs):
    """Schedule ``name`` over ``optimizer``, e.g. ``build_lr_scheduler("exponential", opt,
    gamma=0.9)``."""
    from deepgrad.optim import lr_scheduler

    if name not in LR_SCHEDULERS:
        raise ValueError(
            f"unknown lr scheduler {name!r}; choose one of: {', '.join(LR_SCHEDULERS)}"
        )
    return getattr(lr_scheduler, LR_SCHEDULERS[name])(optimizer, **kwargs)


# ----------------------------------------------------------------------------- data sets
IMAGE_DATASETS = ("fashion-mnist", "mnist")
TABLE_DATASETS = ("iris",)  # and csv:PATH
POINT_DATASETS = tuple(n for n, (_, task, _) in TOY_DATASETS.items() if task == "classification")
REGRESSION_DATASETS = tuple(n for n, (_, task, _) in TOY_DATASETS.items() if task == "regression")
TRAIN_DATASETS = (*IMAGE_DATASETS, *TABLE_DATASETS, *POINT_DATASETS)
"""What ``deepgrad train`` takes (besides ``csv:PATH``) and ``deepgrad datasets`` lists."""
PLAYGROUND_DATASETS = (*POINT_DATASETS, *REGRESSION_DATASETS, "csv")
"""What the playground offers (``csv``: a file uploaded in the page)."""


def dataset_kind(name: str) -> str:
    """``"images"``, ``"points"`` (2-D toy sets) or ``"table"`` (Iris, ``csv:PATH``) for a data
    set ``deepgrad train`` takes; raises ValueError for any other name."""
    if name in IMAGE_DATASETS:
        return "images"
    if name in POINT_DATASETS:
        return "points"
    if name in TABLE_DATASETS or name.startswith("csv:"):
        return "table"
    raise ValueError(
        f"unknown dataset {name!r}; choose one of {', '.join(TRAIN_DATASETS)} or csv:PATH"
    )
