"""The ``deepgrad`` command on small data: every subcommand, the run folder, resuming, and
argparse-style errors without tracebacks.

Oracles: the XOR rule itself (far from the axes the class is known), the model's own
``predict`` on the same image, an uninterrupted run for ``--resume``, files re-read from disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from safetensors.numpy import load_file

from deepgrad import cli
from deepgrad.data import DatasetNotFoundError, FashionMNIST


def run(capsys, *argv):
    """``deepgrad ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def _fashion_available() -> bool:
    try:
        FashionMNIST(train=False, download=False)
    except DatasetNotFoundError:
        return False
    return True


needs_fashion = pytest.mark.skipif(not _fashion_available(), reason="Fashion-MNIST not found")


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "xor"
    code = cli.main(
        [
            "train",
            "--model",
            "mlp",
            "--dataset",
            "xor",
            "--samples",
            "300",
            "--hidden",
            "16,16",
            "--epochs",
            "4",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


@pytest.mark.parametrize(
    "sub", ["train", "evaluate", "predict", "datasets", "summary", "gradcheck", None]
)
def test_help_everywhere(capsys, sub):
    code, out, _ = run(capsys, *([sub] if sub else []), "--help")
    assert code == 0
    assert out.startswith("usage: deepgrad" + (f" {sub}" if sub else ""))


def test_playground_help_is_passed_through(capsys):
    code, out, _ = run(capsys, "playground", "--help")
    assert code == 0 and "usage: deepgrad playground" in out and "--no-browser" in out


def test_train_writes_the_run_folder(xor_run):
    names = {p.name for p in xor_run.iterdir()}
    expected = {
        "model.safetensors",
        "checkpoint.safetensors",
        "config.json",
        "history.csv",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "boundary.png",
        "report.md",
    }
    assert names == expected  # no lock, no temporary files left behind
    metrics = json.loads((xor_run / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "train_accuracy", "epochs", "seconds"):
        assert key in metrics
    assert metrics["epochs"] == 4
    # The final evaluation agrees with the validation pass of the last epoch (two code paths),
    # and the validation data is 10% of the training data (300 * 0.8 = 240 -> 24).
    last = (xor_run / "history.csv").read_text().splitlines()[-1].split(",")
    header = (xor_run / "history.csv").read_text().splitlines()[0].split(",")
    assert float(last[header.index("val_accuracy")]) == pytest.approx(metrics["val_accuracy"])
    assert (metrics["train_samples"], metrics["val_samples"], metrics["test_samples"]) == (
        216,
        24,
        60,
    )
    report = (xor_run / "report.md").read_text()
    assert "The test set was evaluated once, after training" in report
    assert "![learning curves](curves.png)" in report and "(boundary.png)" in report
    assert f"{100 * metrics['test_accuracy']:.2f}%" in report
    for png in ("curves.png", "confusion.png", "boundary.png"):
        assert mpimg.imread(xor_run / png)[..., :3].var() > 0
    weights = load_file(xor_run / "model.safetensors")
    assert weights["1.weight"].shape == (16, 2)


def test_train_prints_accuracies_and_report(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "train",
        "--model",
        "logistic",
        "--dataset",
        "gauss",
        "--samples",
        "100",
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "g"),
    )
    assert code == 0
    assert "train accuracy" in out and "test accuracy" in out
    assert f"report: {tmp_path / 'g' / 'report.md'}" in out
    assert "epoch 2/2" in err  # the progress bar
    metrics = json.loads((tmp_path / "g" / "metrics.json").read_text())
    assert f"{100 * metrics['test_accuracy']:.2f}%" in out


def test_cross_validation_tests_every_sample_once(capsys, tmp_path):
    out = tmp_path / "cv"
    code, text, _ = run(
        capsys, "train", "--model", "mlp", "--dataset", "circle", "--samples", "90",
        "--epochs", "2", "--cv", "3", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    folds = [json.loads((out / f"fold-{i}" / "metrics.json").read_text()) for i in (1, 2, 3)]
    assert [m["test_samples"] for m in folds] == [30, 30, 30]
    assert all(m["train_samples"] + m["val_samples"] == 60 for m in folds)
    summary = json.loads((out / "cv.json").read_text())
    accuracies = [m["test_accuracy"] for m in folds]
    assert summary["folds"] == 3 and summary["test_accuracy_per_fold"] == accuracies
    assert summary["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert summary["test_accuracy_std"] == pytest.approx(np.std(accuracies))
    assert f"test accuracy {100 * np.mean(accuracies):.2f}%" in text
    configs = [json.loads((out / f"fold-{i}" / "config.json").read_text()) for i in (1, 2, 3)]
    assert [(c["folds"], c["fold"]) for c in configs] == [(3, 0), (3, 1), (3, 2)]


def test_evaluate_matches_training_metrics(capsys, xor_run):
    code, out, _ = run(capsys, "evaluate", str(xor_run))
    assert code == 0
    metrics = json.loads((xor_run / "metrics.json").read_text())
    assert f"test accuracy {100 * metrics['test_accuracy']:.2f}%" in out
    assert "precision" in out and "recall" in out


def test_predict_csv_follows_the_xor_rule(capsys, xor_run, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x1,x2\n4,4\n-4,-4\n-4,4\n4,-4\n")
    code, out, _ = run(capsys, "predict", str(xor_run), str(points))
    assert code == 0
    rows = out.strip().splitlines()
    assert rows[0] == "row,prediction,probability"
    # Class 1 where x1 * x2 > 0 (first and third quadrant).
    assert [r.split(",")[1] for r in rows[1:]] == ["class 1", "class 1", "class 0", "class 0"]


def test_resume_after_a_crash_equals_uninterrupted(capsys, tmp_path, monkeypatch):
    base = ["train", "--model", "mlp", "--dataset", "moons", "--samples", "120", "--hidden",
            "8", "--batch-size", "16", "--epochs", "3", "--quiet"]  # fmt: skip
    assert run(capsys, *base, "--out", str(tmp_path / "full"))[0] == 0

    from deepgrad.train.run import RunCheckpoint

    save = RunCheckpoint.on_epoch_end

    def save_then_crash(self, state, logs):
        save(self, state, logs)
        raise KeyboardInterrupt  # Ctrl-C right after the checkpoint of epoch 1

    monkeypatch.setattr(RunCheckpoint, "on_epoch_end", save_then_crash)
    code, _, err = run(capsys, *base, "--out", str(tmp_path / "part"))
    part = tmp_path / "part"
    assert code == 130
    assert f"{part} keeps the checkpoint of epoch 1 of 3: continue with deepgrad train " in err
    assert sorted(p.name for p in part.iterdir()) == ["checkpoint.safetensors", "config.json"]
    monkeypatch.undo()

    code, out, _ = run(capsys, "train", "--resume", str(tmp_path / "part"), "--quiet")
    assert code == 0 and "resuming" in out and "at epoch 2 of 3" in out
    full = load_file(tmp_path / "full" / "model.safetensors")
    resumed = load_file(tmp_path / "part" / "model.safetensors")
    for k in full:
        np.testing.assert_array_equal(full[k], resumed[k])
    m = json.loads((tmp_path / "part" / "metrics.json").read_text())
    assert m["epochs"] == 3
    full_history = (tmp_path / "full" / "history.csv").read_text().splitlines()
    part_history = (tmp_path / "part" / "history.csv").read_text().splitlines()
    column = full_history[0].split(",").index("val_loss")
    assert [r.split(",")[column] for r in part_history] == [
        r.split(",")[column] for r in full_history
    ]

    code, _, err = run(capsys, "train", "--resume", str(tmp_path / "part"), "--epochs", "3")
    assert code == 2 and "has trained 3 epochs" in err
    code, _, err = run(
        capsys, "train", "--resume", str(tmp_path / "part"), "--epochs", "5", "--lr", "0.5"
    )
    assert code == 2 and "--lr differs from the settings" in err


@needs_fashion
def test_softmax_on_fashion_mnist_with_limit(capsys, tmp_path):
    out = tmp_path / "fm"
    code, text, _ = run(
        capsys,
        "train",
        "--model",
        "softmax",
        "--dataset",
        "fashion-mnist",
        "--limit",
        "300",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0
    for png in ("weights.png", "confusion.png", "misclassified.png", "curves.png"):
        assert mpimg.imread(out / png)[..., :3].var() > 0
    assert "(weights.png)" in (out / "report.md").read_text()
    config = json.loads((out / "config.json").read_text())
    assert config["classes"][0] == "T-shirt/top" and config["input_shape"] == [1, 28, 28]

    # predict on a test image saved as PNG; the oracle is the model's own output on it.
    from deepgrad.train.fit import predict
    from deepgrad.train.run import load_trained_model, normalize

    x, _ = FashionMNIST(train=False).tensors()
    image = x._data[0, 0]
    _, model = load_trained_model(out)
    scores = predict(model, normalize(x[:1], config["normalization"]))._data[0]
    expected = config["classes"][int(scores.argmax())]
    mpimg.imsave(tmp_path / "img.png", image, cmap="gray", vmin=0, vmax=1)
    code, text, _ = run(capsys, "predict", str(out), str(tmp_path / "img.png"))
    assert code == 0 and text.startswith(f"img.png: {expected} (")
    # Twice the size, dark on light: shrunk back by averaging and inverted automatically.
    big = 1.0 - np.kron(image, np.ones((2, 2)))
    mpimg.imsave(tmp_path / "big.png", big, cmap="gray", vmin=0, vmax=1)
    code, _, err = run(capsys, "predict", str(out), str(tmp_path / "big.png"))
    assert code == 1 and "is 56x56 pixels, but the model was trained on 28x28" in err
    code, text, _ = run(capsys, "predict", str(out), str(tmp_path / "big.png"), "--resize")
    assert code == 0 and text.startswith(
        f"big.png (colours inverted: light background): {expected}"
    )


def test_datasets_lists_what_is_available(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name in ("fashion-mnist", "mnist", "iris", "spiral"):
        assert name in out


def test_summary_and_gradcheck(capsys):
    code, out, _ = run(capsys, "summary", "--model", "mlp")
    assert code == 0 and "535,818" in out  # the course MLP's parameter count
    code, out, _ = run(capsys, "gradcheck", "--model", "mlp", "--dataset", "iris", "--hidden", "5")
    assert code == 0 and "ok" in out and "FAIL" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "resnet", "--dataset", "xor"], "invalid choice: 'resnet'"),
        (["train", "--model", "mlp", "--dataset", "cifar"], "unknown dataset 'cifar'"),
        (["train", "--model", "mlp", "--dataset", "xor", "--epochs", "0"], "must be in 1..100,000"),
        (["train", "--model", "mlp", "--dataset", "xor", "--hidden", "a,b"], "like 512,256"),
        (["train", "--model", "mlp", "--dataset", "xor", "--lr", "-1"], "must be in (0, 10]"),
        (["train", "--dataset", "xor"], "required: --model"),
        (["train", "--model", "cnn", "--dataset", "iris"], "needs images"),
        (["train", "--model", "softmax", "--dataset", "xor", "--hidden", "4"], "only applies"),
        (["train", "--model", "mlp", "--dataset", "iris", "--noise", "0.1"], "only apply"),
        (["train", "--model", "mlp", "--dataset", "fashion-mnist", "--cv", "5"], "own"),
        (["train", "--model", "mlp", "--dataset", "iris", "--cv", "1"], "must be in 2..100, got 1"),
        (["train", "--resume", "runs/x", "--cv", "5"], "cannot --resume"),
        (["evaluate"], "required: RUN_DIR"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_get_usage_errors(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage: deepgrad" in err and message in err
    assert "Traceback" not in err


def test_runtime_errors_are_one_line_without_traceback(capsys, tmp_path, xor_run):
    code, _, err = run(capsys, "evaluate", str(tmp_path))
    assert code == 1 and err.startswith("deepgrad evaluate: error:") and "config.json" in err
    code, _, err = run(capsys, "train", "--model", "mlp", "--dataset", f"csv:{tmp_path}/no.csv")
    assert code == 1 and "no such file" in err
    (tmp_path / "a.txt").write_text("1,2\n")
    code, _, err = run(capsys, "predict", str(xor_run), str(tmp_path / "a.txt"))
    assert code == 2 and ".png image or a .csv file" in err
    code, _, err = run(capsys, "predict", str(xor_run), str(tmp_path / "a.png"))
    assert code == 2 and "does not exist" in err


def test_csv_dataset_and_console_script(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,answer"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{c}" for r, c in zip(x, label)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    script = Path(sys.executable).with_name("deepgrad")
    result = subprocess.run(
        [
            str(script),
            "train",
            "--model",
            "softmax",
            "--dataset",
            f"csv:{tmp_path}/d.csv",
            "--label-column",
            "answer",
            "--epochs",
            "5",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["classes"] == ["no", "yes"] and config["feature_names"] == ["a", "b", "c"]
    bad = subprocess.run([str(script), "train", "--epochs", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "usage:" in bad.stderr
