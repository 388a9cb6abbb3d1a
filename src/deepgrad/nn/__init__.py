"""``deepgrad.nn``: modules, parameters, losses and helpers, with PyTorch's API.

``import deepgrad.nn as nn`` and ``import deepgrad.nn.functional as F`` work as with torch.
"""

from deepgrad.nn import functional, init, parallel, utils  # noqa: F401
from deepgrad.nn._checks import LikelyMistakeWarning
from deepgrad.nn.module import LayerInputError, Module
from deepgrad.nn.modules import *  # noqa: F403
from deepgrad.nn.modules import __all__ as _modules_all
from deepgrad.nn.parameter import Parameter

__all__ = [
    "LayerInputError",
    "LikelyMistakeWarning",
    "Module",
    "Parameter",
    "functional",
    "init",
    "parallel",
    "utils",
    *_modules_all,
]
