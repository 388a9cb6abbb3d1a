"""deepgrad: a readable deep-learning framework on NumPy with PyTorch's API.

``import deepgrad as torch`` runs course code written for PyTorch unchanged.
"""

from deepgrad import accelerator, autograd, backends, cuda, dtypes
from deepgrad.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from deepgrad.creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
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
from deepgrad.parallelism import get_num_threads, set_num_threads
from deepgrad.layout import contiguous_format, memory_format, preserve_format
from deepgrad.functions import *  # noqa: F403 - the torch.* math functions
from deepgrad.functions import cat, concat, concatenate, is_tensor, meshgrid, mv, stack, where
from deepgrad.serialization import load, save
from deepgrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from deepgrad.tensor import Tensor

# ---- census extras (issue 14): torch.* names the API census found in teaching code ---------
from deepgrad import functional, linalg  # noqa: E402, F401
from deepgrad.census_extras import (  # noqa: E402, F401
    asin,
    bitwise_xor,
    cdist,
    clone,
    det,
    histc,
    isclose,
    log1p,
    multiply,
    range,
    set_printoptions,
    sin_,
    std_mean,
    svd,
    topk,
    unique,
)

__version__ = "0.1.0"

from deepgrad.kernels import allocator as _allocator  # noqa: E402

_allocator.tune()  # reuse freed memory across training steps (see kernels/allocator.py)

_compile_noted = False


def compile(model=None, **kwargs):  # noqa: A001 - torch.compile
    """``torch.compile``: returns ``model`` unchanged, as deepgrad runs eagerly.

    The first call prints a one-line note to stderr. Used as a decorator
    (``@torch.compile`` or ``@torch.compile(mode=...)``) it also returns the function as is.

    >>> model = deepgrad.nn.Linear(2, 1)
    >>> deepgrad.compile(model) is model
    True
    """
    global _compile_noted
    if not _compile_noted:
        import sys

        print(
            "deepgrad: torch.compile is a no-op here; the model runs eagerly, unchanged.",
            file=sys.stderr,
        )
        _compile_noted = True
    if model is None:
        return lambda fn: fn
    return model


_LAZY = {
    "nn", "optim", "data", "utils", "train", "viz", "models", "distributed", "onnx", "vision",
    "distributions",
}  # fmt: skip


def __getattr__(name):
    # Subpackages load on first use, so `import deepgrad` stays fast and the core imports
    # nothing but NumPy.
    import importlib

    if name in _LAZY:
        module = importlib.import_module(f"deepgrad.{name}")
        globals()[name] = module
        return module
    if name == "summary":
        from deepgrad.utils.summary import summary

        return summary
    from deepgrad._compat import missing_attribute

    raise missing_attribute("deepgrad", name, lambda: list(globals()) + sorted(_LAZY))
