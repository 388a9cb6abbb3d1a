"""``fit``, ``evaluate``, ``predict``, ``History`` and the callbacks.

Oracles: the explicit PyTorch-style loop written out by hand (fit must give the very same
weights), torch's cross entropy over the whole data set, the learning-rate formulas of the
schedules, and hand-made loss sequences.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import models, nn, optim
from deepgrad.data import DataLoader, TensorDataset, gauss, standardize, xor
from deepgrad.train import (
    EarlyStopping,
    FitState,
    History,
    LRSchedulerCallback,
    NonFiniteLossError,
    evaluate,
    fit,
    predict,
)


def _toy(n=200, seed=0, fn=xor):
    x, y = fn(n, 0.0, seed=seed)
    x, _, _ = standardize(x)
    return x, y


def test_fit_learns_and_records_history():
    x, y = _toy(400)
    xv, yv = _toy(200, seed=1)
    model = models.mlp(2, (16, 16), 2)
    opt = optim.Adam(model.parameters(), lr=0.02)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    h = fit(model, nn.CrossEntropyLoss(), opt, loader, (xv, yv), epochs=6, progress=False)

    assert isinstance(h, History) and len(h) == 6
    assert h["val_accuracy"][-1] > h["val_accuracy"][0]
    assert h["val_accuracy"][-1] >= 0.9
    steps = len(loader)
    assert len(h.iterations["loss"]) == len(h.iterations["accuracy"]) == 6 * steps
    assert h.epochs["step"] == [float(steps * (e + 1)) for e in range(6)]
    assert h.epochs["lr"] == [0.02] * 6
    # The epoch's train loss is the batch-size weighted mean of its per-iteration losses.
    sizes = np.array([32] * (steps - 1) + [400 - 32 * (steps - 1)], dtype=np.float64)
    first = np.asarray(h.iterations["loss"][:steps])
    assert h["train_loss"][0] == pytest.approx(float(first @ sizes / sizes.sum()), rel=1e-12)
    # The last validation values are those of evaluate() on the final weights.
    final = evaluate(model, nn.CrossEntropyLoss(), (xv, yv))
    assert h["val_loss"][-1] == pytest.approx(final["loss"])
    assert h["val_accuracy"][-1] == pytest.approx(final["accuracy"])
    assert h.val_iterations["step"] == h.epochs["step"]
    assert set(History.from_dict(h.to_dict()).epochs) == set(h.epochs)


def test_fit_is_the_explicit_loop():
    """fit must do exactly zero_grad / backward / step per batch: same weights, bit for bit."""
    x, y = _toy(150)

    def run(use_fit: bool):
        deepgrad.manual_seed(3)
        model = models.mlp(2, (8,), 2)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
        if use_fit:
            fit(model, loss_fn, opt, loader, epochs=3, progress=False)
        else:
            for _ in range(3):
                for xb, yb in loader:
                    loss = loss_fn(model(xb), yb)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        return [p._data.copy() for p in model.parameters()]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_fit_accepts_tensor_pairs_and_checks_lengths():
    x, y = _toy(64)
    model = models.logistic(2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    yf = y.float().reshape(-1, 1)
    h = fit(model, nn.BCEWithLogitsLoss(), opt, (x, yf), epochs=2, batch_size=16, progress=False)
    assert len(h.iterations["loss"]) == 2 * 4
    with pytest.raises(ValueError, match="X has 64 samples but y has 10"):
        fit(model, nn.BCEWithLogitsLoss(), opt, (x, yf[:10]), progress=False)


def test_nan_stop_with_huge_learning_rate():
    x, y = gauss(200, 0.1, seed=0)
    x = x * 100  # not normalised, and lr far too high: the classic divergence
    model = models.mlp(2, (32,), 2)
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=20, batch_size=20, progress=False)
    msg = str(info.value)
    assert "epoch" in msg and "step" in msg
    assert "learning rate is too high (lr=1e+06" in msg
    assert "normalis" in msg and "CrossEntropyLoss" in msg
    assert isinstance(info.value, FloatingPointError)


def test_nan_stop_names_step_and_last_finite_loss_and_keeps_weights():
    x, y = _toy(40)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()
    seen = []

    def loss_fn(out, target):  # finite for 6 batches, then NaN
        loss = ce(out, target)
        if len(seen) == 6:
            loss = loss * float("nan")
        seen.append(float(loss))
        return loss

    snapshot = {}

    class Snap(LRSchedulerCallback.__mro__[1]):  # a plain Callback
        def on_batch_end(self, state, loss):
            snapshot["w"] = [p._data.copy() for p in model.parameters()]

    with pytest.raises(NonFiniteLossError) as info:
        fit(
            model, loss_fn, opt, (x, y), epochs=3, batch_size=10, callbacks=[Snap()], progress=False
        )
    msg = str(info.value)
    # 4 batches per epoch: the 7th batch is epoch 2, step 3 of that epoch, 7th overall.
    assert "at epoch 2/3, step 3 of the epoch (7 overall)" in msg
    assert f"last finite loss was {seen[5]:.6g}" in msg
    for p, w in zip(model.parameters(), snapshot["w"]):
        np.testing.assert_array_equal(p._data, w)  # the NaN step changed nothing


def test_early_stopping_stops_after_patience():
    x, y = _toy(64)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.0)  # nothing changes: val_loss never improves
    stop = EarlyStopping(monitor="val_loss", patience=2)
    h = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        (x, y),
        (x, y),
        epochs=50,
        callbacks=[stop],
        progress=False,
    )
    assert len(h) == 3  # the first epoch sets the best, then 2 without improvement
    assert stop.stopped_epoch == 2 and stop.best_epoch == 0


def test_early_stopping_restores_best_weights():
    model = nn.Linear(1, 1, bias=False)
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    state = FitState(model, None, None, History(), epochs=10)
    for epoch, value in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
        state.epoch = epoch
        model.weight._data[...] = epoch
        stop.on_epoch_end(state, {"val_loss": value})
        if state.stop_training:
            break
    assert state.epoch == 3 and stop.best == 0.5
    stop.on_train_end(state)
    assert model.weight._data.item() == 1.0  # the weights of epoch 1, the best
    with pytest.raises(KeyError, match="val_accuracy"):
        EarlyStopping("val_accuracy").on_epoch_end(state, {"val_loss": 1.0})


def test_scheduler_is_stepped_each_epoch():
    x, y = _toy(32)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, scheduler=sched, progress=False)
    assert h.epochs["lr"] == pytest.approx([0.1, 0.05, 0.025])  # lr_e = 0.1 * 0.5^e
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_reduce_on_plateau_uses_val_loss():
    x, y = _toy(32)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=1e-5)  # so small that val_loss stays flat
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    fit(
        model, nn.CrossEntropyLoss(), opt, (x, y), (x, y), epochs=4, scheduler=sched, progress=False
    )
    # PyTorch's rule: halve once more than `patience` epochs in a row brought no improvement
    # (epochs 2 and 3), then count again from zero.
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-6)


def test_evaluate_is_the_mean_over_all_samples():
    x, y = _toy(101)
    model = models.mlp(2, (8,), 2)
    result = evaluate(model, nn.CrossEntropyLoss(), (x, y), batch_size=7)
    with deepgrad.no_grad():
        logits = torch.from_numpy(model(x)._data.copy())
    target = torch.from_numpy(y._data)
    expected = torch.nn.functional.cross_entropy(logits, target).item()
    assert result["loss"] == pytest.approx(expected, rel=1e-6)
    acc = (logits.argmax(1) == target).double().mean().item()
    assert result["accuracy"] == pytest.approx(acc, abs=1e-12)


def test_predict_uses_eval_mode_and_restores_it():
    model = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    x = deepgrad.randn(50, 3)
    model.train()
    out = predict(model, x, batch_size=16)
    model.eval()
    with deepgrad.no_grad():
        expected = model(x)
    model.train()
    np.testing.assert_allclose(out._data, expected._data, rtol=1e-6, atol=1e-7)
    assert model.training
    assert not out.requires_grad


def test_eval_every_records_per_iteration_test_values():
    x, y = _toy(64)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        (x, y),
        (x, y),
        epochs=2,
        batch_size=16,
        eval_every=2,
        progress=False,
    )
    assert h.val_iterations["step"] == [2, 4, 4, 6, 8, 8]
    assert all(math.isfinite(v) for v in h.val_iterations["val_loss"])


def test_progress_bar_shows_loss_and_accuracy(capsys):
    x, y = _toy(64)
    model = models.softmax(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), (x, y), epochs=1, batch_size=16)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "val_acc" in err and "loss" in err


def test_ctrl_c_inside_the_progress_bars_constructor_leaves_no_traceback(monkeypatch):
    """A SIGINT that lands while tqdm builds the epoch's bar (as one of the fault test's 50
    kills once did) comes out as KeyboardInterrupt after the bar is whole: its ``__del__`` then
    has everything it needs, and nothing is printed as an ignored exception."""
    import gc
    import importlib
    import signal

    from tqdm import std

    fit_module = importlib.import_module("deepgrad.train.fit")  # the module, not the function

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    real_ema, signalled = std.EMA, []

    def ema_after_a_ctrl_c(*args):  # tqdm makes these after `disable`, before `pos`
        if not signalled:
            signalled.append(True)
            signal.raise_signal(signal.SIGINT)  # raised at the next bytecode boundary
        return real_ema(*args)

    monkeypatch.setattr(std, "EMA", ema_after_a_ctrl_c)
    interrupted = False
    try:
        fit_module._progress_bar([1, 2, 3], epoch=0, epochs=1)
    except KeyboardInterrupt:  # (not pytest.raises: its traceback would keep the bar alive)
        interrupted = True
    gc.collect()  # the bar, if half built, is deleted here
    assert interrupted
    assert [str(u.exc_value) for u in unraisable] == []
