"""``fit``, ``evaluate`` and ``predict``: the training loop as a convenience.

``fit`` is the explicit PyTorch loop, nothing more::

    for epoch in range(epochs):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

plus what one writes around it anyway: averages of the loss and metrics, a validation pass,
a progress bar, callbacks (early stopping, a learning-rate schedule, checkpoints) and a clear
stop at the first non-finite loss. Writing that loop by hand stays a first-class way to train;
read ``fit`` below to see that nothing else happens.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from deepgrad.autograd import no_grad
from deepgrad.creation import from_numpy
from deepgrad.device import move
from deepgrad.tensor import Tensor
from deepgrad.train.callbacks import Callback, FitState, LRSchedulerCallback
from deepgrad.train.history import History
from deepgrad.train.metrics import accuracy
from deepgrad.utils.interrupts import interrupts_deferred

METRICS: dict[str, Callable] = {"accuracy": accuracy}


class NonFiniteLossError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite."""


def fit(
    model,
    loss_fn,
    optimizer,
    train_data,
    val_data=None,
    epochs: int = 1,
    metrics: Sequence = ("accuracy",),
    callbacks: Sequence[Callback] = (),
    scheduler=None,
    progress: bool = True,
    *,
    batch_size: int = 32,
    shuffle: bool = True,
    initial_epoch: int = 0,
    history: History | None = None,
    eval_every: int | None = None,
) -> History:
    """Train ``model`` for epochs ``initial_epoch .. epochs - 1``; returns the :class:`History`.

    Each step minimises the mini-batch cost :math:`J(\\theta) = \\frac1B\\sum_i L(x_i, y_i,
    \\theta)` with ``optimizer`` (``zero_grad``, ``backward``, ``step``).

    Args:
        train_data, val_data: a ``DataLoader`` (or any iterable of ``(x, y)`` batches), a
            ``Dataset``, or a pair ``(X, y)`` of tensors / arrays, batched by ``batch_size``
            (shuffled each epoch with ``shuffle``, drawn from deepgrad's global generator).
        metrics: names (``"accuracy"``) or functions ``f(output, target) -> float`` computed
            per batch and averaged, weighted by batch size.
        callbacks: :class:`Callback` objects, e.g. ``EarlyStopping``, ``ModelCheckpoint``.
        scheduler: a learning-rate scheduler, stepped after every epoch (``ReduceLROnPlateau``
            with ``val_loss``, or ``train_loss`` without validation data).
        progress: show a tqdm bar per epoch with the running loss and accuracy.
        initial_epoch, history: continue a run (after ``load_checkpoint``) so epoch numbers,
            step counts and the history carry on.
        eval_every: also evaluate ``val_data`` every this many steps (for per-iteration test
            curves); by default only at the end of each epoch.

    Raises:
        NonFiniteLossError: at the first NaN or infinite loss, before that step changes the
            weights; the message names the epoch, the step, the last finite loss and the
            usual causes.
    """
    loader = as_loader(train_data, batch_size, shuffle)
    val_loader = as_loader(val_data, 1024, False) if val_data is not None else None
    history = History() if history is None else history
    names, fns = _metric_functions(metrics)
    state = FitState(model, optimizer, loss_fn, history, epochs, scheduler, initial_epoch - 1)
    state.step = int(history.epochs["step"][-1]) if history.epochs.get("step") else 0
    # The scheduler steps first, so checkpoints saved by later callbacks hold its new state.
    schedule = [LRSchedulerCallback(scheduler)] if scheduler is not None else []
    callbacks = schedule + list(callbacks)
    per_batch = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
    for cb in callbacks:
        cb.on_train_begin(state)
    for epoch in range(initial_epoch, epochs):
        state.epoch, started, lr = epoch, time.perf_counter(), optimizer.param_groups[0]["lr"]
        model.train()
        bar = _progress_bar(loader, epoch, epochs) if progress else None
        losses, values, sizes = [], [[] for _ in fns], []
        device = _model_device(model)
        for x, y in loader:
            if device is not None:  # batches come from host memory: one copy to the GPU each
                x, y = x.to(device), y.to(device)
            output = model(x)
            loss = loss_fn(output, y)
            value = float(loss)  # the one host read per batch
            if not math.isfinite(value):
                if bar is not None:
                    bar.close()
                raise NonFiniteLossError(_nan_message(value, losses, epoch, epochs, state, lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            state.step += 1
            losses.append(value)
            sizes.append(len(y))
            for v, f in zip(values, fns):
                v.append(f(output, y))
            for cb in per_batch:
                cb.on_batch_end(state, value)
            if bar is not None:
                bar.set_postfix_str(_postfix(losses, values, names), refresh=False)
                bar.update()
            if eval_every and val_loader is not None and state.step % eval_every == 0:
                _log_validation(model, loss_fn, val_loader, names, fns, history, state.step)
        logs = _epoch_logs(losses, values, names, sizes)
        if val_loader is not None:
            val = evaluate(model, loss_fn, val_loader, dict(zip(names, fns)))
            logs.update({"val_" + k: v for k, v in val.items()})
            history.log_validation(step=state.step, **{"val_" + k: v for k, v in val.items()})
        for key, column in [("loss", losses), *zip(names, values)]:  # per-step, in one go
            history.iterations.setdefault(key, []).extend(float(v) for v in column)
        history.log_epoch(**logs, lr=lr, step=state.step, seconds=time.perf_counter() - started)
        if bar is not None:
            bar.set_postfix_str(_postfix_logs(logs), refresh=False)
            bar.close()
        for cb in callbacks:
            cb.on_epoch_end(state, logs)
        if state.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(state)
    if progress:
        for m in state.messages:
            print(m, file=sys.stderr)
    return history


def evaluate(model, loss_fn, data, metrics=("accuracy",), batch_size: int = 1024) -> dict:
    """Average loss and metrics of ``model`` over ``data``, in eval mode without gradients.

    ``data`` is a ``DataLoader`` or ``(X, y)``. Returns ``{"loss": ..., "accuracy": ...}``
    (no ``loss`` when ``loss_fn`` is None). The loss is the batch-size weighted mean of
    ``loss_fn`` (which should use ``reduction="mean"``, the default), i.e. the mean over
    all samples. The model's training mode is restored afterwards.
    """
    names, fns = _metric_functions(metrics)
    loader = as_loader(data, batch_size, False)
    was_training = model.training
    model.eval()
    total, loss_sum, sums = 0, 0.0, [0.0] * len(fns)
    device = _model_device(model)
    try:
        with no_grad():
            for x, y in loader:
                if device is not None:
                    x, y = x.to(device), y.to(device)
                output = model(x)
                n = len(y)
                total += n
                if loss_fn is not None:
                    loss_sum += float(loss_fn(output, y)) * n
                for i, f in enumerate(fns):
                    sums[i] += f(output, y) * n
    finally:
        model.train(was_training)
    if total == 0:
        raise ValueError("evaluate: the data is empty")
    result = {"loss": loss_sum / total} if loss_fn is not None else {}
    result.update({name: s / total for name, s in zip(names, sums)})
    return result


def predict(model, data, batch_size: int = 1024) -> Tensor:
    """The model's outputs for every sample of ``data`` (a tensor / array of inputs, or a
    ``DataLoader`` whose batches start with the inputs), concatenated, in eval mode without
    gradients. Take ``.argmax(1)`` of the result for class predictions."""
    if isinstance(data, (Tensor, np.ndarray)):
        x = data if isinstance(data, Tensor) else from_numpy(np.asarray(data))
        batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
    else:
        batches = (b[0] if isinstance(b, (list, tuple)) else b for b in as_loader(data, batch_size))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            device = _model_device(model)
            outputs = [
                move(model(x if device is None else x.to(device))._data, "cpu") for x in batches
            ]
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: the data is empty")
    return from_numpy(np.concatenate(outputs))


# ---------------------------------------------------------------------------- helpers
def _model_device(model):
    """The device of the model's parameters when it is not the CPU (batches go there)."""
    p = next(iter(model.parameters()), None)
    return None if p is None or p.device.type == "cpu" else p.device


def as_loader(data, batch_size: int | None = 32, shuffle: bool = False):
    """``data`` as something that yields ``(x, y)`` batches: DataLoaders and other iterables
    pass through; a ``Dataset`` or an ``(X, y)`` pair gets a ``DataLoader``."""
    from deepgrad.data import DataLoader, Dataset, TensorDataset

    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (t if isinstance(t, Tensor) else from_numpy(np.asarray(t)) for t in data)
        if len(x) != len(y):
            raise ValueError(f"fit: X has {len(x)} samples but y has {len(y)}; pass one label each")
        data = TensorDataset(x, y)
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"fit: cannot iterate over {type(data).__name__}; pass a DataLoader or a pair (X, y)"
        )
    return data


def _metric_functions(metrics) -> tuple[list[str], list[Callable]]:
    if isinstance(metrics, dict):
        return list(metrics), list(metrics.values())
    names, fns = [], []
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)}, or a function")
            names.append(m)
            fns.append(METRICS[m])
        else:
            names.append(getattr(m, "__name__", "metric"))
            fns.append(m)
    return names, fns


