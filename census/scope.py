"""Which census names deepgrad means to support: the scope of issue 14, written once.

``classify(name)`` returns ("in", "") or ("out", reason). The reasons are the ones
docs/COMPATIBILITY.md gives. The first matching rule decides; a name no rule matches is in scope.
"""

from __future__ import annotations

import fnmatch

COMPLEX = "complex numbers: deepgrad's tensors are real (bool, integer, floating)"
SPARSE = "sparse tensors: deepgrad's tensors are dense"
QUANT = "quantisation: deepgrad computes in floating point only"
JIT = "TorchScript/torch.jit/torch.fx: deepgrad runs eagerly (torch.compile returns the model)"
CUDA = "CUDA/accelerator internals: deepgrad runs on the CPU (device queries are supported)"
AMP = "mixed precision (autocast, GradScaler) is an accelerator feature"
DIST = "distributed and multi-process training is outside the course (see deepgrad.distributed)"
RNN = "recurrent/attention layers: sequence models are outside the course"
DISTRIB = "torch.distributions beyond normal/uniform/bernoulli/multinomial sampling"
TOOLING = "tooling outside the numerical API (profiler, TensorBoard, hub, export, benchmark)"
INTERNALS = "memory and storage internals with no meaning for NumPy-backed tensors"

RULES: list[tuple[str, str]] = [
    # complex
    ("torch.complex*", COMPLEX),
    ("torch.view_as_*", COMPLEX),
    ("torch.cfloat", COMPLEX),
    ("torch.cdouble", COMPLEX),
    ("Tensor.real", COMPLEX),
    ("Tensor.imag", COMPLEX),
    ("Tensor.conj*", COMPLEX),
    ("Tensor.angle", COMPLEX),
    ("Tensor.is_complex", COMPLEX),
    ("torch.fft*", COMPLEX),
    # sparse
    ("torch.sparse*", SPARSE),
    ("Tensor.to_sparse*", SPARSE),
    ("Tensor.is_sparse*", SPARSE),
    ("Tensor.coalesce", SPARSE),
    ("Tensor.indices", SPARSE),
    ("Tensor.values", SPARSE),
    ("torch.spmm", SPARSE),
    ("torch.sparse_coo_tensor", SPARSE),
    # quantisation
    ("torch.quantization*", QUANT),
    ("torch.ao*", QUANT),
    ("torch.quint*", QUANT),
    ("torch.qint*", QUANT),
    ("Tensor.q_*", QUANT),
    ("Tensor.int_repr", QUANT),
    ("Tensor.dequantize", QUANT),
    ("torch.quantize_*", QUANT),
    # compilers
    ("torch.jit*", JIT),
    ("torch.fx*", JIT),
    ("torch._dynamo*", JIT),
    ("torch.export*", JIT),
    ("torch.nn.utils.fusion*", JIT),
    # accelerators beyond the queries
    ("torch.cuda.is_available", ""),
    ("torch.cuda.device_count", ""),
    ("torch.cuda.manual_seed", ""),
    ("torch.cuda.manual_seed_all", ""),
    ("torch.cuda*", CUDA),
    ("torch.mps*", CUDA),
    ("torch.xpu*", CUDA),
    ("torch.backends.mps.is_available", ""),
    ("torch.backends.mps.is_built", ""),
    ("torch.backends.cudnn.benchmark", ""),
    ("torch.backends.cudnn.deterministic", ""),
    ("torch.backends*", CUDA),
    ("Tensor.is_cuda", ""),
    ("Tensor.cuda", ""),
    ("Tensor.pin_memory", CUDA),
    ("Tensor.is_pinned", CUDA),
    ("Tensor.record_stream", CUDA),
    ("torch.amp*", AMP),
    ("torch.autocast", AMP),
    ("torch.GradScaler", AMP),
    ("torch.cuda.amp*", AMP),
    # multi-process
    ("torch.distributed*", DIST),
    ("torch.multiprocessing*", DIST),
    ("torch.nn.parallel*", DIST),
    ("torch.nn.DataParallel", DIST),
    ("torch.utils.data.distributed*", DIST),
    ("Tensor.share_memory_", DIST),
    ("torch.nn.SyncBatchNorm", DIST),
    # sequence models
    ("torch.nn.RNN*", RNN),
    ("torch.nn.LSTM*", RNN),
    ("torch.nn.GRU*", RNN),
    ("torch.nn.Transformer*", RNN),
    ("torch.nn.MultiheadAttention", RNN),
    ("torch.nn.utils.rnn*", RNN),
    ("torch.nn.functional.scaled_dot_product_attention", RNN),
    # distributions
    ("torch.distributions.normal*", ""),
    ("torch.distributions.Normal", ""),
    ("torch.distributions.uniform*", ""),
    ("torch.distributions.Uniform", ""),
    ("torch.distributions.bernoulli*", ""),
    ("torch.distributions.Bernoulli", ""),
    ("torch.distributions.multinomial*", ""),
    ("torch.distributions.Multinomial", ""),
    ("torch.distributions", ""),  # the module itself: deepgrad.distributions exists
    ("torch.distributions*", DISTRIB),
    # tooling
    ("torch.profiler*", TOOLING),
    ("torch.autograd.profiler*", TOOLING),
    ("torch.utils.tensorboard*", TOOLING),
    ("torch.hub*", TOOLING),
    ("torch.onnx*", TOOLING),
    ("torch.utils.benchmark*", TOOLING),
    ("torch.utils.checkpoint*", TOOLING),
    ("torch.utils.cpp_extension*", TOOLING),
    ("torch.utils.bottleneck*", TOOLING),
    ("torch.__version__", ""),
    ("torch.version*", TOOLING),
    # internals
    ("Tensor.storage*", INTERNALS),
    ("Tensor.untyped_storage", INTERNALS),
    ("Tensor.data_ptr", INTERNALS),
    ("Tensor.is_shared", INTERNALS),
    ("Tensor.stride", INTERNALS),
    ("Tensor.storage_offset", INTERNALS),
    ("torch.Storage", INTERNALS),
    ("torch.*Storage", INTERNALS),
]


def classify(name: str) -> tuple[str, str]:
    """("in", "") when deepgrad aims to support ``name``, else ("out", the reason)."""
    for pattern, reason in RULES:
        if fnmatch.fnmatchcase(name, pattern):
            return ("out", reason) if reason else ("in", "")
    return "in", ""


# In-scope census names deepgrad does not implement, with the reason. Each counts against the
# coverage figure; test_census.py checks that none is used by 3 or more programs.
LEFT_OUT: dict[str, str] = {
    "torch.bfloat16": "NumPy has no bfloat16 dtype; deepgrad computes in float16/32/64",
}
