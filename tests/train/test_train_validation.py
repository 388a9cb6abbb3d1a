"""The validation split of ``deepgrad train``: seeded, held out of the training data, driving
the per-epoch metrics and early stopping (which keeps the best epoch's weights); the test set
is evaluated once, at the end.

Oracles: the split recomputed with ``train_test_split``, the model re-evaluated on the
validation data (its loss must be the best epoch's), the report's text.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepgrad import cli
from deepgrad.train import run
from deepgrad.train.fit import evaluate

ARGS = ["train", "--model", "mlp", "--dataset", "moons", "--samples", "200", "--hidden", "16",
        "--noise", "0.3", "--quiet"]  # fmt: skip


def test_validation_split_is_seeded_and_disjoint_from_the_training_data():
    config = run.resolve_config({"model": "mlp", "dataset": "moons", "samples": 200})
    a, _, _, _ = run.prepare(dict(config))
    b, _, _, _ = run.prepare(dict(config))
    np.testing.assert_array_equal(a.x_val._data, b.x_val._data)  # same seed, same split
    assert len(a.x_val) == 16 and len(a.x_train) == 144  # 10% of the 160 training points
    rows = {tuple(r) for r in a.x_train._data.round(6).tolist()}
    assert not rows & {tuple(r) for r in a.x_val._data.round(6).tolist()}
    c, _, _, _ = run.prepare(dict(config, seed=1))
    assert not np.array_equal(a.x_val._data, c.x_val._data)


def test_early_stopping_keeps_the_best_epochs_weights(tmp_path, capsys):
    out = tmp_path / "es"
    code = cli.main([*ARGS, "--epochs", "40", "--lr", "0.5", "--early-stopping", "2",
                     "--out", str(out)])  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    history = (out / "history.csv").read_text().splitlines()
    column = history[0].split(",").index("val_loss")
    val_losses = [float(r.split(",")[column]) for r in history[1:]]
    assert metrics["epochs"] < 40  # it stopped early
    best = int(np.argmin(val_losses))
    assert metrics["best_epoch"] == best + 1
    assert len(val_losses) == best + 1 + 2  # patience 2: two epochs without improvement
    # The saved model is the best epoch's: its validation loss is that epoch's.
    config, data, model, loss_fn = run.load_run(out)
    val = evaluate(model, loss_fn, (data.x_val, run.targets(config, data.y_val)))
    assert val["loss"] == pytest.approx(val_losses[best], rel=1e-6)
    report = (out / "report.md").read_text()
    assert f"the weights of the best epoch, {best + 1}, were kept" in report
    assert "The test set was evaluated once, after training" in report


def test_val_split_zero_trains_on_everything_and_early_stopping_needs_it(tmp_path, capsys):
    out = tmp_path / "all"
    assert cli.main([*ARGS, "--epochs", "1", "--val-split", "0", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["train_samples"], metrics["val_samples"]) == (160, 0)
    assert "No validation split" in (out / "report.md").read_text()
    code = cli.main([*ARGS, "--val-split", "0", "--early-stopping", "3",
                     "--out", str(tmp_path / "x")])  # fmt: skip
    assert code == 1
    assert "--early-stopping needs validation data" in capsys.readouterr().err
