"""``deepgrad.save`` / ``deepgrad.load``: checkpoints that can never run code.

What torch users save (tensors, parameters, module and optimiser state dicts, and nested
dicts, lists and tuples of tensors, numbers, strings and None) is written as ONE safetensors
file: the tensors as raw little-endian bytes, the structure as JSON in the header's
``__metadata__``. Nothing is pickled, so loading a deepgrad file can only produce data.

Also kept: sets, bytes, ``Counter`` and dtypes (``deepgrad.float64``), which appear in saved
configurations and scheduler states.

``load`` also reads PyTorch's own ``.pt``/``.pth`` zip archives (from ``torch.save``). Those
hold a pickle, and a pickle can name any Python callable; the unpickler here resolves only
the handful of globals that rebuild tensors and plain containers (the idea of torch's
``weights_only=True``), mapped to deepgrad's own code. Any other global (``os.system``, a
user class, ``builtins.eval``) is refused before anything is called.

The safetensors layout (https://github.com/huggingface/safetensors, a documented format)::

    8 bytes   N, little-endian u64
    N bytes   JSON header {name: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]},
                           "__metadata__": {"format": "deepgrad", "structure": "<JSON>"}}
    rest      the tensors' bytes, each at [b, e) from the end of the header
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import pickle
import struct
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from deepgrad import dtypes
from deepgrad.device import as_device, move
from deepgrad.tensor import Tensor, _check_device, _wrap
from deepgrad.utils.atomic import atomic_write

__all__ = ["save", "load", "UnsafeCheckpointError"]

_DTYPE_CODES = {
    np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32",
    np.dtype(np.float64): "F64",
    np.dtype(np.int8): "I8",
    np.dtype(np.uint8): "U8",
    np.dtype(np.int16): "I16",
    np.dtype(np.int32): "I32",
    np.dtype(np.int64): "I64",
    np.dtype(np.bool_): "BOOL",
}
_CODE_DTYPES = {code: dt for dt, code in _DTYPE_CODES.items()}
_FORMAT = "deepgrad"


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asked for something other than tensors and plain containers."""


