"""``deepgrad.nn.utils``: gradient clipping, regularisation penalties, parameter vectors."""

from deepgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from deepgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from deepgrad.nn.utils.regularization import l1_penalty, l2_penalty

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "l1_penalty",
    "l2_penalty",
    "parameters_to_vector",
    "vector_to_parameters",
]
