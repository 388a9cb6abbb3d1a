"""The model zoo: the course's models as ``nn.Sequential`` networks.

Every model returns logits (no softmax or sigmoid at the end); train them with
``nn.CrossEntropyLoss`` (``nn.BCEWithLogitsLoss`` for ``logistic``), which fuse the
log-softmax / log-sigmoid into the loss and stay finite where a separate ``log`` would not.
Models for images start with ``nn.Flatten`` where they need vectors, so they accept both
``N x 784`` rows and ``N x 1 x 28 x 28`` images.

=============  ===========================================================================
``logistic``   logistic regression: one logit :math:`w^T x + b`, :math:`p(y=1|x)=\\sigma(\\cdot)`
``softmax``    softmax regression: :math:`o = W x + b`, :math:`p = \\mathrm{softmax}(o)`
``mlp``        multilayer perceptron, 784-512-256-10 with ReLU by default
``cnn``        2 conv layers (16 and 32 channels, 5x5) + max-pooling, then one linear layer
``lenet5``     LeNet-5 (LeCun et al. 1998) for 28x28 inputs
=============  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from deepgrad import nn, registry
from deepgrad.registry import activation_layer

__all__ = ["MODELS", "activation_layer", "cnn", "get_model", "lenet5", "logistic", "mlp", "softmax"]


def logistic(in_features: int = 2) -> nn.Sequential:
    """Logistic regression for two classes: ``Linear(in_features, 1)``, one logit per sample.

    Train with ``nn.BCEWithLogitsLoss`` on float targets of shape ``(N, 1)``; the class is 1
    where the logit is > 0.
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 1))


def softmax(in_features: int = 784, num_classes: int = 10) -> nn.Sequential:
    """Softmax regression: ``Flatten`` then ``Linear(in_features, num_classes)`` (logits).

    ``model[1].weight`` (``num_classes x in_features``) holds one weight image per class.
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes))


def mlp(
    in_features: int = 784,
    hidden: Sequence[int] = (512, 256),
    num_classes: int = 10,
    activation: str = "relu",
) -> nn.Sequential:
    """Multilayer perceptron: ``Flatten``, then ``Linear`` + activation for each hidden size,
    then ``Linear(hidden[-1], num_classes)``. The default is the course's 784-512-256-10 ReLU
    network; ``hidden=()`` gives softmax regression."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for h in hidden:
        if int(h) <= 0:
            raise ValueError(f"mlp: hidden sizes must be positive, got {tuple(hidden)}")
        layers += [nn.Linear(width, int(h)), activation_layer(activation)]
        width = int(h)
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def cnn(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """The 2-conv network for 28x28 images::

    Conv2d(1, 16, 5, padding=2) - ReLU - MaxPool2d(2)     # 16 x 14 x 14
    Conv2d(16, 32, 5, padding=2) - ReLU - MaxPool2d(2)    # 32 x 7 x 7
    Flatten - Linear(32 * 7 * 7 = 1568, 10)
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, num_classes),
    )


def lenet5(in_channels: int = 1, num_classes: int = 10, activation: str = "relu") -> nn.Sequential:
    """LeNet-5 for 28x28 images (padding 2 on the first convolution gives the original 32x32)::

        Conv2d(1, 6, 5, padding=2) - act - MaxPool2d(2)      # 6 x 14 x 14
        Conv2d(6, 16, 5) - act - MaxPool2d(2)                # 16 x 5 x 5
        Flatten - Linear(400, 120) - act - Linear(120, 84) - act - Linear(84, 10)

    Deviation from 1998, on purpose: ReLU and max-pooling by default (they train faster than the
    original's scaled tanh and trainable sub-sampling); ``activation="sigmoid"`` gives the
    d2l.ai variant's non-linearity.
    """

    def act() -> nn.Module:
        return activation_layer(activation)

    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2),
        act(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        act(),
        nn.Linear(120, 84),
        act(),
        nn.Linear(84, num_classes),
    )


# The builders are named like the models, so the registry's list is the only list of names.
MODELS: dict[str, Callable[..., nn.Module]] = {name: globals()[name] for name in registry.MODELS}
"""Name -> builder, for the ``deepgrad`` command."""


def get_model(name: str, **kwargs) -> nn.Module:
    """Build a zoo model by name with keyword arguments, e.g. ``get_model("mlp", hidden=(64,))``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name](**kwargs)
