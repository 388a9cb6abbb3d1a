"""Export a playground session's network to ONNX, features included: the graph takes the
raw points (n, 2), computes the chosen features (x1^2, sin x2 ...) and runs the network, so
it gives the same outputs as the page's ``predict``."""

from __future__ import annotations

import io

import numpy as np

import deepgrad
from deepgrad import nn
from deepgrad.playground.session import build_model, make_features

ONNX_NAME = "playground_model.onnx"


class Features(nn.Module):
    """The page's input features of points (n, 2): ``make_features`` as a layer."""

    def __init__(self, features) -> None:
        super().__init__()
        self.features = list(features)

    def forward(self, x):
        return make_features(x, self.features)

    def extra_repr(self) -> str:
        return ", ".join(self.features)


def onnx_bytes(state: dict) -> bytes:
    """The session's trained network (from ``Session.export_state``) as an ONNX file: input
    ``points`` (batch, 2), output ``output`` (class logits, or the regression value)."""
    from deepgrad.onnx import export

    config = state["config"]
    n_out = state["n_classes"] if state["task"] == "classification" else 1
    net = build_model(len(config.features), config.hidden, config.activation, n_out)
    net.load_state_dict({k: deepgrad.from_numpy(v) for k, v in state["state_dict"].items()})
    model = nn.Sequential(Features(config.features), net)
    buf = io.BytesIO()
    export(
        model,
        (deepgrad.from_numpy(np.zeros((1, 2), dtype=np.float32)),),
        buf,
        input_names=["points"],
        dynamic_axes={"points": {0: "batch"}, "output": {0: "batch"}},
    )
    return buf.getvalue()
