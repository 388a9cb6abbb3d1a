"""``summary(model, input_size)``: a table of a model's layers, output shapes and parameter counts.

The course counts parameters by hand (seed 003: the MLP 784-512-256-10 has
784x512 + 512x256 + 256x10 = 535,040 weights, plus 512 + 256 + 10 = 778 biases, 535,818 in
all); ``summary`` does the counting, and with an input size it also runs one forward pass to
show the shape each layer outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepgrad import dtypes
from deepgrad.autograd.grad_mode import no_grad
from deepgrad.creation import from_numpy
from deepgrad.tensor import Tensor
from deepgrad.utils.lookup import row_named


@dataclass
class LayerRow:
    """One row of the summary: a module (layer) of the model."""

    path: str
    type: str
    depth: int
    #: the first call's output shape (a tuple, or a list of tuples for several outputs); None
    #: when no input was given or the module did not run
    output_shape: tuple | list | None
    #: parameters the module holds itself (not its children's), each shared parameter once
    params: int
    #: "yes", "no", "partial", or "--" for a module without parameters of its own
    trainable: str
    calls: int = 0
    has_children: bool = False


class ModelSummary:
    """What :func:`summary` returns: ``str()`` is the table; the totals are attributes.

    Attributes:
        rows: one :class:`LayerRow` per module, in ``named_modules()`` order.
        total_params / trainable_params / non_trainable_params: element counts, each shared
            parameter counted once.
        weight_params / bias_params: the total split into parameters named ``bias...`` and
            all others (weight matrices, convolution kernels, normalisation scales).
        param_bytes: memory of the parameters; buffer_bytes: of buffers (running statistics).
        output_bytes: memory of the layer outputs of one forward pass (leaf layers only), or
            None without an input.
    """

    def __init__(self, model, rows, params, buffers, input_shapes, input_dtypes, output_shape):
        self.model_name = type(model).__name__
        self.rows: list[LayerRow] = rows
        self.input_shapes = input_shapes
        self.input_dtypes = input_dtypes
        self.output_shape = output_shape
        self.total_params = sum(p._data.size for _, p in params)
        self.trainable_params = sum(p._data.size for _, p in params if p.requires_grad)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.bias_params = sum(
            p._data.size for n, p in params if n.rpartition(".")[2].startswith("bias")
        )
        self.weight_params = self.total_params - self.bias_params
        self.param_bytes = sum(p._data.nbytes for _, p in params)
        self.buffer_bytes = sum(b._data.nbytes for _, b in buffers)
        self.param_dtypes = sorted({str(p._data.dtype) for _, p in params})
        self.output_bytes: int | None = None

    def __getitem__(self, path: str) -> LayerRow:
        return row_named(self.rows, path, attr="path", where="summary", noun="layer")

    def __str__(self) -> str:
        show_shapes = self.input_shapes is not None
        header = ["Layer (path)", "Type"] + (["Output shape"] if show_shapes else [])
        header += ["Params", "Trainable"]
        table = []
        for r in self.rows:
            cells = ["  " * r.depth + (r.path or "(model)"), r.type]
            if show_shapes:
                shape = _shape_text(r.output_shape)
                if r.calls > 1:
                    shape += f" ×{r.calls}"
                cells.append(shape)
            has_own = r.params > 0 or not r.has_children
            cells += [f"{r.params:,}" if has_own else "--", r.trainable]
            table.append(cells)
        widths = [
            max(len(h), *(len(c[i]) for c in table)) if table else len(h)
            for i, h in enumerate(header)
        ]
        right = {len(header) - 2}  # numbers right-aligned

        def line(cells):
            return "  ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        total_width = sum(widths) + 2 * (len(widths) - 1)
        title = self.model_name
        if show_shapes:
            ins = ", ".join(f"{tuple(s)} {d}" for s, d in zip(self.input_shapes, self.input_dtypes))
            title += f"  (input {ins}"
            title += f" -> output {_shape_text(self.output_shape)})" if self.output_shape else ")"
        out = [title, "=" * total_width, line(header), "-" * total_width]
        out += [line(c) for c in table]
        out.append("=" * total_width)
        out.append(
            f"Total params: {self.total_params:,}  "
            f"(weights {self.weight_params:,}, biases {self.bias_params:,})"
        )
        out.append(f"Trainable params: {self.trainable_params:,}")
        out.append(f"Non-trainable params: {self.non_trainable_params:,}")
        dt = "/".join(self.param_dtypes) if self.param_dtypes else "-"
        out.append(f"Params size: {_bytes(self.param_bytes)} ({dt})")
        if self.buffer_bytes:
            out.append(f"Buffers size: {_bytes(self.buffer_bytes)}")
        if self.output_bytes is not None:
            out.append(f"Forward pass outputs size: {_bytes(self.output_bytes)}")
        return "\n".join(out)

    __repr__ = __str__


def _shape_text(shape) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return str(list(shape))


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _shapes_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape), out._data.nbytes
    if isinstance(out, (list, tuple)):
        shapes, total = [], 0
        for o in out:
            s, b = _shapes_of(o)
            if s is not None:
                shapes.append(s)
                total += b
        return (shapes or None), total
    return None, 0


def _make_inputs(input_size, dtype):
    """Random inputs of the given sizes (from a private generator: the global seed is kept)."""
    sizes = input_size
    if (
        isinstance(sizes, (tuple, list))
        and sizes
        and all(isinstance(s, (int, np.integer)) for s in sizes)
    ):
        sizes = [tuple(sizes)]
    sizes = [tuple(int(d) for d in s) for s in sizes]
    dts = dtype if isinstance(dtype, (list, tuple)) else [dtype] * len(sizes)
    if len(dts) != len(sizes):
        raise ValueError(
            f"summary: got {len(sizes)} input sizes but {len(dts)} dtypes; give one dtype per input"
        )
    rng = np.random.default_rng(0)
    inputs = []
    for s, d in zip(sizes, dts):
        np_dtype = dtypes.to_numpy_dtype(d)
        arr = (
            rng.random(s).astype(np_dtype) if np_dtype.kind == "f" else np.zeros(s, dtype=np_dtype)
        )
        inputs.append(from_numpy(arr))
    return inputs


def summary(model, input_size=None, dtype=dtypes.float32, input_data=None) -> ModelSummary:
    """Summarise ``model``: one row per layer with its path, type, output shape (when an input
    is given), own parameter count and trainable flag, then the totals.

    Args:
        model: a ``Module``.
        input_size: the shape of one input *including the batch dimension*, e.g. ``(1, 784)``,
            or a list of shapes for a model with several inputs. A random input of this size is
            run through the model (in eval mode, without recording a graph) to find each
            layer's output shape.
        dtype: the input dtype (or one per input); integer inputs are zeros.
        input_data: real input tensors instead of ``input_size`` (a tensor or a tuple).

    Counts: a layer's *Params* are the parameters it holds itself, so the column adds up to the
    total; a parameter shared by several layers is counted once in the totals. Weights are the
    parameters not named ``bias...``. The MLP 784-512-256-10 has 535,818 parameters, of which
    535,040 are weights.

    Beyond PyTorch: PyTorch has no built-in summary; this follows torchinfo's convention (the
    input size includes the batch dimension).
    """
    if not hasattr(model, "named_modules"):
        raise TypeError(f"summary expects an nn.Module, got {type(model).__name__}")
    modules = list(model.named_modules())
    records: dict[int, list] = {id(m): [None, 0, 0] for _, m in modules}  # shape, calls, bytes

    inputs = None
    if input_data is not None:
        inputs = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]
    elif input_size is not None:
        inputs = _make_inputs(input_size, dtype)

    output_shape = None
    if inputs is not None:

        def hook(module, args, out):
            rec = records[id(module)]
            shape, nbytes = _shapes_of(out)
            if rec[1] == 0:
                rec[0] = shape
            rec[1] += 1
            rec[2] += nbytes

        handles = [m.register_forward_hook(hook) for _, m in modules]
        modes = [(m, m.training) for _, m in modules]
        model.eval()
        try:
            with no_grad():
                out = model(*inputs)
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes:
                m.training = mode
        output_shape = _shapes_of(out)[0]

    rows = []
    counted: set[int] = set()
    for path, m in modules:
        has_children = any(True for _ in m.children())
        if not path and has_children:
            continue  # the model itself is the table's title
        own = [p for _, p in m.named_parameters(recurse=False)]
        n = 0
        for p in own:
            if id(p) not in counted:
                counted.add(id(p))
                n += p._data.size
        flags = {p.requires_grad for p in own}
        trainable = (
            "--"
            if not own
            else "yes"
            if flags == {True}
            else "no"
            if flags == {False}
            else "partial"
        )
        shape, calls, _ = records[id(m)]
        depth = path.count(".") if path else 0
        rows.append(
            LayerRow(path, type(m).__name__, depth, shape, n, trainable, calls, has_children)
        )

    params = list(model.named_parameters())
    buffers = list(model.named_buffers())
    in_shapes = [tuple(t.shape) for t in inputs] if inputs is not None else None
    in_dtypes = (
        [str(t.dtype).replace("deepgrad.", "") for t in inputs] if inputs is not None else None
    )
    result = ModelSummary(model, rows, params, buffers, in_shapes, in_dtypes, output_shape)
    if inputs is not None:
        result.output_bytes = sum(
            records[id(m)][2] for _, m in modules if not any(True for _ in m.children())
        )
    return result
