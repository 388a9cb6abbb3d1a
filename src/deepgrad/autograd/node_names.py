"""What PyTorch calls each graph node: ``grad_fn.name()`` and the ``AccumulateGrad`` nodes of
``grad_fn.next_functions``, so printed graphs read the same in deepgrad and PyTorch."""

from __future__ import annotations


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``; ``variable`` is the leaf."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other) -> bool:  # one leaf, one AccumulateGrad (torch keeps one per leaf)
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


# PyTorch's grad_fn names for deepgrad's ops (the ones whose name is not "<Op>Backward0").
_TORCH_NAMES = {
    "PowScalar": "PowBackward0",
    "Pow": "PowBackward1",
    "ReLU": "ReluBackward0",
    "Clamp": "ClampBackward1",
    "Cast": "ToCopyBackward0",
    "Var": "VarBackward0",
    "AMax": "AmaxBackward0",
    "Norm": "LinalgVectorNormBackward0",
    "LogSumExp": "LogsumexpBackward0",
    "CumSum": "CumsumBackward0",
    "CumProd": "CumprodBackward0",
    "Reshape": "ViewBackward0",
    "Contiguous": "CloneBackward0",
    "MSELoss": "MseLossBackward0",
    "L1Loss": "MeanBackward0",
    "CrossEntropy": "NllLossBackward0",
    "NLLLoss": "NllLossBackward0",
    "KLDivergence": "MeanBackward0",
    "LeakyReLU": "LeakyReluBackward0",
    "ELU": "EluBackward0",
    "GELU": "GeluBackward0",
    "SiLU": "SiluBackward0",
    "Softsign": "DivBackward0",
    "Linear": "AddmmBackward0",
    "BatchNorm": "NativeBatchNormBackward0",
    "Conv2d": "ConvolutionBackward0",
    "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0",
    "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
}


def torch_node_name(node) -> str:
    """The name PyTorch gives the node of the same computation (``SumBackward1`` for a sum
    over dims, ``MmBackward0`` for a matrix product, ...). Keyed by ``op_name()``, so a device's
    variant of an op (``CrossEntropyCUDA``) gets the op's name."""
    cls = node.op_name()
    if cls in ("Sum", "Mean"):
        return f"{cls}Backward{0 if getattr(node, 'axes', None) is None else 1}"
    if cls == "Prod":
        return f"ProdBackward{0 if getattr(node, 'axis', None) is None else 1}"
    if cls in ("MaxAll", "MaxDim"):
        kind = "Max" if getattr(node, "largest", True) else "Min"
        return f"{kind}Backward{1 if cls == 'MaxAll' else 0}"
    if cls == "MatMul" and len(node.inputs) == 2:
        dims = (node.inputs[0].ndim, node.inputs[1].ndim)
        return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}.get(
            dims, "UnsafeViewBackward0"
        )
    if cls == "Index":
        key = getattr(node, "key", None)
        if getattr(node, "advanced", False):
            return "IndexBackward0"
        if isinstance(key, int):
            return "SelectBackward0"
        if isinstance(key, slice):
            return "SliceBackward0"
        return "IndexBackward0"
    return _TORCH_NAMES.get(cls, f"{cls}Backward0")
