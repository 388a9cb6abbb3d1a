"""``deepgrad.onnx``: export models to ONNX (``export``) and read ONNX graphs back (``load``).

Needs the ``onnx`` package (``pip install deepgrad[onnx]``); checking against ONNX Runtime
needs ``onnxruntime`` as well. See docs/ONNX.md for the opset and the op mapping table.
"""

try:
    import onnx as _onnx  # noqa: F401 - the one dependency, checked here for a clear message
except ImportError as e:  # pragma: no cover - the onnx extra is part of the test set-up
    raise ImportError(
        f"deepgrad.onnx needs the onnx package: pip install 'deepgrad[onnx]' ({e})"
    ) from None

from deepgrad.onnx.export import DEFAULT_OPSET, UnsupportedOpError, export
from deepgrad.onnx.load import GraphModule, OnnxOp, UnsupportedNodeError, load

__all__ = [
    "DEFAULT_OPSET", "GraphModule", "OnnxOp", "UnsupportedNodeError", "UnsupportedOpError",
    "export", "load",
]  # fmt: skip
