"""Callbacks for ``fit``: early stopping, learning-rate schedules, per-epoch checkpoints.

A callback is an object with any of the methods of :class:`Callback`. Each method receives the
:class:`FitState` of the run (model, optimiser, history, ...), and may set
``state.stop_training = True`` to end training after the current epoch. ``on_batch_end`` is
only called for callbacks that define it, so the others cost nothing per batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FitState:
    """What ``fit`` shares with its callbacks."""

    model: Any
    optimizer: Any
    loss_fn: Any
    history: Any
    epochs: int
    scheduler: Any = None
    epoch: int = 0  # index of the current epoch (0-based)
    step: int = 0  # optimiser steps done so far
    stop_training: bool = False
    messages: list[str] = field(default_factory=list)  # printed by fit at the end


class Callback:
    """Base class; override the hooks you need (all optional)."""

    def on_train_begin(self, state: FitState) -> None:
        pass

    def on_batch_end(self, state: FitState, loss: float) -> None:
        pass

    def on_epoch_end(self, state: FitState, logs: dict[str, float]) -> None:
        pass

    def on_train_end(self, state: FitState) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Same arguments as Keras' ``EarlyStopping``: ``mode`` is ``"min"``, ``"max"`` or ``"auto"``
    (``min`` for names containing "loss", else ``max``). With ``restore_best_weights`` the model
    gets the weights of the best epoch back when training ends.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 5,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.mode = ("min" if "loss" in monitor else "max") if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch = -1
        self._best_state = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, state: FitState, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping: monitor {self.monitor!r} is not among the logged values "
                f"{sorted(logs)}; pass val_data to fit to monitor a val_ value"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, state.epoch, 0
            if self.restore_best_weights:
                self._best_state = {k: v._data.copy() for k, v in state.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = state.epoch
            state.stop_training = True
            state.messages.append(
                f"early stopping after epoch {state.epoch + 1}: {self.monitor} has not improved "
                f"for {self.patience} epochs (best {self.best:.4g} at epoch {self.best_epoch + 1})"
            )

    def on_train_end(self, state: FitState) -> None:
        if self.restore_best_weights and self._best_state is not None:
            state.model.load_state_dict(self._best_state)

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue early stopping exactly (best weights included)."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_state": self._best_state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        best = state.get("best_state")
        self._best_state = None if best is None else {k: np.asarray(v) for k, v in best.items()}


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (or every batch with
    ``interval="step"``). ``ReduceLROnPlateau`` is stepped with the logged value ``monitor``."""

    def __init__(self, scheduler, monitor: str = "val_loss", interval: str = "epoch") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(
                f"LRSchedulerCallback: interval must be 'epoch' or 'step', got {interval!r}"
            )
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval

    def _plateau(self) -> bool:
        from deepgrad.optim.lr_scheduler import ReduceLROnPlateau

        return isinstance(self.scheduler, ReduceLROnPlateau)

    def on_batch_end(self, state: FitState, loss: float) -> None:
        if self.interval == "step":
            self.scheduler.step(loss) if self._plateau() else self.scheduler.step()

    def on_epoch_end(self, state: FitState, logs: dict[str, float]) -> None:
        if self.interval != "epoch":
            return
        if self._plateau():
            monitor = self.monitor if self.monitor in logs else "train_loss"
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()


class ModelCheckpoint(Callback):
    """Save the whole training state to ``folder`` after every ``every`` epochs (and at the
    end), with :func:`deepgrad.train.checkpoint.save_checkpoint`, so a crash loses at most
    ``every`` epochs and ``load_checkpoint`` + ``fit(initial_epoch=...)`` resumes bit for bit.
    ``extra`` (JSON-able) is stored alongside."""

    def __init__(self, folder, every: int = 1, generator=None, extra: dict | None = None):
        self.folder = folder
        self.every = every
        self.generator = generator
        self.extra = extra
        self._saved_epoch = None

    def _save(self, state: FitState) -> None:
        from deepgrad.train.checkpoint import save_checkpoint

        save_checkpoint(
            self.folder,
            state.model,
            state.optimizer,
            state.scheduler,
            epoch=state.epoch + 1,
            history=state.history,
            generator=self.generator,
            extra=self.extra,
        )
        self._saved_epoch = state.epoch

    def on_epoch_end(self, state: FitState, logs: dict[str, float]) -> None:
        if (state.epoch + 1) % self.every == 0 or state.epoch + 1 == state.epochs:
            self._save(state)

    def on_train_end(self, state: FitState) -> None:
        if self._saved_epoch != state.epoch and len(state.history):
            self._save(state)
