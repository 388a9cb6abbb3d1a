"""A trained run as one ONNX file that takes raw inputs: the run's input normalisation
(``(x - mean) / std`` with the training statistics) is the graph's first step. And the check
of such a file against deepgrad with ONNX Runtime on the run's test data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepgrad import nn
from deepgrad.creation import from_numpy
from deepgrad.onnx.export import export
from deepgrad.tensor import Tensor


class Normalize(nn.Module):
    """y = (x - mean) / std, the run's normalisation (mean and std are constants)."""

    def __init__(self, mean, std) -> None:
        super().__init__()
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    def forward(self, x: Tensor) -> Tensor:
        return (x - from_numpy(self.mean)) / from_numpy(self.std)

    def extra_repr(self) -> str:
        return f"mean={self.mean.round(4).tolist()}, std={self.std.round(4).tolist()}"


def with_normalization(model, config) -> nn.Sequential:
    """``Sequential(Normalize, model)``: the model of a run, fed raw inputs."""
    norm = config["normalization"]
    return nn.Sequential(Normalize(norm["mean"], norm["std"]), model)


def export_model_of_run(model, config, f, opset_version=None):
    """Export a run's trained ``model`` with its normalisation folded in; input ``input``
    (batch, *input_shape) of raw values, output ``logits``, both with a dynamic batch axis."""
    full = with_normalization(model, config)
    x = from_numpy(np.zeros((1, *config["input_shape"]), dtype=np.float32))
    return export(
        full,
        (x,),
        f,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=opset_version,
    )


def export_run(run_dir, out=None, opset_version=None) -> Path:
    """Write ``RUN_DIR/model.onnx`` (or ``out``) from a saved run; returns the path."""
    from deepgrad.train.run import load_trained_model

    config, model = load_trained_model(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / "model.onnx"
    export_model_of_run(model, config, path, opset_version)
    return path


def check_run(run_dir, path, limit=None, rtol: float = 1e-5, batch: int = 500) -> dict:
    """Run the ONNX file with ONNX Runtime on the run's raw test data and compare with the
    deepgrad model on the normalised data. ``ok`` when the outputs agree to ``rtol`` relative
    (against the largest output) and every predicted class is the same."""
    import onnxruntime as ort

    from deepgrad.autograd.grad_mode import no_grad
    from deepgrad.train.run import load_data, load_trained_model, normalize

    config, model = load_trained_model(run_dir)
    data = load_data(config)
    x = data.x_test if limit is None else data.x_test[:limit]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    worst, scale, same = 0.0, 0.0, 0
    for i in range(0, len(x), batch):
        raw = x[i : i + batch]
        (got,) = sess.run(None, {name: np.ascontiguousarray(raw._data, dtype=np.float32)})
        with no_grad():
            ref = model(normalize(raw, config["normalization"]))._data
        worst = max(worst, float(np.abs(got - ref).max()))
        scale = max(scale, float(np.abs(ref).max()))
        if ref.shape[1] == 1:
            same += int(((got > 0) == (ref > 0)).sum())
        else:
            same += int((got.argmax(1) == ref.argmax(1)).sum())
    rel = worst / scale if scale else worst
    return {
        "samples": len(x),
        "max_abs_diff": worst,
        "max_rel_diff": rel,
        "same_class": same,
        "ok": rel <= rtol and same == len(x),
    }