def _epoch_logs(losses, values, names, sizes) -> dict[str, float]:
    if not losses:
        raise ValueError("fit: the training data yielded no batches")
    w = np.asarray(sizes, dtype=np.float64)
    logs = {"train_loss": float(np.dot(losses, w) / w.sum())}
    for name, v in zip(names, values):
        logs["train_" + name] = float(np.dot(v, w) / w.sum())
    return logs


def _postfix(losses, values, names) -> str:
    # Running means of the last few batches: cheap, and what the bar needs.
    k = min(len(losses), 20)
    text = f"loss {sum(losses[-k:]) / k:.4f}"
    if "accuracy" in names:
        acc = values[names.index("accuracy")][-k:]
        text += f" acc {100 * sum(acc) / k:.1f}%"
    return text


def _postfix_logs(logs: dict[str, float]) -> str:
    parts = []
    for key, value in logs.items():
        short = key.replace("accuracy", "acc").replace("train_", "")
        parts.append(f"{short} {100 * value:.1f}%" if "acc" in short else f"{short} {value:.4f}")
    return " ".join(parts)


def _progress_bar(loader, epoch: int, epochs: int):
    """The epoch's tqdm bar, built with Ctrl-C held back: a KeyboardInterrupt inside tqdm's
    constructor leaves an object without its ``pos``, whose ``__del__`` then prints a traceback
    under the run's "interrupted" message (seen once in the 50-kill fault test)."""
    from tqdm.auto import tqdm

    total = len(loader) if hasattr(loader, "__len__") else None
    with interrupts_deferred():
        return tqdm(
            total=total,
            desc=f"epoch {epoch + 1}/{epochs}",
            unit="batch",
            leave=True,
            dynamic_ncols=True,
            file=sys.stderr,
        )


def _log_validation(model, loss_fn, val_loader, names, fns, history, step) -> None:
    val = evaluate(model, loss_fn, val_loader, dict(zip(names, fns)))
    history.log_validation(step=step, **{"val_" + k: v for k, v in val.items()})


def _nan_message(value, losses, epoch, epochs, state, lr) -> str:
    last = (
        f"the last finite loss was {losses[-1]:.6g} (step {len(losses)} of this epoch)"
        if losses
        else "it was not finite from the first batch of this epoch on"
    )
    return (
        f"fit: the loss became {value} at epoch {epoch + 1}/{epochs}, step {len(losses) + 1} "
        f"of the epoch ({state.step + 1} overall); {last}. Training stopped before this step "
        f"changed the weights. Usual causes: the learning rate is too high (lr={lr:g}; try 10x "
        "smaller), the inputs are not normalised (standardise features to mean 0 and std 1), "
        "or a log of zero / overflow in exp (use the fused nn.CrossEntropyLoss or "
        "nn.BCEWithLogitsLoss on logits instead of log(softmax(x)) or Sigmoid + BCELoss)."
    )
