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
- ``save_checkpoint`` / ``load_checkpoint``: everything needed to resume training bit for bit
  in ONE file, ``checkpoint.safetensors``: model, optimiser, scheduler, epoch, the state of
  deepgrad's global random generator (which shuffles the data and draws dropout masks), the
  training history and any extra state (early stopping's best weights). One file written by
  one atomic rename cannot be torn, and the previous checkpoint stays in place until the new
  one is complete.

Every file written here stores a CRC-32 of each tensor's bytes and of its JSON metadata
(``__metadata__["checksums"]``); loading verifies them, so a flipped bit is refused with a
clear message instead of loading as NaN weights. Files from other tools (no checksums) load
unchecked. Reads are capped (``max_bytes``, default :data:`MAX_CHECKPOINT_BYTES`) before a byte
is read, and optimiser hyper-parameters are range-checked after loading.

Every write goes through :func:`deepgrad.utils.atomic.atomic_write` (temporary file, fsync,
``os.replace``, fsync of the folder): a crash at any point leaves either the old file or the
new one, never a torn mix.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.creation import from_numpy
from deepgrad.device import move
from deepgrad.random import Generator, default_generator
from deepgrad.tensor import Tensor
from deepgrad.utils.atomic import TEMP_SUFFIX, atomic_write

FORMAT = "deepgrad.checkpoint/1"
CHECKPOINT_FORMAT = "deepgrad.training/2"
MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"
MAX_CHECKPOINT_BYTES = 4 * 2**30  # 4 GiB: larger files are refused unless max_bytes says so
MAX_LR = 10.0  # a learning rate above this in a loaded optimiser state is refused


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged, or does not fit the model / optimiser."""


# --------------------------------------------------------------------------- temporary files
def clean_temp_files(folder) -> list[Path]:
    """Remove the temporary files that writes killed mid-way left in ``folder``
    (``.NAME.XXXX.tmp``); returns what was removed. Call it only while holding the folder's
    lock, so no live writer's file is taken away."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


# --------------------------------------------------------------------------- nested states
def _pack(obj, name: str, tensors: dict[str, np.ndarray]):
    """JSON-able copy of ``obj`` with every array moved into ``tensors`` under ``name``."""
    if isinstance(obj, Tensor):
        obj = move(obj._data, "cpu")  # a GPU tensor is saved from a host copy
    elif hasattr(obj, "__cuda_array_interface__"):
        obj = move(obj, "cpu")  # a raw GPU array (early stopping's best weights)
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
            return from_numpy(arr) if as_tensors else arr
        if "__tuple__" in obj:
            return tuple(_unpack(v, tensors, as_tensors) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {k: _unpack(v, tensors, as_tensors) for k, v in obj["__items__"]}
        return {k: _unpack(v, tensors, as_tensors) for k, v in obj.items()}
    return obj


def _crc(data) -> str:
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


def _checksums(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    sums = {name: _crc(np.ascontiguousarray(a).view(np.uint8).reshape(-1).data if a.size
                       else b"") for name, a in tensors.items()}  # fmt: skip
    sums["__metadata__"] = _crc(json.dumps(metadata, sort_keys=True).encode("utf-8"))
    return json.dumps(sums, sort_keys=True)


def _serialize(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    from safetensors.numpy import save

    metadata = dict(metadata)
    metadata["checksums"] = _checksums(tensors, metadata)
    return save(tensors, metadata=metadata)


def _verify(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Compare the stored CRC-32s with the data; raise ``CheckpointError`` naming the first
    damaged tensor (or the metadata)."""
    if "checksums" not in metadata:
        return  # written by another tool: nothing to compare with
    rest = {k: v for k, v in metadata.items() if k != "checksums"}
    try:
        stored = json.loads(metadata["checksums"])
        if not isinstance(stored, dict):
            raise ValueError("not an object")
    except ValueError:
        stored = {}
    now = json.loads(_checksums(tensors, rest))
    for name in sorted(now, key=lambda n: n != "__metadata__"):
        if stored.get(name) != now[name]:
            what = "its metadata (settings, history)" if name == "__metadata__" else (
                f"the data of tensor {name!r}"
            )  # fmt: skip
            raise CheckpointError(
                f"checkpoint file {str(path)!r} is damaged: the checksum of {what} does not "
                "match (a flipped bit, a partial copy or an edit). It was not loaded; restore "
                "the file from a copy or train again."
            )
    extra = sorted(set(stored) - set(now))
    if extra:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} is damaged: tensors {extra[:3]} are missing. It "
            "was not loaded; restore the file from a copy or train again."
        )


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


def _read(path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the string metadata of a safetensors file, checksums verified, with
    errors naming the file. Files over ``max_bytes`` are refused before they are read."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError
        if size > max_bytes:
            raise CheckpointError(
                f"checkpoint file {str(path)!r} has {size:,} bytes, more than the limit of "
                f"{max_bytes:,}; if it is really yours, pass max_bytes={size} (Python)"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint file {str(path)!r} is a folder, not a file") from None
    except PermissionError:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} cannot be read (permission denied)"
        ) from None
    try:
        (n,) = struct.unpack("<Q", raw[:8])
        if n > len(raw) - 8:
            raise ValueError(f"the header claims {n:,} bytes, the file has {len(raw):,}")
        header = json.loads(raw[8 : 8 + n])
        tensors = load(raw)
        meta = header.get("__metadata__") or {}
        if not isinstance(meta, dict):
            raise ValueError("__metadata__ is not an object")
    except (SafetensorError, struct.error, ValueError, UnicodeDecodeError, AttributeError) as e:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} is not a valid safetensors file ({e}); it is "
            "damaged or truncated. Restore it from a copy or train again."
        ) from None
    _verify(path, tensors, meta)
    return tensors, meta


@contextmanager
def _damaged_header(path):
    """What unpacking a damaged JSON metadata header raises, as one CheckpointError."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} has a damaged metadata header ({e}); restore it "
            "from a copy or train again"
        ) from None


def load_state_dict(path, as_tensors: bool = True) -> tuple[Any, dict[str, Any]]:
    """Load ``(state, metadata)`` saved by :func:`save_state_dict`.

    Arrays come back as deepgrad Tensors (``as_tensors=False``: NumPy arrays). A plain
    safetensors file (one written by another tool) loads as a flat ``{name: tensor}`` dict.
    """
    tensors, meta = _read(path)
    if meta.get("format") != FORMAT or "state" not in meta:
        state = {k: (from_numpy(v) if as_tensors else v) for k, v in tensors.items()}
        return state, {k: v for k, v in meta.items() if k != "format"}
    with _damaged_header(path):
        state = _unpack(json.loads(meta["state"]), tensors, as_tensors)
        extra = _unpack(json.loads(meta.get("metadata", "{}")), tensors, as_tensors)
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
    with _damaged_header(path):
        out = json.loads(meta.get("deepgrad", "{}"))
        if not isinstance(out, dict):
            raise ValueError("not a JSON object")
    return out


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
def checkpoint_path(path) -> Path:
    """``path`` itself if it is a file name, else ``path/checkpoint.safetensors``."""
    path = Path(path)
    return path if path.suffix == ".safetensors" else path / CHECKPOINT_FILE


def save_checkpoint(
    folder,
    model,
    optimizer=None,
    scheduler=None,
    epoch: int = 0,
    history=None,
    generator: Generator | None = None,
    extra: dict[str, Any] | None = None,
    extra_state: dict[str, Any] | None = None,
) -> Path:
    """Save all the training state needed to resume bit for bit, as one file.

    ``folder/checkpoint.safetensors`` (or ``folder`` itself when it ends in ``.safetensors``)
    holds the model's ``state_dict`` (tensors ``state.model.NAME``), the optimiser's and
    scheduler's state dicts, ``epoch`` (epochs completed), the history, the state of
    deepgrad's global generator and of ``generator`` (pass the DataLoader's own generator if
    it has one), ``extra`` (JSON-able, e.g. the run's settings) and ``extra_state`` (any
    nested state with arrays, e.g. early stopping's best weights). It is written by one atomic
    rename: a crash leaves the previous checkpoint or this one, never a mix.
    """
    path = checkpoint_path(folder)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": default_generator.get_state(),
        "generator": generator.get_state() if generator is not None else None,
        "extra_state": extra_state,
    }
    meta = {
        "epoch": int(epoch),
        "history": history.to_dict() if history is not None else None,
        "extra": extra or {},
    }
    tensors: dict[str, np.ndarray] = {}
    packed = _pack(state, "state", tensors)
    header = {
        "format": CHECKPOINT_FORMAT,
        "state": json.dumps(packed, allow_nan=True),
        "metadata": json.dumps(_pack(meta, "metadata", tensors), allow_nan=True),
    }
    atomic_write(path, _serialize(tensors, header))
    return path


def read_checkpoint(path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[dict, dict]:
    """``(state, metadata)`` of a checkpoint file (checksums verified), as NumPy arrays."""
    path = checkpoint_path(path)
    tensors, meta = _read(path, max_bytes)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{str(path)!r} is not a deepgrad training checkpoint (format "
            f"{meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}); save one with "
            "save_checkpoint"
        )
    with _damaged_header(path):
        state = _unpack(json.loads(meta["state"]), tensors, False)
        extra = _unpack(json.loads(meta["metadata"]), tensors, False)
        if not isinstance(state, dict) or not isinstance(extra, dict):
            raise ValueError("the state is not an object")
        int(extra.get("epoch", 0))
    return state, extra


def check_optimizer_state(optimizer, where: str, max_lr: float = MAX_LR) -> None:
    """Refuse hyper-parameters no training should run with: non-finite numbers in a param
    group, or a learning rate outside ``[0, max_lr]``."""
    for i, group in enumerate(optimizer.param_groups):
        for key, value in group.items():
            if key == "params":
                continue
            values = value if isinstance(value, (tuple, list)) else [value]
            for v in values:
                if isinstance(v, float) and not math.isfinite(v):
                    raise CheckpointError(
                        f"{where}: the optimizer state has {key}={value!r} in param group {i}, "
                        "which is not finite; the checkpoint is damaged. Train again."
                    )
        lr = group.get("lr")
        if isinstance(lr, (int, float)) and not 0 <= lr <= max_lr:
            raise CheckpointError(
                f"{where}: the optimizer state has lr={lr!r} in param group {i}, outside "
                f"[0, {max_lr:g}]; it would not train. The checkpoint is damaged or edited: "
                "train again."
            )


def load_checkpoint(
    folder,
    model,
    optimizer=None,
    scheduler=None,
    generator: Generator | None = None,
    restore_rng: bool = True,
    max_bytes: int = MAX_CHECKPOINT_BYTES,
) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save_checkpoint`; returns its metadata.

    The result has ``epoch`` (epochs completed), ``history`` (a :class:`History` or None),
    ``extra`` and ``extra_state``. ``restore_rng`` puts deepgrad's global generator back
    where it was, so data shuffling and dropout continue exactly as in an uninterrupted run.
    Nothing is changed unless the whole checkpoint is valid and fits.
    """
    from deepgrad.train.history import History

    path = checkpoint_path(folder)
    state, meta = read_checkpoint(path, max_bytes)
    try:
        history = meta.get("history")
        history = History.from_dict(history) if history is not None else None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: the training history is damaged ({e})") from None
    weights = state.get("model") or {}
    try:
        model.load_state_dict({k: from_numpy(v) for k, v in weights.items()})
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(
            f"cannot load the model of {str(path)!r} into {type(model).__name__}: {e}"
        ) from None
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise CheckpointError(f"{path} holds no optimizer state")
        try:
            optimizer.load_state_dict(_unpack_tensors(state["optimizer"]))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
            raise CheckpointError(
                f"cannot load the optimizer state of {path} into {type(optimizer).__name__}: {e}"
            ) from None
        check_optimizer_state(optimizer, str(path))
    try:
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if restore_rng:
            default_generator.set_state(state["rng"])
        if generator is not None and state.get("generator") is not None:
            generator.set_state(state["generator"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: the scheduler or random state is damaged ({e})") from None
    return {
        "epoch": int(meta.get("epoch", 0)),
        "history": history,
        "extra": meta.get("extra", {}),
        "extra_state": state.get("extra_state"),
    }


def _unpack_tensors(obj):
    """Arrays in a nested state as deepgrad Tensors (what ``load_state_dict`` expects)."""
    if isinstance(obj, np.ndarray):
        return from_numpy(obj)
    if isinstance(obj, list):
        return [_unpack_tensors(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_unpack_tensors(v) for v in obj)
    if isinstance(obj, dict):
        return {k: _unpack_tensors(v) for k, v in obj.items()}
    return obj