# ---------------------------------------------------------------------------------- save
def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Write ``obj`` to ``f`` (a path or a binary file object) as one safetensors file.

    ``obj`` may be a tensor or parameter, or any nesting of dicts (any hashable keys of the
    supported kinds), lists and tuples holding tensors, bools, ints, floats, strings and None:
    ``model.state_dict()`` and ``optimizer.state_dict()`` included. A tensor saved twice in
    one object is stored once. A path is written atomically (a temporary file in the same
    folder, then renamed), so an interrupted save never leaves a half-written checkpoint.

    ``pickle_module``/``pickle_protocol`` are accepted for PyTorch compatibility and ignored:
    deepgrad never pickles.

    >>> import io
    >>> buffer = io.BytesIO(); deepgrad.save({"w": deepgrad.tensor([1., 2.])}, buffer)
    >>> _ = buffer.seek(0); deepgrad.load(buffer)["w"]
    tensor([1., 2.])
    """
    tensors: dict[str, np.ndarray] = {}
    names: dict[int, str] = {}
    structure = _encode(obj, tensors, names)
    blob = _safetensors_bytes(tensors, {"format": _FORMAT, "structure": json.dumps(structure)})
    if hasattr(f, "write"):
        f.write(blob)
        return
    atomic_write(os.fspath(f), blob)


def _encode(obj, tensors: dict, names: dict):
    """The JSON form of ``obj``; tensors go into ``tensors`` under generated names."""
    if isinstance(obj, Tensor):
        key = names.get(id(obj))
        if key is None:
            key = names[id(obj)] = f"t{len(names)}"
            arr = move(obj._data, "cpu")  # a GPU tensor is saved from a host copy
            tensors[key] = arr if arr.flags.c_contiguous else arr.copy()  # keeps 0-d shapes
        node = {"__tensor__": key, "requires_grad": bool(obj.requires_grad)}
        if type(obj).__name__ == "Parameter":
            node["parameter"] = True
        return node
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": _encode(_wrap(obj), tensors, names)}
    if isinstance(obj, dict):
        kind = {OrderedDict: "__odict__", Counter: "__counter__"}.get(type(obj), "__dict__")
        items = [[_encode(k, tensors, names), _encode(v, tensors, names)] for k, v in obj.items()]
        return {kind: items}
    if isinstance(obj, list):
        return {"__list__": [_encode(v, tensors, names) for v in obj]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, names) for v in obj]}
    if isinstance(obj, (set, frozenset)):
        kind = "__set__" if isinstance(obj, set) else "__frozenset__"
        return {kind: [_encode(v, tensors, names) for v in obj]}
    if isinstance(obj, bytes):
        return {"__bytes__": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, dtypes.dtype):
        return {"__dtype__": obj.name}
    raise TypeError(
        f"deepgrad.save can't store a {type(obj).__module__}.{type(obj).__qualname__}: it saves "
        "tensors and dicts/lists/tuples of tensors, numbers, strings and None (no pickling, so "
        "loading can never run code). Save model.state_dict() rather than the model object."
    )


def _safetensors_bytes(tensors: dict, metadata: dict) -> bytes:
    header: dict = {"__metadata__": metadata}
    offset = 0
    chunks = []
    for name, arr in tensors.items():
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _DTYPE_CODES[arr.dtype],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to a multiple of 8
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


# ---------------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **kwargs):
    """Read what ``save`` wrote, or a PyTorch ``.pt``/``.pth`` zip checkpoint, safely.

    Args:
        f: a path or a binary file object.
        map_location: where tensors go: ``None``/``"cpu"`` (the CPU, where loading puts them),
            ``"cuda"`` or a ``device`` (moved there; an error without a GPU), a dict from saved
            location to target, or a callable called as torch does, with each tensor and
            ``"cpu"``.
        weights_only: accepted for compatibility. Loading is always weights-only here:
            ``weights_only=False`` does not enable arbitrary unpickling.
        mmap: map a deepgrad file's tensors from disk (copy-on-write) instead of reading
            them into memory; needs ``f`` to be a path.

    Raises:
        UnsafeCheckpointError: a PyTorch checkpoint names a global other than the tensor
            rebuilders and plain containers; nothing from it was executed.

    >>> import io
    >>> buffer = io.BytesIO(); deepgrad.save(deepgrad.eye(2), buffer); _ = buffer.seek(0)
    >>> deepgrad.load(buffer)
    tensor([[1., 0.],
            [0., 1.]])
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("deepgrad.load: a custom pickle_module is not supported")
    path = None
    if hasattr(f, "read"):
        data = f.read()
    else:
        path = os.fspath(f)
        with open(path, "rb") as fh:
            data = fh.read() if not mmap else fh.read(8)
    if data[:4] == b"PK\x03\x04":
        if mmap and path is not None:
            with open(path, "rb") as fh:
                data = fh.read()
        obj = _load_torch_zip(data)
    elif len(data) >= 8:
        obj = _load_safetensors(data, path if mmap else None)
    else:
        raise RuntimeError(f"deepgrad.load: {f!r} is empty or truncated")
    return _map_location(obj, map_location)


