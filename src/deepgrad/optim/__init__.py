"""Optimisers (``deepgrad.optim``, PyTorch's ``torch.optim``) and learning-rate schedules.

Every algorithm updates the parameters' arrays in place with NumPy, outside autograd, and
matches PyTorch's update formulas and their order, so the same model trained with the same
hyper-parameters follows the same trajectory. ``GD`` (full-batch gradient descent with an
optional Armijo line search) is deepgrad's own.
"""

from deepgrad.optim import lr_scheduler
from deepgrad.optim.adadelta import Adadelta
from deepgrad.optim.adagrad import Adagrad
from deepgrad.optim.adam import Adam
from deepgrad.optim.adamax import Adamax
from deepgrad.optim.adamw import AdamW
from deepgrad.optim.gd import GD
from deepgrad.optim.optimizer import Optimizer
from deepgrad.optim.rmsprop import RMSprop
from deepgrad.optim.sgd import SGD

__all__ = [
    "GD",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
]
