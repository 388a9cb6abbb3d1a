"""``deepgrad export RUN --format onnx``: the file takes raw inputs (the run's normalisation is
in the graph) and ONNX Runtime reproduces the run's model on its test data (the oracle: the
deepgrad model on the normalised data)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from deepgrad import cli  # noqa: E402


def run(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "moons"
    argv = ["train", "--model", "mlp", "--dataset", "moons", "--samples", "200", "--hidden",
            "8", "--epochs", "2", "--out", str(out), "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    return out


def test_export_with_check(capsys, moons_run):
    code, out, err = run(capsys, "export", str(moons_run), "--format", "onnx", "--check")
    assert code == 0, err
    assert "OK" in out and "same class for 40/40" in out
    path = moons_run / "model.onnx"
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert proto.graph.node[0].op_type == "Sub" and proto.graph.node[1].op_type == "Div"

    # raw points in, the trained model's logits on the normalised points out
    from deepgrad.train.run import load_trained_model, normalize

    config, model = load_trained_model(moons_run)
    raw = np.array([[0.0, 0.5], [1.5, -0.3], [-1.0, 1.0]], dtype=np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"input": raw})
    import deepgrad

    ref = model(normalize(deepgrad.tensor(raw), config["normalization"]))._data
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_export_to_a_chosen_file(capsys, moons_run, tmp_path):
    target = tmp_path / "m.onnx"
    code, out, _ = run(capsys, "export", str(moons_run), "--out", str(target), "--opset", "18")
    assert code == 0 and target.is_file() and "opset 18" in out
    assert onnx.load(str(target)).opset_import[0].version == 18


def test_export_refuses_what_it_cannot(capsys, moons_run, tmp_path):
    code, _, err = run(capsys, "export", str(tmp_path))
    assert code == 1 and "not a deepgrad run folder" in err
    code, _, err = run(capsys, "export", str(moons_run), "--opset", "7")
    assert code == 1 and "opset_version 7 is not supported" in err
    code, _, err = run(capsys, "export", str(moons_run), "--format", "tflite")
    assert code == 2 and "invalid choice" in err
