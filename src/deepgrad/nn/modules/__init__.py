"""The layers of ``deepgrad.nn``, one family per file."""

from __future__ import annotations

import importlib
import importlib.util

from deepgrad.nn.module import LayerInputError, Module
from deepgrad.nn.modules.activation import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Step,
    Tanh,
)
from deepgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from deepgrad.nn.modules.container import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from deepgrad.nn.modules.dropout import Dropout
from deepgrad.nn.modules.flatten import Flatten, Unflatten
from deepgrad.nn.modules.linear import Identity, Linear
from deepgrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from deepgrad.nn.modules.maxout import Maxout

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "Dropout",
    "ELU", "Flatten", "GELU", "Hardtanh", "HingeEmbeddingLoss", "Identity", "KLDivLoss",
    "L1Loss", "LayerInputError", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Maxout",
    "Module", "ModuleDict", "ModuleList", "MultiMarginLoss", "NLLLoss", "ParameterDict",
    "ParameterList", "ReLU", "ReLU6", "Sequential", "SiLU", "Sigmoid", "Softmax", "Softmin",
    "Softplus", "Softsign", "Step", "Tanh", "Unflatten",
]  # fmt: skip

# Convolution and pooling layers are written separately (modules/conv.py, modules/pooling.py);
# they are exported here when those files exist, so the two can be developed independently.
_OPTIONAL = {
    "deepgrad.nn.modules.conv": ("Conv1d", "Conv2d"),
    "deepgrad.nn.modules.pooling": (
        "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
        "AdaptiveMaxPool2d",
    ),
}  # fmt: skip
for _mod_name, _names in _OPTIONAL.items():
    if importlib.util.find_spec(_mod_name) is not None:
        _mod = importlib.import_module(_mod_name)
        for _name in _names:
            if hasattr(_mod, _name):
                globals()[_name] = getattr(_mod, _name)
                __all__.append(_name)
