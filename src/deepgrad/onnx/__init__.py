"""``deepgrad.onnx``: export models to ONNX (``export``) and read ONNX graphs back (``load``).

Needs the ``onnx`` package (``pip install deepgrad[onnx]``); checking against ONNX Runtime
needs ``onnxruntime`` as well. See docs/ONNX.md for the opset and the op mapping table.
"""

from deepgrad.onnx.export import DEFAULT_OPSET, UnsupportedOpError, export
from deepgrad.onnx.load import GraphModule, OnnxOp, UnsupportedNodeError, load

__all__ = [
    "DEFAULT_OPSET", "GraphModule", "OnnxOp", "UnsupportedNodeError", "UnsupportedOpError",
    "export", "load",
]  # fmt: skip
