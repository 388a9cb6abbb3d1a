"""``Linear`` (the fully connected layer) and ``Identity``."""

from __future__ import annotations

from deepgrad.nn.module import LayerInputError, Module
from deepgrad.nn.modules._weights import add_weight_and_bias, reset_affine
from deepgrad.ops.linalg import Linear as _LinearOp
from deepgrad.tensor import Tensor

_linear = _LinearOp.apply


def input_error(layer: Module, input, in_features: int, what: str = "in_features") -> Exception:
    """The error for an input a (Linear-like) layer cannot take: wrong type, dtype or width."""
    if not isinstance(input, Tensor):
        return TypeError(
            f"{type(layer).__name__} expects a deepgrad Tensor as input, got "
            f"{type(input).__name__}. Convert it first, e.g. torch.from_numpy(x).float() or "
            f"torch.tensor(x, dtype=torch.float32)."
        )
    shape = tuple(input.shape)
    x_dtype, w_dtype = input._data.dtype, layer.weight._data.dtype
    if x_dtype != w_dtype:
        to_input = {"float32": "x.float()", "float64": "x.double()"}.get(
            w_dtype.name, f"x.to(torch.{w_dtype})"
        )
        fix = f"Convert the input with {to_input}"
        if x_dtype.kind == "f":
            to_model = {"float32": "model.float()", "float64": "model.double()"}.get(
                x_dtype.name, f"model.to(torch.{x_dtype})"
            )
            fix += f", or the model with {to_model}"
        return LayerInputError(
            layer,
            f"({what}={in_features}) got input of dtype {x_dtype}, but its weights are {w_dtype}",
            fix + " (PyTorch raises for mixed dtypes too).",
        )
    if len(shape) == 0:
        return LayerInputError(
            layer, f"({what}={in_features}) got a 0-d input", "Pass at least a 1-D tensor."
        )
    return LayerInputError(
        layer,
        f"({what}={in_features}) got input of shape {shape}: its last dimension is "
        f"{shape[-1]}, but it must be {in_features}",
        f"The previous layer's out_features (or the data's number of features) must equal "
        f"{in_features}; flatten image batches first (nn.Flatten() or x.flatten(1)).",
    )


class Linear(Module):
    """Fully connected layer: y = x W^T + b.

    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,). Both start
    as PyTorch's: U(-1/sqrt(in_features), 1/sqrt(in_features)) (``kaiming_uniform_`` with
    a = sqrt(5) for the weight). The forward pass is one fused op with a single backward.

    Beyond PyTorch: an input of the wrong width, dtype or type raises an error that names this
    layer's path in the model (e.g. ``'layers.2'``), its in_features and the shape it got.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bias_size = out_features if bias else None
        add_weight_and_bias(self, (out_features, in_features), bias_size, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters
        weight = params["weight"]
        bias = params["bias"]
        try:
            dt = input._data.dtype
            if dt is not weight._data.dtype and dt != weight._data.dtype:
                raise ValueError  # mixed dtypes: explained by input_error below
            if bias is None:
                return _linear(input, weight)
            return _linear(input, weight, bias)
        except (ValueError, AttributeError):
            err = input_error(self, input, self.in_features)
        raise err

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer). Arguments are
    accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input
