"""Safe checkpoints: ``state_dict``s as safetensors files, written atomically, never pickled.

A safetensors file is an 8-byte header length, a JSON header (names, dtypes, shapes, offsets
and a ``__metadata__`` dict of strings) and the raw bytes of the arrays. Loading one parses
JSON and copies bytes, so unlike ``torch.load`` of a pickle it cannot run code.

- ``save_state_dict`` / ``load_state_dict``: any nested state (a model's or an optimiser's
  ``state_dict``, a scheduler's, RNG states): every array goes into the file as a tensor, the
  rest of the structure as JSON in the metadata, with a ``{"__tensor__": name}`` reference in
  place of each array. Tuples, dicts with integer keys and non-finite floats survive the round
  trip exactly (floats are written with ``repr``, which round-trips bit for bit).
- ``save_model`` / ``load_model``: a module's parameters and buffers, under their dotted names,
  so the file is a plain safetensors checkpoint that other tools can read.
- ``save_checkpoint`` / ``load_checkpoint``: everything needed to resume training bit for bit:
  model, optimiser, scheduler, epoch, the state of deepgrad's global random generator (which
  shuffles the data and draws dropout masks) and the training history.

Every write goes through ``atomic_write``: the bytes go to a temporary file in the same folder,
which is flushed and fsync-ed and then renamed over the target with ``os.replace`` (atomic on
POSIX and Windows), and the folder is fsync-ed so the rename itself survives a power cut. A
crash at any point leaves either the old file or the new one, never a torn mix.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.device import move
from deepgrad.random import Generator, default_generator
from deepgrad.tensor import Tensor, _wrap

FORMAT = "deepgrad.checkpoint/1"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged, or does not fit the model / optimiser."""


# --------------------------------------------------------------------------- atomic writes
def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    Steps: temporary file in the same folder (so the rename stays on one file system), write,
    flush, ``os.fsync``, ``os.replace`` onto ``path``, then fsync the folder. On any error the
    temporary file is removed and the previous ``path`` is untouched.
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, _file_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)
    return path


def _file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777  # keep the mode of the file being replaced
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable. Windows cannot open folders, so there it is skipped.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path, text: str) -> Path:
    """``atomic_write`` for UTF-8 text (JSON, CSV, Markdown)."""
    return atomic_write(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- nested states
def _pack(obj, name: str, tensors: dict[str, np.ndarray]):
    """JSON-able copy of ``obj`` with every array moved into ``tensors`` under ``name``."""
    if isinstance(obj, Tensor):
        obj = move(obj._data, "cpu")  # a GPU tensor is saved from a host copy
    if isinstance(obj, np.ndarray) or hasattr(obj, "__array__") and hasattr(obj, "shape"):
        arr = np.ascontiguousarray(np.asarray(obj))
        if arr.dtype == object:
            raise TypeError(f"checkpoint: {name} is an object array, which has no safe format")
        tensors[name] = arr
        return {"__tensor__": name}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [_pack(v, f"{name}.{i}", tensors) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _pack(v, f"{name}.{k}", tensors) for k, v in obj.items()}
        # Integer keys (optimiser state is keyed by parameter index) must stay integers.
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"checkpoint: key {k!r} in {name} is not a str or int")
            items.append([k, _pack(v, f"{name}.{k}", tensors)])
        return {"__items__": items}
    raise TypeError(
        f"checkpoint: {name} is a {type(obj).__name__}, which cannot be stored without pickle; "
        "keep only arrays, tensors, numbers, strings, lists, tuples and dicts in the state"
    )


