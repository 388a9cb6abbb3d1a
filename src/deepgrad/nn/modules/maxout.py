"""``Maxout``: the maximum over several affine maps (course: max(w1^T x + b1, w2^T x + b2))."""

from __future__ import annotations

from deepgrad.nn.module import Module
from deepgrad.nn.modules._weights import add_weight_and_bias, reset_affine
from deepgrad.nn.modules.linear import input_error
from deepgrad.ops.linalg import Linear as _LinearOp
from deepgrad.tensor import Tensor


class Maxout(Module):
    """y_j = max_k (x W_{j,k}^T + b_{j,k}) for k = 1..pieces (Goodfellow et al., 2013).

    A learned, piecewise-linear activation: with ``pieces=2`` and one piece fixed at 0 it is a
    ReLU, with a second piece of slope 0.1 a leaky ReLU. Not in PyTorch (deepgrad only).

    ``weight`` is (out_features * pieces, in_features) and ``bias`` (out_features * pieces,);
    row ``j * pieces + k`` is piece k of output j, initialised like ``nn.Linear``. The gradient
    of the max flows to the winning piece (ties share it evenly).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int = 2,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout needs at least 1 piece, got pieces={pieces}")
        self.in_features = in_features
        self.out_features = out_features
        self.pieces = pieces
        rows = out_features * pieces
        add_weight_and_bias(self, (rows, in_features), rows if bias else None, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        weight, bias = self.weight, self.bias
        try:
            dt = input._data.dtype
            if dt is not weight._data.dtype and dt != weight._data.dtype:
                raise ValueError
            z = (
                _LinearOp.apply(input, weight)
                if bias is None
                else _LinearOp.apply(input, weight, bias)
            )
        except (ValueError, AttributeError):
            err = input_error(self, input, self.in_features)
        else:
            return z.reshape(z.shape[:-1] + (self.out_features, self.pieces)).amax(-1)
        raise err

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"pieces={self.pieces}, bias={self.bias is not None}"
        )
