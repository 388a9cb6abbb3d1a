"""Every op of the registry (tests/op_registry.py) through ONNX: exported as a one-op model,
ONNX Runtime computes what deepgrad computes (float32, 1e-5 of the largest output), or the
export refuses the op by name when it has no ONNX form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import deepgrad  # noqa: E402
from deepgrad import nn  # noqa: E402
from op_registry import OPS  # noqa: E402

# op name -> the deepgrad op the export must name: ops with no ONNX form (a user's Function,
# training-mode batch norm, losses, which belong outside an exported model; cumprod and svd)
REFUSED: dict[str, str] = {
    "custom_function": "Backward",
    "cumprod": "CumProd",
    "svd": "SVD",
    "batch_norm": "BatchNorm",
    "sync_batch_norm": "SyncBatchNormOp",
    "mse_loss": "MSELoss",
    "l1_loss": "L1Loss",
    "binary_cross_entropy": "BinaryCrossEntropy",
    "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogits",
    "cross_entropy": "CrossEntropy",
    "cross_entropy_probs": "CrossEntropy",
    "nll_loss": "NLLLoss",
    "multi_margin_loss": "MultiMargin",
    "kl_div": "KLDivergence",
}


class OneOp(nn.Module):
    def __init__(self, op, kwargs):
        super().__init__()
        self.op, self.kwargs = op, kwargs

    def forward(self, *xs):
        return self.op.dg(*xs, **self.kwargs)


def _inputs(arrays):
    """float32 inputs; booleans and integer class indices keep their dtype."""
    return [deepgrad.tensor(a if a.dtype.kind in "bi" else a.astype(np.float32)) for a in arrays]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(
    max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_registry_op_through_onnx_runtime(op, data):
    arrays, kwargs = op.sample(data.draw)
    xs = _inputs(arrays)
    model = OneOp(op, kwargs)
    if op.name in REFUSED:
        with pytest.raises(deepgrad.onnx.UnsupportedOpError, match=REFUSED[op.name]):
            deepgrad.onnx.export(model, tuple(xs), None)
        return
    proto = deepgrad.onnx.export(model, tuple(xs), None)
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {i.name: x._data for i, x in zip(sess.get_inputs(), xs)}
    used = {i.name for i in sess.get_inputs()}
    (got,) = sess.run(None, {k: v for k, v in feed.items() if k in used})
    with deepgrad.no_grad():
        ref = np.asarray(model(*xs)._data)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    scale = float(np.abs(ref).max()) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * max(scale, 1e-30))