def _load_safetensors(data: bytes, mmap_path):
    (n,) = struct.unpack("<Q", data[:8])
    if mmap_path is not None:
        with open(mmap_path, "rb") as fh:
            fh.seek(8)
            head = fh.read(n)
    else:
        head = data[8 : 8 + n]
    try:
        header = json.loads(head)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RuntimeError(
            "deepgrad.load: not a deepgrad/safetensors file, nor a PyTorch zip checkpoint "
            "(PyTorch's legacy pre-1.6 format is not supported: re-save it with a current torch)"
        ) from None
    meta = header.pop("__metadata__", None) or {}
    start = 8 + n
    arrays = {}
    for name, info in header.items():
        dt = _CODE_DTYPES.get(info["dtype"])
        if dt is None:
            raise RuntimeError(
                f"deepgrad.load: tensor {name!r} has unsupported dtype {info['dtype']}"
            )
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        if mmap_path is not None:
            arr = np.memmap(mmap_path, dtype=dt.newbyteorder("<"), mode="c", offset=start + b,
                            shape=shape)  # fmt: skip
        else:
            arr = np.frombuffer(data, dtype=dt.newbyteorder("<"), count=(e - b) // dt.itemsize,
                                offset=start + b).reshape(shape).copy()  # fmt: skip
        arrays[name] = arr.astype(dt, copy=False)
    if meta.get("format") != _FORMAT or "structure" not in meta:
        # a plain safetensors file (e.g. from safetensors.torch.save_file): a dict of tensors
        return {name: _wrap(arr) for name, arr in arrays.items()}
    made: dict[str, Tensor] = {}
    return _decode(json.loads(meta["structure"]), arrays, made)


