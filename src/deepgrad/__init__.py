"""deepgrad: a readable deep-learning framework on NumPy with PyTorch's API.

``import deepgrad as torch`` runs course code written for PyTorch unchanged.
"""

from deepgrad import _allocator, accelerator, autograd, backends, cuda, dtypes
from deepgrad.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from deepgrad.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from deepgrad.device import device, get_default_device, set_default_device
from deepgrad.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from deepgrad.functions import *  # noqa: F403 - the torch.* math functions
from deepgrad.functions import cat, concat, concatenate, is_tensor, stack, where  # noqa: F401
from deepgrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from deepgrad.tensor import Tensor

__version__ = "0.1.0"

_allocator.tune()  # reuse freed memory across training steps (see _allocator.py)


def __getattr__(name):
    # Subpackages load on first use, so `import deepgrad` stays fast and the core imports
    # nothing but NumPy.
    import importlib

    if name in {"nn", "optim", "data", "utils", "train", "viz", "models", "distributed", "onnx"}:
        module = importlib.import_module(f"deepgrad.{name}")
        globals()[name] = module
        return module
    if name == "summary":
        from deepgrad.viz.summary import summary

        return summary
    raise AttributeError(f"module 'deepgrad' has no attribute {name!r}")
