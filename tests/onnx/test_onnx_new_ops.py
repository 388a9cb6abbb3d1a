"""ONNX export of the ops added for PyTorch parity (cumsum, prod, sinh, cosh), run by ONNX
Runtime against deepgrad's own forward pass."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import deepgrad  # noqa: E402
from deepgrad import nn  # noqa: E402


class UsesNewOps(nn.Module):
    def forward(self, x):
        a = x.cumsum(1) + x.sinh() * x.cosh()
        return a * x.prod(1, keepdim=True) + x.prod()


class UsesCumprod(nn.Module):
    def forward(self, x):
        return x.cumprod(1)


@pytest.mark.parametrize("opset", [13, 18])
def test_new_ops_export_and_run(opset):
    x = deepgrad.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)).astype(np.float32))
    model = UsesNewOps()
    proto = deepgrad.onnx.export(model, x, None, opset_version=opset)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {sess.get_inputs()[0].name: x._data})
    with deepgrad.no_grad():
        want = model(x)._data
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_cumprod_and_custom_functions_are_refused_by_name():
    x = deepgrad.ones(2, 3)
    with pytest.raises(deepgrad.onnx.UnsupportedOpError, match="CumProd|cumprod"):
        deepgrad.onnx.export(UsesCumprod(), x, None)
