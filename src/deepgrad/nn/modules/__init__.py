"""The layers of ``deepgrad.nn``, one family per file."""

from __future__ import annotations


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
from deepgrad.nn.modules.sync_batchnorm import SyncBatchNorm
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

from deepgrad.nn.modules.conv import Conv1d, Conv2d
from deepgrad.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)

__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d",
]  # fmt: skip

__all__ += ["SyncBatchNorm"]

from deepgrad.nn.modules.loss import HuberLoss, SmoothL1Loss

__all__ += ["HuberLoss", "SmoothL1Loss"]

# ---- census extras (issue 14): layers the API census found in teaching code ----------------
from deepgrad.nn.modules.dropout import Dropout2d  # noqa: E402
from deepgrad.nn.modules.conv3d import Conv3d  # noqa: E402
from deepgrad.nn.modules.conv_transpose import ConvTranspose2d  # noqa: E402
from deepgrad.nn.modules.loss import CosineEmbeddingLoss  # noqa: E402
from deepgrad.nn.modules.embedding import Embedding  # noqa: E402
from deepgrad.nn.modules.instancenorm import InstanceNorm2d  # noqa: E402
from deepgrad.nn.modules.lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv2d,
    LazyLinear,
)
from deepgrad.nn.modules.padding import ReflectionPad2d  # noqa: E402
from deepgrad.nn.modules.pixelshuffle import PixelShuffle  # noqa: E402

__all__ += [
    "Conv3d", "ConvTranspose2d", "CosineEmbeddingLoss", "Dropout2d", "Embedding", "InstanceNorm2d",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv2d", "LazyLinear", "PixelShuffle",
    "ReflectionPad2d",
]  # fmt: skip