def _decode(node, arrays: dict, made: dict):
    if not isinstance(node, (dict, list)):
        return node
    if "__tensor__" in node:
        key = node["__tensor__"]
        if key not in made:
            arr = arrays[key]
            if node.get("parameter"):
                from deepgrad.nn.parameter import Parameter

                made[key] = Parameter(_wrap(arr), requires_grad=node["requires_grad"])
            else:
                made[key] = _wrap(arr, node["requires_grad"])
        return made[key]
    if "__ndarray__" in node:
        return _decode(node["__ndarray__"], arrays, made)._data
    if "__float__" in node:
        return float(node["__float__"])
    for key, kind in (("__dict__", dict), ("__odict__", OrderedDict), ("__counter__", Counter)):
        if key in node:
            items = node[key]
            pairs = {
                _hashable(_decode(k, arrays, made)): _decode(v, arrays, made) for k, v in items
            }
            return pairs if kind is dict else kind(pairs)  # Counter(pairs) would count them
    if "__list__" in node:
        return [_decode(v, arrays, made) for v in node["__list__"]]
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, made) for v in node["__tuple__"])
    if "__set__" in node:
        return {_hashable(_decode(v, arrays, made)) for v in node["__set__"]}
    if "__frozenset__" in node:
        return frozenset(_hashable(_decode(v, arrays, made)) for v in node["__frozenset__"])
    if "__bytes__" in node:
        return base64.b64decode(node["__bytes__"])
    if "__dtype__" in node:
        return getattr(dtypes, node["__dtype__"])
    raise RuntimeError(f"deepgrad.load: unknown structure node {sorted(node)}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _map_location(obj, map_location):
    if map_location is None:
        return obj
    if callable(map_location):
        return _apply_to_tensors(obj, lambda t: map_location(t, "cpu"))
    if isinstance(map_location, dict):  # {saved location: target}; ours are saved on the CPU
        target = map_location.get("cpu", "cpu")
    else:
        target = map_location
    _check_device(target)
    if as_device(target).type == "cpu":
        return obj
    return _apply_to_tensors(obj, lambda t: t.to(target))


def _apply_to_tensors(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return type(obj)((k, _apply_to_tensors(v, fn)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_apply_to_tensors(v, fn) for v in obj)
    return obj


# ------------------------------------------------------------------- PyTorch zip archives
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stands in for ``torch.FloatStorage`` etc.: only its dtype is used."""

    def __init__(self, dtype) -> None:
        self.dtype = np.dtype(dtype)


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
):
    """torch._utils._rebuild_tensor_v2 on NumPy: a strided view of the storage, copied."""
    size, stride = tuple(size), tuple(stride)
    need = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > storage.size:
        raise UnsafeCheckpointError(
            f"tensor of size {size} and stride {stride} reaches past its storage "
            f"({storage.size} elements): the checkpoint is corrupt"
        )
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:], shape=size, strides=[s * storage.itemsize for s in stride]
    )
    return _wrap(np.array(view), bool(requires_grad))


def _rebuild_parameter(data, requires_grad, backward_hooks=None, *extra):
    from deepgrad.nn.parameter import Parameter

    return Parameter(data, requires_grad=bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad)


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles store bytes as ``_codecs.encode(text, "latin1")``; only that."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafeCheckpointError("deepgrad.load: unexpected _codecs.encode call")
    return text.encode("latin1")


def _device(*args):
    from deepgrad.device import device  # torch.device(...) as deepgrad's

    return device(*args)


def _torch_dtypes() -> dict:
    names = ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")
    return {("torch", n): getattr(dtypes, n) for n in names}


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): OrderedDict,
    ("collections", "Counter"): Counter,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("_codecs", "encode"): _latin1_bytes,
    ("torch", "device"): _device,
    **_torch_dtypes(),
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "Size"): tuple,
    **{("torch", name): _StorageType(dt) for name, dt in _STORAGE_DTYPES.items()},
}


class _RestrictedUnpickler(pickle._Unpickler):
    """Resolves only the globals in ``_ALLOWED_GLOBALS``; tensor storages come from the zip.

    The pure-Python unpickler is used so that BUILD (set an object's state) can be limited too:
    it may only add plain attributes to an OrderedDict (torch stores a state dict's
    ``_metadata`` this way), never set attributes of functions, classes or tensors.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not OrderedDict or not isinstance(state, dict):
            raise UnsafeCheckpointError(
                f"deepgrad.load refused this checkpoint: it sets the state of a "
                f"{type(inst).__name__}, which a tensor checkpoint never does. Nothing from the "
                "file was executed."
            )
        for key, value in state.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise UnsafeCheckpointError(f"deepgrad.load: refused attribute {key!r}")
            inst.__dict__[key] = value

    dispatch[pickle.BUILD[0]] = _load_build

    def __init__(self, file, read_record) -> None:
        super().__init__(file)
        self._read_record = read_record
        self._storages: dict = {}

    def find_class(self, module: str, name: str):
        if module == "__builtin__":  # protocol-2 pickles (torch's) use Python 2's module name
            module = "builtins"
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"deepgrad.load refused this checkpoint: it asks for the Python object "
                f"{module}.{name}, and only tensors and plain containers (dict, list, tuple, "
                "OrderedDict, numbers, strings) are loaded. Nothing from the file was executed. "
                "If you trust the file, load it with torch and re-save its state_dict()."
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnsafeCheckpointError(f"deepgrad.load: unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise UnsafeCheckpointError(f"deepgrad.load: unexpected storage type {storage_type!r}")
        key = str(key)
        if key not in self._storages:
            raw = self._read_record(key)
            dt = storage_type.dtype
            if len(raw) < int(numel) * dt.itemsize:
                raise UnsafeCheckpointError(f"deepgrad.load: storage {key} is truncated")
            self._storages[key] = np.frombuffer(raw, dtype=dt.newbyteorder("<"), count=int(numel))
        return self._storages[key]


def _load_torch_zip(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise RuntimeError("deepgrad.load: zip file without data.pkl is not a torch checkpoint")
        prefix = pkl[0][: -len("data.pkl")]
        order = prefix + "byteorder"
        if order in names and archive.read(order).strip() not in (b"little", b""):
            raise RuntimeError("deepgrad.load: big-endian torch checkpoints are not supported")

        def read_record(key: str) -> bytes:
            return archive.read(f"{prefix}data/{key}")

        unpickler = _RestrictedUnpickler(io.BytesIO(archive.read(pkl[0])), read_record)
        return unpickler.load()


# ---- census extras (issue 14) ---------------------------------------------------------------
class safe_globals:  # noqa: N801 - PyTorch's name
    """``torch.serialization.safe_globals([...])``: a context manager that, in PyTorch, lets
    ``load(weights_only=True)`` unpickle the listed classes and functions.

    Deviation on purpose: deepgrad's loader rebuilds tensors and plain containers only and never
    unpickles anything else, so the list is accepted and changes nothing; a checkpoint that
    needs another global is still refused (with ``UnsafeCheckpointError``)."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
