"""``History``: the losses and metrics recorded by ``fit``, per epoch and per iteration."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path


class History:
    """What happened during training, as lists of floats (like Keras' ``History``).

    - ``epochs``: one value per epoch under ``train_loss``, ``train_<metric>``, ``val_loss``,
      ``val_<metric>`` (when there is validation data), ``lr`` (first group's learning rate),
      ``step`` (iterations done by the end of the epoch) and ``seconds`` (time of the epoch).
      ``train_*`` are averages over the epoch's batches, weighted by batch size, measured while
      the weights were changing (the cheap estimate; ``evaluate`` gives the exact one).
    - ``iterations``: one value per optimiser step under ``loss`` and each metric (on that
      batch), the course's "cost vs. iteration number".
    - ``val_iterations``: ``step``, ``val_loss``, ``val_<metric>`` each time the validation
      data was evaluated (every ``eval_every`` steps and at the end of every epoch).

    ``history["val_accuracy"]`` is a shortcut for ``history.epochs["val_accuracy"]``.
    """

    def __init__(self) -> None:
        self.epochs: dict[str, list[float]] = {}
        self.iterations: dict[str, list[float]] = {}
        self.val_iterations: dict[str, list[float]] = {}

    @staticmethod
    def _append(table: dict[str, list[float]], values: dict[str, float]) -> None:
        for key, value in values.items():
            table.setdefault(key, []).append(float(value))

    def log_epoch(self, **values: float) -> None:
        """Append one epoch's values (e.g. ``train_loss=0.3, val_accuracy=0.9``)."""
        self._append(self.epochs, values)

    def log_iteration(self, **values: float) -> None:
        """Append one optimiser step's values."""
        self._append(self.iterations, values)

    def log_validation(self, **values: float) -> None:
        """Append one evaluation of the validation data during training."""
        self._append(self.val_iterations, values)

    def __getitem__(self, key: str) -> list[float]:
        return self.epochs[key]

    def __contains__(self, key: str) -> bool:
        return key in self.epochs

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return max((len(v) for v in self.epochs.values()), default=0)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.epochs.items() if v)
        return f"History({len(self)} epochs, {len(self.iterations.get('loss', []))} steps; {last})"

    def best(self, key: str, mode: str = "auto") -> tuple[int, float]:
        """``(epoch index, value)`` of the best ``key``: the minimum for losses, else maximum."""
        values = self.epochs[key]
        if mode == "auto":
            mode = "min" if "loss" in key else "max"
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=lambda j: (math.isnan(values[j]), values[j]))
        return i, values[i]

    # -------------------------------------------------------------- saving
    def to_dict(self) -> dict:
        return {
            "epochs": {k: list(v) for k, v in self.epochs.items()},
            "iterations": {k: list(v) for k, v in self.iterations.items()},
            "val_iterations": {k: list(v) for k, v in self.val_iterations.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> History:
        h = cls()
        for name in ("epochs", "iterations", "val_iterations"):
            setattr(h, name, {k: [float(x) for x in v] for k, v in (d.get(name) or {}).items()})
        return h

    def to_csv(self, path=None) -> str:
        """The per-epoch table as CSV (``epoch`` column first, 1-based); written to ``path``
        atomically when given."""
        keys = list(self.epochs)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for i in range(len(self)):
            row = [self.epochs[k][i] if i < len(self.epochs[k]) else "" for k in keys]
            writer.writerow([i + 1, *(repr(v) if isinstance(v, float) else v for v in row)])
        text = buf.getvalue()
        if path is not None:
            from deepgrad.utils.atomic import atomic_write_text

            atomic_write_text(Path(path), text)
        return text