def _unpack(obj, tensors: dict[str, np.ndarray], as_tensors: bool):
    if isinstance(obj, list):
        return [_unpack(v, tensors, as_tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            arr = tensors[obj["__tensor__"]]
            return _wrap(arr) if as_tensors else arr
        if "__tuple__" in obj:
            return tuple(_unpack(v, tensors, as_tensors) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {k: _unpack(v, tensors, as_tensors) for k, v in obj["__items__"]}
        return {k: _unpack(v, tensors, as_tensors) for k, v in obj.items()}
    return obj


def _serialize(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    from safetensors.numpy import save

    return save(tensors, metadata=metadata)


def save_state_dict(state: Any, path, metadata: dict[str, Any] | None = None) -> Path:
    """Save a (nested) state, e.g. ``optimizer.state_dict()``, to a safetensors file atomically.

    ``metadata`` (JSON-able values) is stored next to the state and returned by
    :func:`load_state_dict`. Raises ``TypeError`` for values that would need pickle.
    """
    tensors: dict[str, np.ndarray] = {}
    packed = _pack(state, "state", tensors)
    meta = {
        "format": FORMAT,
        "state": json.dumps(packed, allow_nan=True),
        "metadata": json.dumps(_pack(metadata or {}, "metadata", tensors), allow_nan=True),
    }
    return atomic_write(path, _serialize(tensors, meta))


def _read(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and the string metadata of a safetensors file, with errors naming the file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint file {str(path)!r} does not exist") from None
    try:
        tensors = load(raw)
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
    except (SafetensorError, struct.error, ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} is not a valid safetensors file ({e}); it is "
            "damaged or truncated. Restore it from a copy or train again."
        ) from None
    return tensors, header.get("__metadata__") or {}


def load_state_dict(path, as_tensors: bool = True) -> tuple[Any, dict[str, Any]]:
    """Load ``(state, metadata)`` saved by :func:`save_state_dict`.

    Arrays come back as deepgrad Tensors (``as_tensors=False``: NumPy arrays). A plain
    safetensors file (one written by another tool) loads as a flat ``{name: tensor}`` dict.
    """
    tensors, meta = _read(path)
    if meta.get("format") != FORMAT or "state" not in meta:
        state = {k: (_wrap(v) if as_tensors else v) for k, v in tensors.items()}
        return state, {k: v for k, v in meta.items() if k != "format"}
    try:
        state = _unpack(json.loads(meta["state"]), tensors, as_tensors)
        extra = _unpack(json.loads(meta.get("metadata", "{}")), tensors, as_tensors)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} has a damaged metadata header ({e})"
        ) from None
    return state, extra


# --------------------------------------------------------------------------- models
def save_model(model, path, metadata: dict[str, Any] | None = None) -> Path:
    """Save ``model.state_dict()`` as a flat safetensors file (dotted names -> arrays).

    ``metadata`` (JSON-able) goes into the header under ``"deepgrad"``.
    """
    tensors = {k: np.ascontiguousarray(move(v._data, "cpu")) for k, v in model.state_dict().items()}
    meta = {"format": "deepgrad.model/1", "deepgrad": json.dumps(metadata or {})}
    return atomic_write(path, _serialize(tensors, meta))


def read_model_metadata(path) -> dict[str, Any]:
    """The ``metadata`` dict given to :func:`save_model` (``{}`` for other files)."""
    _, meta = _read(path)
    return json.loads(meta.get("deepgrad", "{}"))


def load_model(model, path, strict: bool = True):
    """Load a file written by :func:`save_model` (or any safetensors state dict) into ``model``.

    Raises :class:`CheckpointError` naming the file and every mismatching key and shape when
    the file was saved from a model of another structure.
    """
    tensors, _ = _read(path)
    try:
        return model.load_state_dict(tensors, strict=strict)
    except RuntimeError as e:
        raise CheckpointError(
            f"cannot load {str(path)!r} into {type(model).__name__}: {e}"
        ) from None


# --------------------------------------------------------------------------- training state
def save_checkpoint(
    folder,
    model,
    optimizer=None,
    scheduler=None,
    epoch: int = 0,
    history=None,
    generator: Generator | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save all the training state needed to resume bit for bit into ``folder``.

    ``folder/model.safetensors`` holds the weights (a plain state dict), and
    ``folder/optimizer.safetensors`` the optimiser's and scheduler's state dicts, ``epoch``
    (epochs completed), the history, the state of deepgrad's global generator and of
    ``generator`` (pass the DataLoader's own generator if it has one) and ``extra``.

    Both files carry the same random token, so :func:`load_checkpoint` notices a pair torn by
    a crash between the two writes (each write by itself is atomic).
    """
    folder = Path(folder)
    token = secrets.token_hex(8)
    state = {
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": default_generator.get_state(),
        "generator": generator.get_state() if generator is not None else None,
    }
    meta = {
        "epoch": int(epoch),
        "token": token,
        "history": history.to_dict() if history is not None else None,
        "extra": extra or {},
    }
    save_state_dict(state, folder / OPTIMIZER_FILE, meta)
    save_model(model, folder / MODEL_FILE, {"epoch": int(epoch), "token": token})
    return folder


def load_checkpoint(
    folder,
    model,
    optimizer=None,
    scheduler=None,
    generator: Generator | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save_checkpoint`; returns its metadata.

    The result has ``epoch`` (epochs completed), ``history`` (a :class:`History` or None) and
    ``extra``. ``restore_rng`` puts deepgrad's global generator back where it was, so data
    shuffling and dropout continue exactly as in an uninterrupted run.
    """
    from deepgrad.train.history import History

    folder = Path(folder)
    state, meta = load_state_dict(folder / OPTIMIZER_FILE)
    model_meta = read_model_metadata(folder / MODEL_FILE)
    if model_meta.get("token") != meta.get("token"):
        raise CheckpointError(
            f"{folder}: {MODEL_FILE} (epoch {model_meta.get('epoch')}) and {OPTIMIZER_FILE} "
            f"(epoch {meta.get('epoch')}) come from different saves; a save was interrupted "
            "between the two files. Resume from an older copy or train again."
        )
    load_model(model, folder / MODEL_FILE)
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise CheckpointError(f"{folder / OPTIMIZER_FILE} holds no optimizer state")
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as e:
            raise CheckpointError(
                f"cannot load the optimizer state of {folder / OPTIMIZER_FILE} into "
                f"{type(optimizer).__name__}: {e}"
            ) from None
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if restore_rng:
        default_generator.set_state(state["rng"])
    if generator is not None and state.get("generator") is not None:
        generator.set_state(state["generator"])
    history = meta.get("history")
    return {
        "epoch": int(meta.get("epoch", 0)),
        "history": History.from_dict(history) if history is not None else None,
        "extra": meta.get("extra", {}),
    }
