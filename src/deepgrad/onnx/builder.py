"""``GraphBuilder``: collects ONNX nodes and initializers through the ``onnx.helper`` API."""

from __future__ import annotations

import numpy as np

import onnx
from onnx import helper, numpy_helper


class GraphBuilder:
    """Nodes and constants of the graph being built; every value gets a fresh, unique name."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self._count: dict[str, int] = {}

    def fresh(self, hint: str) -> str:
        n = self._count.get(hint, 0)
        self._count[hint] = n + 1
        return hint if n == 0 and hint not in self.initializers else f"{hint}_{n}"

    def initializer(self, array, name: str) -> str:
        """Add ``array`` as an initializer called ``name`` (a parameter or buffer)."""
        self.initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def const(self, array, dtype=None, hint: str = "_const") -> str:
        """A constant initializer (names starting with ``_const`` are not parameters)."""
        a = np.asarray(array, dtype=dtype)
        return self.initializer(a, self.fresh(hint))

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def node(self, op_type: str, inputs, out: str | None = None, **attrs) -> str:
        out = out or self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """ReduceX over ``axes`` (None: all); the axes moved from attribute to input in
        opset 18 (ReduceSum already in 13)."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op_type, [x], keepdims=keep)
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes)], keepdims=keep)
        return self.node(op_type, [x], axes=axes, keepdims=keep)
