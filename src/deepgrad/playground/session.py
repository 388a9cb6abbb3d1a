"""One playground session: its data, features, model and optimiser, trained on a worker thread.

A browser tab owns one :class:`Session`. The web server (on the asyncio event loop) never
touches the model: it validates the page's messages, hands accepted commands to the session
with :meth:`Session.submit`, and polls :meth:`Session.poll` for what to send back. The
session's worker thread applies the commands in order, trains in short slices of minibatches
and publishes *frames* (JSON text) a few times per second: the decision boundary (or
regression surface) on a grid, a thumbnail of every neuron's output, the weights, and the loss
curves.

Training is plain deepgrad, one epoch at a time, exactly what the exported script does::

    for epoch in range(epochs):
        perm = rng.permutation(n_train)                 # rng = np.random.default_rng([1, seed])
        for i in range(0, n_train, batch_size):
            idx = perm[i : i + batch_size]
            loss = criterion(model(x_train[idx]), y_train[idx]) + rate * penalty(weights)
            optimizer.zero_grad(); loss.backward(); optimizer.step()

where ``criterion`` is ``CrossEntropyLoss`` over the k classes (argmax is the predicted class)
or ``MSELoss`` on one output for regression, and ``penalty`` is ``nn.utils.l1_penalty`` or
``nn.utils.l2_penalty`` over the weight matrices (not the biases), as in TF Playground.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import secrets
import threading
import time
from collections import deque

import numpy as np

import deepgrad
from deepgrad import nn, optim, registry
from deepgrad.playground.validation import (
    DATA_FIELDS,
    DEFAULTS,
    FEATURE_LABELS,
    MODEL_FIELDS,
    N_POINTS,
    OPTIMIZER_FIELDS,
    CsvTable,
    PlaygroundConfig,
    n_train_points,
)
from deepgrad.registry import activation_layer
from deepgrad.utils.outputs import softmax

# deepgrad's random generator is process-wide, so `manual_seed(seed)` followed by building the
# model must not interleave with another session's: this lock covers that stretch only. All
# other work touches nothing but the session's own model and arrays (grad mode is per thread),
# so sessions train in parallel without taking turns on one lock, which would let a busy
# session starve the others.
SEED_LOCK = threading.Lock()

# Each feature as a function of the two input columns, and the same expression as the exported
# script writes it (tests check that the two agree).
FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1 * x1,
    "x2sq": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sinx1": lambda x1, x2: deepgrad.sin(x1),
    "sinx2": lambda x1, x2: deepgrad.sin(x2),
}
FEATURE_CODE = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1 * x1",
    "x2sq": "x2 * x2",
    "x1x2": "x1 * x2",
    "sinx1": "torch.sin(x1)",
    "sinx2": "torch.sin(x2)",
}

MAX_HISTORY = 400  # loss-curve points kept; older points are thinned out, so memory stays flat
SLICE_SECONDS = 0.02  # longest stretch of training between two looks at the command queue


def make_features(x: deepgrad.Tensor, features) -> deepgrad.Tensor:
    """The input matrix of the network: the chosen features of the points ``x`` (n, 2)."""
    x1, x2 = x[:, 0], x[:, 1]
    return deepgrad.stack([FEATURE_FUNCTIONS[f](x1, x2) for f in features], dim=1)


def build_model(n_in: int, hidden, activation: str, n_out: int) -> nn.Sequential:
    """``Linear, act, Linear, act, ..., Linear``: ``hidden`` layer sizes, ``n_out`` outputs."""
    layers = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), activation_layer(activation)]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def build_optimizer(name: str, params, lr: float) -> optim.Optimizer:
    """The optimiser called ``name`` in the page (``momentum`` is SGD with momentum 0.9)."""
    return registry.build_optimizer(name, params, lr)


def weight_penalty(model: nn.Sequential, regularization: str) -> deepgrad.Tensor:
    """L1 or L2 penalty over the weight matrices of ``model`` (biases excluded)."""
    if regularization == "l1":
        return nn.utils.l1_penalty(model)
    return nn.utils.l2_penalty(model)


def generate_data(config: PlaygroundConfig) -> tuple[np.ndarray, np.ndarray]:
    """The points and labels of a generated data set: ``N_POINTS`` of them, seeded."""
    from deepgrad.data import toy

    fn = getattr(toy, config.dataset)
    kwargs = {"n_classes": config.n_classes} if config.dataset == "spiral" else {}
    x, y = fn(N_POINTS, noise=config.noise / 100.0, seed=config.seed, **kwargs)
    return np.asarray(x, dtype=np.float32), np.asarray(y)


def split(n: int, train_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test points: a seeded permutation cut at the ratio."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = n_train_points(n, train_ratio)
    return perm[:n_train], perm[n_train:]


def shuffle_rng(seed: int) -> np.random.Generator:
    """The generator that orders minibatches (a stream apart from the split's)."""
    return np.random.default_rng([1, seed])


def grid_points(domain, size: int) -> np.ndarray:
    """Centres of a ``size`` x ``size`` grid over ``domain``, row-major, top row = largest x2."""
    x1lo, x1hi, x2lo, x2hi = domain
    step1 = (x1hi - x1lo) / size
    step2 = (x2hi - x2lo) / size
    xs = x1lo + (np.arange(size) + 0.5) * step1
    ys = x2hi - (np.arange(size) + 0.5) * step2
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def _domain(x: np.ndarray, symmetric: bool) -> list:
    if symmetric:
        m = float(np.abs(x).max()) * 1.05 if len(x) else 1.0
        m = m if m > 0 else 1.0
        return [-m, m, -m, m]
    out = []
    for col in (x[:, 0], x[:, 1]):
        lo, hi = float(col.min()), float(col.max())
        pad = (hi - lo) * 0.05 if hi > lo else 1.0
        out += [lo - pad, hi + pad]
    return out


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def _quantise(v: np.ndarray, scale: float) -> np.ndarray:
    """Map [-scale, scale] to 0..255 (127.5 = zero), clipping outside values."""
    q = (np.nan_to_num(v / scale, nan=0.0, posinf=1.0, neginf=-1.0) + 1.0) * 127.5
    return np.clip(np.rint(q), 0, 255).astype(np.uint8)


def _json_array(a: np.ndarray) -> list:
    """Nested lists rounded to 4 decimals, with None where a value is not finite."""
    a = a.astype(np.float64)
    return np.where(np.isfinite(a), np.round(a, 4), None).tolist()


def _finite(v: float):
    """A float for JSON, or None: JSON has no NaN, and the page shows None as 'NaN'."""
    return v if math.isfinite(v) else None


@dataclasses.dataclass
class _Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int
    class_names: list
    domain: list
    target_scale: float


class Session:
    """One browser tab's training run, owned by a worker thread.

    Args:
        config: the validated starting settings.
        frame_interval: seconds between frames while training (5 frames a second by default).
        grid_size: the boundary heat map is ``grid_size`` x ``grid_size`` cells.
        thumb_size: each neuron's thumbnail is ``thumb_size`` x ``thumb_size`` cells
            (sampled from the same grid, so one forward pass draws everything).
    """

    def __init__(
        self,
        config: PlaygroundConfig = DEFAULTS,
        *,
        frame_interval: float = 0.2,
        grid_size: int = 64,
        thumb_size: int = 16,
    ) -> None:
        if grid_size % thumb_size:
            raise ValueError(
                f"grid_size ({grid_size}) must be a multiple of thumb_size ({thumb_size})"
            )
        self.id = secrets.token_urlsafe(16)
        self.config = config  # the latest accepted settings (the worker may not have them yet)
        self.csv: CsvTable | None = None
        self.frame_interval = frame_interval
        self.grid_size = grid_size
        self.thumb_size = thumb_size
        self.last_activity = time.monotonic()

        self._cv = threading.Condition()
        self._commands: deque = deque()
        self._events: deque = deque(maxlen=32)  # errors and notices for the page
        self._closed = False
        self._frame: str | None = None
        self._frame_version = 0
        self._points: str | None = None
        self._data_version = 0

        # Worker-only state (read by export/predict under self._lock).
        self._lock = threading.RLock()
        self._seq = 0  # the `seq` of the last play/pause/step/reset applied (echoed in frames)
        self._applied: PlaygroundConfig | None = None
        self._csv_applied: CsvTable | None = None
        self._data: _Data | None = None
        self.model: nn.Sequential | None = None
        self._optimizer = None
        self._criterion = None
        self.epoch = 0
        self._running = False
        # Presses of "step" not yet trained: a count, not a flag, so two quick presses that reach
        # the worker in one batch of commands still train two epochs (a flag dropped the second).
        self._steps_pending = 0
        self._pos = 0
        self._perm: np.ndarray | None = None
        self._history: dict = {"epoch": [], "train": [], "test": []}
        self._history_stride = 1
        self._losses = (math.nan, math.nan)
        self._accuracy = (math.nan, math.nan)
        self._dirty = True
        self._last_frame_time = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"playground-session-{self.id[:6]}", daemon=True
        )

    # ----- called from the server (any thread) -----

    def start(self) -> Session:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Tell the worker to end (returns at once; the worker stops after its current slice)."""
        with self._cv:
            self._closed = True
            self._cv.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker and wait (up to ``timeout`` seconds) for it to end."""
        self.stop()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, kind: str, *args) -> None:
        """Queue a command for the worker: play, pause, step, reset, config or csv.

        play, pause, step and reset may carry the page's sequence number of the command; each
        frame echoes the last one applied (``seq``), so the page can tell a frame that already
        answers its latest click from one that was on its way before it.
        """
        with self._cv:
            self._commands.append((kind, args))
            self._cv.notify()

    def update_config(self, config: PlaygroundConfig) -> None:
        """Accept validated settings (the worker rebuilds what the change needs)."""
        self.config = config
        self.submit("config", config)

    def load_csv(self, table: CsvTable, config: PlaygroundConfig) -> None:
        """Switch to an uploaded data set (already parsed and validated)."""
        self.csv = table
        self.config = config
        self.submit("csv", table, config)

    def poll(self, frame_seen: int, data_seen: int) -> tuple:
        """What the page has not seen yet: (events, points or None, data version, frame or None,
        frame version)."""
        with self._cv:
            events = list(self._events)
            self._events.clear()
            points = self._points if self._data_version != data_seen else None
            frame = self._frame if self._frame_version != frame_seen else None
            return events, points, self._data_version, frame, self._frame_version

    def export_state(self) -> dict:
        """A consistent copy of what the export needs: settings, epoch, weights, data."""
        with self._lock:
            if self.model is None:
                raise RuntimeError("the session has not built its model yet; try again")
            state = {k: v.detach().numpy().copy() for k, v in self.model.state_dict().items()}
            return {
                "config": self._applied,
                "epoch": self.epoch,
                "state_dict": state,
                "csv": self._csv_applied if self._applied.dataset == "csv" else None,
                "task": self._data.task,
                "n_classes": self._data.n_classes,
                "losses": self._losses,
            }

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's output on points ``x`` (n, 2): class logits or regression values."""
        with self._lock, deepgrad.no_grad():
            if self.model is None:
                raise RuntimeError("the session has not built its model yet")
            x = deepgrad.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            return self.model(make_features(x, self._applied.features)).numpy().copy()

    # ----- the worker -----

    def _notify(self, kind: str, message: str, field: str | None = None) -> None:
        with self._cv:
            self._events.append({"type": kind, "message": message, "field": field})

    def _run(self) -> None:
        while True:
            with self._cv:
                if not self._commands and not self._closed and not self._busy():
                    self._cv.wait(timeout=0.5)
                if self._closed:
                    break
                commands = list(self._commands)
                self._commands.clear()
            try:
                for kind, args in commands:
                    self._apply(kind, args)
                if self._applied is None:
                    self._apply("config", (self.config,))
                if self._busy():
                    with np.errstate(all="ignore"):  # divergence is reported, not warned
                        self._train_slice()
                now = time.monotonic()
                if self._dirty and (
                    not self._busy() or now - self._last_frame_time >= self.frame_interval
                ):
                    self._publish_frame()
                    self._last_frame_time = now
            except Exception as e:  # the session must survive anything a setting can cause
                self._running, self._steps_pending = False, 0
                self._notify("error", f"training stopped: {type(e).__name__}: {e}")
                self._dirty = False  # do not retry the failing frame in a loop
                if self.model is None:
                    # Nothing to show; wait for the next command instead of spinning.
                    with self._cv:
                        self._cv.wait(timeout=0.5)

    def _busy(self) -> bool:
        return self._running or self._steps_pending > 0

    def _apply(self, kind: str, args: tuple) -> None:
        # Under the lock, so export and predict never see new settings with the old model.
        with self._lock:
            self._apply_locked(kind, args)

    def _apply_locked(self, kind: str, args: tuple) -> None:
        self._dirty = True
        if kind in ("play", "pause", "step", "reset") and args:
            self._seq = args[0]  # frames from now on answer this command
        if kind == "play":
            self._running = True
        elif kind == "pause":
            self._running, self._steps_pending = False, 0
        elif kind == "step":
            self._running = False
            self._steps_pending += 1
        elif kind == "reset":
            self._running, self._steps_pending = False, 0
            self._rebuild(data=False)
        elif kind == "config":
            (config,) = args
            old = self._applied
            self._applied = config
            changed = {
                f.name
                for f in dataclasses.fields(config)
                if old is None or getattr(old, f.name) != getattr(config, f.name)
            }
            if old is None or changed & DATA_FIELDS:
                self._rebuild(data=True)
            elif changed & MODEL_FIELDS:
                self._rebuild(data=False)
            elif changed & OPTIMIZER_FIELDS:
                self._optimizer = build_optimizer(
                    config.optimizer, self.model.parameters(), config.lr
                )
            elif "lr" in changed:
                for group in self._optimizer.param_groups:
                    group["lr"] = config.lr
        elif kind == "csv":
            table, config = args
            self._csv_applied = table
            self._applied = config
            self._rebuild(data=True)
        else:
            raise ValueError(f"unknown command {kind!r}")

    def _make_data(self, config: PlaygroundConfig) -> _Data:
        if config.dataset == "csv":
            table = self._csv_applied
            x, y = table.x, table.y
            task, n_classes, names = table.task, max(table.n_classes, 1), table.class_names
            domain = _domain(x, symmetric=False)
        else:
            x, y = generate_data(config)
            task = config.task
            if task == "classification":
                y = y.astype(np.int64)
                n_classes = config.n_classes if config.dataset == "spiral" else 2
                names = [str(i) for i in range(n_classes)]
            else:
                y = y.astype(np.float32).reshape(-1)
                n_classes, names = 1, []
            domain = _domain(x, symmetric=True)
        tr, te = split(len(x), config.train_ratio, config.seed)
        scale = float(np.abs(y).max()) if task == "regression" and len(y) else 1.0
        return _Data(
            x_train=x[tr],
            y_train=y[tr],
            x_test=x[te],
            y_test=y[te],
            task=task,
            n_classes=n_classes,
            class_names=names,
            domain=domain,
            target_scale=scale if scale > 0 else 1.0,
        )

    def _rebuild(self, data: bool) -> None:
        """New data (if asked) and a freshly seeded model, optimiser and history."""
        config = self._applied
        if data or self._data is None:
            self._data = self._make_data(config)
            self._publish_points()
        d = self._data
        with self._lock:
            self._x_train = make_features(deepgrad.from_numpy(d.x_train), config.features)
            self._x_test = make_features(deepgrad.from_numpy(d.x_test), config.features)
            grid = grid_points(d.domain, self.grid_size)
            self._grid_raw = grid
            self._x_grid = make_features(deepgrad.from_numpy(grid), config.features)
            if d.task == "classification":
                self._y_train = deepgrad.from_numpy(d.y_train)
                self._y_test = deepgrad.from_numpy(d.y_test)
                self._criterion = nn.CrossEntropyLoss()
                n_out = d.n_classes
            else:
                self._y_train = deepgrad.from_numpy(d.y_train.reshape(-1, 1))
                self._y_test = deepgrad.from_numpy(d.y_test.reshape(-1, 1))
                self._criterion = nn.MSELoss()
                n_out = 1
            with SEED_LOCK:
                deepgrad.manual_seed(config.seed)
                self.model = build_model(
                    len(config.features), config.hidden, config.activation, n_out
                )
            self._optimizer = build_optimizer(config.optimizer, self.model.parameters(), config.lr)
            self._shuffle = shuffle_rng(config.seed)
            self.epoch = 0
            self._pos = 0
            self._history = {"epoch": [], "train": [], "test": []}
            self._history_stride = 1
            self._evaluate()

    def _train_slice(self) -> None:
        config = self._applied
        x, y = self._x_train, self._y_train
        n = x.shape[0]
        model, opt, criterion = self.model, self._optimizer, self._criterion
        deadline = time.perf_counter() + SLICE_SECONDS
        with self._lock:
            while True:
                if self._pos == 0:
                    self._perm = self._shuffle.permutation(n)
                bs = config.batch_size
                idx = self._perm[self._pos : self._pos + bs]
                loss = criterion(model(x[idx]), y[idx])
                if config.regularization != "none" and config.reg_rate > 0:
                    loss = loss + config.reg_rate * weight_penalty(model, config.regularization)
                opt.zero_grad()
                loss.backward()
                opt.step()
                self._pos += bs
                if self._pos >= n:
                    self._pos = 0
                    self.epoch += 1
                    self._evaluate()
                    if self._steps_pending:
                        self._steps_pending -= 1
                        if not self._steps_pending:
                            break
                    if not math.isfinite(self._losses[0]):
                        self._running = False
                        self._notify(
                            "warning",
                            "training diverged: the loss is not finite. Lower the learning "
                            "rate and press reset.",
                            "lr",
                        )
                        break
                if time.perf_counter() > deadline:
                    break
        self._dirty = True

    def _evaluate(self) -> None:
        """Train and test loss (without the penalty) and accuracy; appended to the history."""
        with deepgrad.no_grad():
            out_tr = self.model(self._x_train)
            out_te = self.model(self._x_test)
            tr = float(self._criterion(out_tr, self._y_train).item())
            te = float(self._criterion(out_te, self._y_test).item())
            if self._data.task == "classification":
                acc_tr = float((out_tr.numpy().argmax(1) == self._data.y_train).mean())
                acc_te = float((out_te.numpy().argmax(1) == self._data.y_test).mean())
                self._accuracy = (acc_tr, acc_te)
            else:
                self._accuracy = (math.nan, math.nan)
        self._losses = (tr, te)
        h = self._history
        if self.epoch % self._history_stride == 0:
            h["epoch"].append(self.epoch)
            h["train"].append(_finite(tr))
            h["test"].append(_finite(te))
            if len(h["epoch"]) > MAX_HISTORY:
                for k in h:
                    h[k] = h[k][::2]
                self._history_stride *= 2

    def _publish_points(self) -> None:
        d = self._data
        task = d.task

        def pts(x, y):
            return {
                "x": np.round(x.astype(np.float64), 4).ravel().tolist(),
                "y": (y.tolist() if task == "classification" else np.round(y, 4).tolist()),
            }

        text = json.dumps(
            {
                "type": "points",
                "task": task,
                "n_classes": d.n_classes,
                "class_names": d.class_names,
                "domain": d.domain,
                "target_scale": d.target_scale,
                "train": pts(d.x_train, d.y_train),
                "test": pts(d.x_test, d.y_test),
            }
        )
        with self._cv:
            self._data_version += 1
            self._points = text

    def _publish_frame(self) -> None:
        with np.errstate(all="ignore"):
            frame = self._compute_frame()
        text = json.dumps(frame, allow_nan=False)
        with self._cv:
            self._frame_version += 1
            self._frame = text
        self._dirty = False

    def _compute_frame(self) -> dict:
        config, d = self._applied, self._data
        g, t = self.grid_size, self.thumb_size
        step = g // t
        off = step // 2
        with self._lock, deepgrad.no_grad():
            h = self._x_grid
            columns = [h.numpy()]
            for m in self.model:
                h = m(h)
                if not isinstance(m, nn.Linear):
                    columns.append(h.numpy())
            out = h.numpy()
            columns.append(out)
            weights, biases = [], []
            for m in self.model:
                if isinstance(m, nn.Linear):
                    weights.append(_json_array(m.weight.detach().numpy()))
                    biases.append(_json_array(m.bias.detach().numpy()))

        neurons = []
        for values in columns:
            sub = values.reshape(g, g, -1)[off::step, off::step]
            layer_neurons = []
            for j in range(sub.shape[2]):
                v = sub[:, :, j]
                finite = np.abs(v[np.isfinite(v)])
                scale = float(finite.max()) if finite.size else 1.0
                scale = scale if scale > 1e-12 else 1.0
                layer_neurons.append({"scale": _finite(scale), "img": _b64(_quantise(v, scale))})
            neurons.append(layer_neurons)

        if d.task == "classification":
            p = np.nan_to_num(softmax(out.astype(np.float64), axis=1), nan=0.0)
            cls = p.argmax(axis=1).astype(np.uint8)
            conf = np.clip(np.rint(p.max(axis=1) * 255), 0, 255).astype(np.uint8)
            boundary = {"cls": _b64(cls), "conf": _b64(conf)}
        else:
            boundary = {"value": _b64(_quantise(out[:, 0], d.target_scale))}
        boundary.update({"size": g, "domain": d.domain})

        layer_names = [[FEATURE_LABELS[f] for f in config.features]]
        for i, width in enumerate(config.hidden):
            layer_names.append([f"h{i + 1}_{j + 1}" for j in range(width)])
        n_out = len(biases[-1])
        layer_names.append(
            ["ŷ"] if d.task == "regression" else [f"out_{j + 1}" for j in range(n_out)]
        )
        return {
            "type": "frame",
            "epoch": self.epoch,
            "running": self._busy(),
            "seq": self._seq,
            "task": d.task,
            "n_classes": d.n_classes,
            "data_version": self._data_version,
            "config": config.to_json(),
            "train_loss": _finite(self._losses[0]),
            "test_loss": _finite(self._losses[1]),
            "train_accuracy": _finite(self._accuracy[0]),
            "test_accuracy": _finite(self._accuracy[1]),
            "history": self._history,
            "boundary": boundary,
            "thumb_size": t,
            "neurons": neurons,
            "layer_names": layer_names,
            "activation": config.activation,
            "weights": weights,
            "biases": biases,
        }
