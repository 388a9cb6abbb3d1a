"""Draw the autograd graph behind a tensor: ops, tensors, values flowing forward, gradients back.

The graph is read from the tensor itself: ``t._ctx`` is the op (an ``Op`` node) that made
``t`` and ``ctx.inputs`` are the tensors it consumed, so walking back from the root reaches every
op and tensor that contributed to it. Nodes are

* **tensor nodes** (boxes): name (parameter path, or a name you give), shape and dtype, and for
  small tensors (at most ``max_values`` elements) the value in green and, once ``backward()``
  has run, the gradient in red, as in the course's "upstream gradient x local gradient" slides;
* **op nodes** (ellipses): the op's name (``Add``, ``Mul``, ``MatMul``, ``Linear``...). Python
  scalars in an expression (the ``0.5`` of ``0.5 * x``) are written into the op's label
  (``Mul(·, 0.5)``) instead of getting a node each.

Only leaves keep ``.grad`` after ``backward()``, as in PyTorch. To see the gradients of
intermediate tensors too, call :func:`retain_grads` on the output *before* ``backward()``::

    f = (x + y) * z
    retain_grads(f)          # like calling .retain_grad() on every intermediate tensor
    f.backward()
    draw_graph(f, "f.svg", params={"x": x, "y": y, "z": z})

Big graphs are collapsed (``collapse=``) so that a graph of a thousand nodes stays readable:

1. ``"modules"``: every call of a layer becomes one node (``layers.0 · Linear``) holding its
   parameters. Which ops belong to which layer is recorded exactly when the forward pass runs
   inside :func:`track_modules`; without it, an op that consumes a layer's parameter (known
   from ``model=`` or ``params=``) is that layer's.
2. ``"repeats"``: a chain made of the same block over and over (a deep MLP's
   ``Linear → ReLU``, an unrolled recurrence) keeps its first and last block and shows the
   blocks in between as one node ``⋯ × N more``.
3. ``"auto"`` (the default) applies nothing while the graph has at most ``max_nodes`` nodes,
   then ``"modules"`` (when layer information exists), then ``"repeats"``.

Without collapsing, the ops of a layer are still boxed together in a labelled cluster when
layer information exists.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import warnings
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepgrad.autograd.graph import depth_first_order
from deepgrad.tensor import Tensor

#: Ops recorded by :func:`track_modules`: graph node -> (module path, module type, call number).
_OWNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Parameter names recorded by :func:`track_modules`: id(parameter) -> (weak reference, path).
#: Keyed by id because tensors compare element-wise, so they cannot be dictionary keys.
_PARAM_NAMES: dict[int, tuple] = {}

_RENDER_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_DOT_FORMATS = {".dot", ".gv"}

# colours: parameters blue, data grey, intermediate white, the output gold, ops orange;
# values green and gradients red as on the course's back-propagation slides
_FILL = {"param": "#dbeafe", "data": "#f1f5f9", "tensor": "#ffffff", "root": "#fef3c7"}
_OP_FILL = "#fde7d4"
_MODULE_FILL = "#e0f2e9"
_REPEAT_FILL = "#ede9fe"
_VALUE_COLOR = "#15803d"
_GRAD_COLOR = "#b91c1c"


# --------------------------------------------------------------------------- public helpers
def retain_grads(tensor: Tensor) -> Tensor:
    """Keep the gradient of every intermediate tensor that produced ``tensor`` (call it before
    ``backward()``); returns ``tensor``.

    It is ``t.retain_grad()`` applied to ``tensor`` and every non-leaf tensor behind it, so after
    ``backward()`` each of them holds ``d tensor / d t`` in ``t.grad`` and :func:`draw_graph`
    can show the gradient flowing back through every node, not only into the leaves.
    """
    _check_tensor(tensor, "retain_grads")
    for t in _walk(tensor):
        if t._ctx is not None:
            t._retain = True
    return tensor


@contextmanager
def track_modules(model):
    """Record, during the forward passes run inside the ``with`` block, which layer made each op.

    ``draw_graph`` then boxes each layer call's ops together (or draws the call as one node with
    ``collapse="modules"``) and names every parameter by its path, without ``model=``::

        with track_modules(model):
            loss = loss_fn(model(x), y)
        draw_graph(loss, collapse="modules")

    Works through forward hooks: after a layer's forward, the ops between its inputs and its
    output that no inner layer claimed are its own. The innermost layer wins.
    """
    handles = []
    calls: dict[str, int] = {}
    for key, (ref, _) in list(_PARAM_NAMES.items()):
        if ref() is None:
            del _PARAM_NAMES[key]
    for path, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            if p is not None:
                _PARAM_NAMES[id(p)] = (weakref.ref(p), f"{path}.{pname}" if path else pname)
        if not path and any(True for _ in module.children()):
            continue  # ops written in a model's own forward belong to no layer
        handles.append(module.register_forward_hook(_owner_hook(path, calls)))
    try:
        yield model
    finally:
        for h in handles:
            h.remove()


def _owner_hook(path: str, calls: dict):
    def hook(module, inputs, output):
        call = calls.get(path, 0)
        calls[path] = call + 1
        owner = (path, type(module).__name__, call)
        stop = {id(t) for t in _tensors_in(inputs)}
        stack = [t._ctx for t in _tensors_in(output) if t._ctx is not None and id(t) not in stop]
        seen = set()
        while stack:
            ctx = stack.pop()
            if ctx in seen:
                continue
            seen.add(ctx)
            if ctx not in _OWNERS:
                _OWNERS[ctx] = owner
            for inp in ctx.inputs:
                if inp._ctx is not None and id(inp) not in stop:
                    stack.append(inp._ctx)

    return hook


def _tensors_in(obj) -> list:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for x in obj for t in _tensors_in(x)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _tensors_in(x)]
    return []


# --------------------------------------------------------------------------- the drawing
@dataclass
class Node:
    """One node of a drawn graph.

    ``kind`` is ``"tensor"``, ``"op"``, ``"module"`` (a collapsed layer call) or ``"repeat"``
    (collapsed repeated blocks). ``label`` is the drawn text, one line per fact.
    """

    id: str
    kind: str
    label: str
    name: str | None = None
    op: str | None = None
    shape: tuple | None = None
    dtype: str | None = None
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    requires_grad: bool = False
    is_leaf: bool = False
    is_param: bool = False
    is_root: bool = False
    count: int = 1
    owner: tuple | None = None
    # what a collapsed node stands for: op names of a repeated block, parameters of a module
    parts: list = field(default_factory=list)


class GraphDrawing:
    """The result of :func:`draw_graph`: nodes, edges, DOT source, and inline display.

    ``str(drawing)`` and ``drawing.source`` are the Graphviz DOT text; in Jupyter the drawing
    displays itself as SVG (when Graphviz's ``dot`` program is installed, else as DOT text).
    """

    def __init__(self, nodes, edges, clusters, rankdir: str) -> None:
        self.nodes: list[Node] = list(nodes)
        self.edges: list[tuple[str, str]] = list(edges)
        self.clusters: dict[str, list[str]] = clusters
        self.rankdir = rankdir
        self.path: Path | None = None
        self._by_id = {n.id: n for n in self.nodes}
        self._svg: str | None = None
        self.source = _to_dot(self)

    # ---- looking things up (what the tests and curious users do)
    def __getitem__(self, key: str) -> Node:
        """The node with this id, or else the tensor node with this name."""
        if key in self._by_id:
            return self._by_id[key]
        for n in self.nodes:
            if n.name == key:
                return n
        raise KeyError(f"no node with id or name {key!r}; names: {self.names()}")

    def names(self) -> list[str]:
        return [n.name for n in self.nodes if n.name]

    def ops(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "op"]

    def inputs_of(self, node) -> list[Node]:
        """Nodes with an edge into ``node`` (an id, name or Node), in input order."""
        nid = self._id(node)
        return [self._by_id[a] for a, b in self.edges if b == nid]

    def outputs_of(self, node) -> list[Node]:
        nid = self._id(node)
        return [self._by_id[b] for a, b in self.edges if a == nid]

    def _id(self, node) -> str:
        return node.id if isinstance(node, Node) else self[node].id

    # ---- output
    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        kinds = {}
        for n in self.nodes:
            kinds[n.kind] = kinds.get(n.kind, 0) + 1
        parts = ", ".join(f"{v} {k}" for k, v in kinds.items())
        return f"<GraphDrawing: {len(self.nodes)} nodes ({parts}), {len(self.edges)} edges>"

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing rendered by Graphviz in ``format`` (svg, png, pdf)."""
        dot = _dot_program()
        if dot is None:
            raise RuntimeError(
                "draw_graph: Graphviz's `dot` program was not found, so the graph cannot be "
                f"rendered as {format}. Install Graphviz (apt install graphviz, brew install "
                "graphviz or conda install graphviz), or save the DOT text with a .dot path."
            )
        # 144 dpi: crisp PNGs on high-density screens and in the README gallery
        extra = ["-Gdpi=144"] if format == "png" else []
        done = subprocess.run(
            [dot, f"-T{format}", *extra],
            input=self.source.encode(),
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"draw_graph: dot failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def save(self, path) -> Path:
        """Write the drawing: ``.svg``/``.png``/``.pdf`` through Graphviz, ``.dot``/``.gv`` as
        text. Without Graphviz an image path gets the DOT text next to it (``.dot``) and a
        warning. Returns the path written."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in _DOT_FORMATS:
            path.write_text(self.source, encoding="utf-8")
        elif suffix in _RENDER_FORMATS:
            if _dot_program() is None:
                path = path.with_suffix(".dot")
                path.write_text(self.source, encoding="utf-8")
                warnings.warn(
                    f"draw_graph: Graphviz's `dot` program was not found; wrote the DOT text to "
                    f"{path} instead. Install Graphviz to get {suffix} pictures.",
                    stacklevel=3,
                )
            else:
                path.write_bytes(self.pipe(_RENDER_FORMATS[suffix]))
        else:
            raise ValueError(
                f"draw_graph: don't know how to write {path.name!r}; use a path ending in .svg, "
                ".png or .pdf (rendered by Graphviz) or .dot (the graph as text)"
            )
        self.path = path
        return path

    render = save

    def _repr_svg_(self):
        if _dot_program() is None:
            return None
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        svg = self._repr_svg_()
        if svg is not None:
            return {"image/svg+xml": svg}
        return {"text/plain": self.source}


def _dot_program() -> str | None:
    return shutil.which("dot")


# --------------------------------------------------------------------------- draw_graph
def draw_graph(
    tensor: Tensor,
    path=None,
    show_values: bool = True,
    show_grads: bool = True,
    params: dict | None = None,
    model=None,
    collapse: str | bool | None = "auto",
    max_nodes: int = 120,
    max_values: int = 6,
    rankdir: str | None = None,
) -> GraphDrawing:
    """Draw the autograd graph that produced ``tensor``; optionally save it to ``path``.

    Args:
        tensor: the output whose history to draw (a loss, or any tensor with a ``grad_fn``).
        path: where to save: ``.svg``, ``.png`` or ``.pdf`` go through Graphviz's ``dot``;
            ``.dot``/``.gv`` get the DOT text. ``None`` saves nothing.
        show_values: write the values of tensors with at most ``max_values`` elements.
        show_grads: write their gradients (``.grad``) when they exist: leaves after
            ``backward()``, intermediate tensors when :func:`retain_grads` was called first.
        params: names for tensors, ``{name: tensor}``, e.g. ``dict(model.named_parameters())``
            (as in torchviz) or ``{"x": x, "q": q}``.
        model: a ``Module`` whose parameters get their paths (``layers.0.weight``) as names,
            and whose layers can be collapsed.
        collapse: ``"auto"``, ``"modules"``, ``"repeats"``, ``"all"`` (modules, then repeats) or
            ``None``/``False`` (draw every node); see the module docstring.
        max_nodes: the size above which ``"auto"`` starts collapsing.
        max_values: tensors with more elements show only shape and dtype.
        rankdir: Graphviz direction, ``"LR"`` (left to right, as on the slides) or ``"TB"``;
            by default ``"LR"`` for graphs of up to 40 nodes and 9 nodes deep, else ``"TB"``.

    Returns:
        a :class:`GraphDrawing` with ``.nodes``, ``.edges``, ``.source`` (DOT text) and
        ``.path``; it displays inline in Jupyter.

    Beyond PyTorch: PyTorch has no built-in graph drawing (torchviz's ``make_dot`` draws ops
    and parameters but neither values nor gradients).
    """
    _check_tensor(tensor, "draw_graph")
    if collapse is True:
        collapse = "all"
    if collapse not in (None, False, "auto", "modules", "repeats", "all"):
        raise ValueError(
            f"draw_graph: collapse={collapse!r} is not one of 'auto', 'modules', 'repeats', "
            "'all' or None"
        )
    names = _names(params, model)
    g = _build(tensor, names, model, show_values, show_grads, max_values)
    has_owners = bool(g.groups)
    if collapse in ("modules", "all") or (
        collapse == "auto" and has_owners and len(g.nodes) > max_nodes
    ):
        _collapse_modules(g)
    if collapse in ("repeats", "all") or (collapse == "auto" and len(g.nodes) > max_nodes):
        _collapse_repeats(g)
    clusters = _clusters(g)
    if rankdir is None:
        rankdir = "LR" if len(g.nodes) <= 40 and _depth(g) <= 9 else "TB"
    drawing = GraphDrawing(g.nodes.values(), g.edges, clusters, rankdir)
    if path is not None:
        drawing.save(path)
    return drawing


def _depth(g: _Graph) -> int:
    """Number of nodes on the longest path from an input to the output."""
    preds, _ = g.adjacency()
    longest: dict[str, int] = {}
    for i in _topo(g):
        longest[i] = 1 + max((longest[p] for p in preds[i]), default=0)
    return max(longest.values(), default=0)


def _topo(g: _Graph) -> list:
    preds, succs = g.adjacency()
    missing = {i: len(p) for i, p in preds.items()}
    ready = [i for i, m in missing.items() if m == 0]
    out = []
    while ready:
        i = ready.pop()
        out.append(i)
        for j in succs[i]:
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
    return out


def _check_tensor(tensor, who: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"{who} expects a deepgrad Tensor (the output of a computation, e.g. a loss), "
            f"got {type(tensor).__name__}"
        )


def _names(params, model) -> dict:
    """id(tensor) -> name from model= and then params= (which wins); track_modules' record
    is consulted later, for tensors named by neither."""
    names = {}
    if model is not None:
        for name, p in model.named_parameters():
            names[id(p)] = name
    if params is not None:
        items = params.items() if isinstance(params, dict) else params
        for name, t in items:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"draw_graph: params[{name!r}] is a {type(t).__name__}, not a Tensor"
                )
            names[id(t)] = name
    return names


def _walk(root: Tensor) -> list:
    """Tensors behind ``root`` (root included), each after all the tensors it was made from."""
    return depth_first_order(
        [root], lambda t: reversed(t._ctx.inputs) if t._ctx is not None else ()
    )


# --------------------------------------------------------------------------- building
class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[str, str]] = []
        self.groups: dict[tuple, list[str]] = {}  # layer call -> its op node ids
        self._edge_set: set = set()

    def add_edge(self, a: str, b: str) -> None:
        if (a, b) not in self._edge_set:
            self._edge_set.add((a, b))
            self.edges.append((a, b))

    def adjacency(self):
        preds = {i: [] for i in self.nodes}
        succs = {i: [] for i in self.nodes}
        for a, b in self.edges:
            succs[a].append(b)
            preds[b].append(a)
        return preds, succs


def _fmt_array(a: np.ndarray) -> str:
    if a.size == 1:
        v = a.reshape(()).item()
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    return np.array2string(
        a,
        separator=", ",
        max_line_width=10_000,
        formatter={"float_kind": lambda v: f"{v:.4g}"},
    ).replace("\n", "")


def _shape_text(shape: tuple, dtype: str) -> str:
    return f"scalar {dtype}" if shape == () else f"{tuple(shape)} {dtype}"


def _build(root, names, model, show_values, show_grads, max_values) -> _Graph:
    g = _Graph()
    order = _walk(root)
    consumers: dict[int, int] = {}
    for t in order:
        if t._ctx is not None:
            for inp in t._ctx.inputs:
                consumers[id(inp)] = consumers.get(id(inp), 0) + 1

    def name_of(t):
        n = names.get(id(t))
        if n is None and t._ctx is None:
            ref, recorded = _PARAM_NAMES.get(id(t), (None, None))
            if ref is not None and ref() is t:
                n = recorded
        return n

    def is_constant(t):
        # scalars that do not need a gradient and have no name: the 0.5 in `0.5 * x`
        return t._ctx is None and not t.requires_grad and t._data.size == 1 and not name_of(t)

    tensor_ids: dict[int, str] = {}
    counter = {"t": 0, "op": 0}

    def new_id(prefix):
        i = counter[prefix]
        counter[prefix] = i + 1
        return f"{prefix}{i}"

    modules_by_path = dict(model.named_modules()) if model is not None else {}
    inferred: dict[str, tuple] = {}  # op id -> (path, type) when guessed from parameter names

    for t in order:
        if is_constant(t) and t is not root:
            continue
        if t._ctx is not None:
            ctx = t._ctx
            args, graph_inputs = [], []
            for inp in ctx.inputs:
                if is_constant(inp):
                    args.append(_fmt_array(inp._data))
                else:
                    args.append("·")
                    graph_inputs.append(inp)
            op_name = ctx.op_name()
            label = (
                op_name if len(graph_inputs) == len(ctx.inputs) else f"{op_name}({', '.join(args)})"
            )
            oid = new_id("op")
            owner = _OWNERS.get(ctx)
            g.nodes[oid] = Node(oid, "op", label, op=op_name, owner=owner)
            if owner is None:
                for inp in graph_inputs:
                    pname = name_of(inp)
                    if inp._ctx is None and pname and "." in pname and _is_param(inp):
                        path = pname.rpartition(".")[0]
                        module = modules_by_path.get(path)
                        inferred[oid] = (path, type(module).__name__ if module is not None else "")
                        break
            for inp in graph_inputs:
                g.add_edge(tensor_ids[id(inp)], oid)
        tid = new_id("t")
        tensor_ids[id(t)] = tid
        dtype = str(t.dtype).replace("deepgrad.", "")
        shape = tuple(t._data.shape)
        lines = []
        name = name_of(t)
        if name:
            lines.append(name)
        lines.append(_shape_text(shape, dtype))
        value = grad = None
        small = t._data.size <= max_values
        if show_values and small:
            value = np.array(t._data)
            lines.append(f"value {_fmt_array(value)}")
        if show_grads and small and t.grad is not None:
            grad = np.array(t.grad._data)
            lines.append(f"grad {_fmt_array(grad)}")
        g.nodes[tid] = Node(
            tid,
            "tensor",
            "\n".join(lines),
            name=name,
            shape=shape,
            dtype=dtype,
            value=value,
            grad=grad,
            requires_grad=bool(t.requires_grad),
            is_leaf=t._ctx is None,
            is_param=t._ctx is None and _is_param(t),
            is_root=t is root,
        )
        if t._ctx is not None:
            g.add_edge(oid, tid)

    # layer calls: recorded ones as they are; guessed ones split into connected pieces, so two
    # calls of one layer (shared weights) are not merged into one box
    for oid, node in g.nodes.items():
        if node.kind == "op" and node.owner is not None:
            g.groups.setdefault(node.owner, []).append(oid)
    if inferred:
        _group_inferred(g, inferred)
    return g


def _is_param(t) -> bool:
    from deepgrad.nn.parameter import Parameter

    return isinstance(t, Parameter)


def _group_inferred(g: _Graph, inferred: dict) -> None:
    parent = {o: o for o in inferred}

    def find(o):
        while parent[o] != o:
            parent[o] = parent[parent[o]]
            o = parent[o]
        return o

    preds, succs = g.adjacency()
    for oid in inferred:
        for tid in succs[oid]:
            for nxt in succs[tid]:
                if nxt in inferred and inferred[nxt][0] == inferred[oid][0]:
                    parent[find(nxt)] = find(oid)
    pieces: dict[str, int] = {}
    for oid in inferred:  # node order, so pieces are numbered by first appearance
        root = find(oid)
        call = pieces.setdefault(
            root, len([r for r in pieces if inferred[r][0] == inferred[oid][0]])
        )
        path, typ = inferred[oid]
        owner = (path, typ, call)
        g.nodes[oid].owner = owner
        g.groups.setdefault(owner, []).append(oid)


def _group_members(g: _Graph, ops: list, preds, succs) -> tuple[set, list]:
    """The nodes a layer call owns: its ops, the tensors only its ops use, and its parameters
    (leaves used by nothing else). Returns (members, parameter node ids)."""
    op_set = set(ops)
    members = set(ops)
    params = []
    for oid in ops:
        for tid in succs[oid]:
            n = g.nodes[tid]
            if not n.is_root and succs[tid] and all(c in op_set for c in succs[tid]):
                members.add(tid)
        for tid in preds[oid]:
            n = g.nodes[tid]
            if n.is_leaf and n.is_param and all(c in op_set for c in succs[tid]):
                if tid not in members:
                    members.add(tid)
                    params.append(tid)
    return members, params


def _owner_label(owner: tuple) -> str:
    path, typ, call = owner
    label = f"{path} · {typ}" if path and typ else path or typ
    return label + (f" (call {call + 1})" if call else "")


def _clusters(g: _Graph) -> dict:
    """Cluster label -> node ids, for the layer calls that are still drawn op by op."""
    if not g.groups:
        return {}
    preds, succs = g.adjacency()
    out = {}
    for owner, ops in g.groups.items():
        ops = [o for o in ops if o in g.nodes]
        if not ops:
            continue
        members, _ = _group_members(g, ops, preds, succs)
        out[_owner_label(owner)] = [i for i in g.nodes if i in members]
    return out


# --------------------------------------------------------------------------- collapsing
def _collapse_modules(g: _Graph) -> None:
    """Replace each layer call's ops, internal tensors and parameters by one module node."""
    if not g.groups:
        return
    for k, (owner, ops) in enumerate(list(g.groups.items())):
        preds, succs = g.adjacency()
        members, params = _group_members(g, ops, preds, succs)
        path, typ, call = owner
        mid = f"m{k}"
        lines = [_owner_label(owner)]
        parts = []
        for pid in params:
            p = g.nodes[pid]
            pname = p.name or "param"
            short = pname[len(path) + 1 :] if pname.startswith(path + ".") else pname
            lines.append(f"{short} {tuple(p.shape)}")
            parts.append(p)
        op_names = [g.nodes[o].op for o in ops]
        node = Node(mid, "module", "\n".join(lines), name=path, op=typ, owner=owner, parts=parts)
        node.count = len(ops)
        node.shape = None
        outside_in = [a for a, b in g.edges if b in members and a not in members]
        outside_out = [b for a, b in g.edges if a in members and b not in members]
        # the module node takes the place of its first op, keeping the drawing order stable
        first = min(members, key=list(g.nodes).index)
        new_nodes = {}
        for i, n in g.nodes.items():
            if i == first:
                new_nodes[mid] = node
            if i not in members:
                new_nodes[i] = n
        g.nodes = new_nodes
        g.edges = [(a, b) for a, b in g.edges if a not in members and b not in members]
        g._edge_set = set(g.edges)
        for a in outside_in:
            g.add_edge(a, mid)
        for b in outside_out:
            g.add_edge(mid, b)
        node.parts = parts + op_names
    g.groups = {}


def _signature(g: _Graph, uid: str, preds, side_of_rev) -> tuple:
    n = g.nodes[uid]
    leaf_shapes = tuple(
        g.nodes[p].shape for p in preds[uid] if g.nodes[p].kind == "tensor" and g.nodes[p].is_leaf
    )
    sides = tuple(_signature(g, s, preds, {}) for s in side_of_rev.get(uid, ()))
    if n.kind == "module":
        body = (n.op, tuple(tuple(p.shape) for p in n.parts if isinstance(p, Node)))
    else:
        body = (n.label,)
    return (n.kind, body, leaf_shapes, sides)


def _collapse_repeats(g: _Graph, min_repeats: int = 3, max_period: int = 12) -> None:
    """Collapse runs of identical blocks in chains of ops (see the module docstring)."""
    preds, succs = g.adjacency()
    units = [i for i, n in g.nodes.items() if n.kind in ("op", "module", "repeat")]
    unit_set = set(units)

    def out_tensors(u):
        return [t for t in succs[u] if g.nodes[t].kind == "tensor"]

    def is_leaf_input(t):
        return not preds[t]

    def plain(t):  # a tensor a chain may pass through without hiding anything worth seeing
        n = g.nodes[t]
        return not n.is_root and n.name is None and len(succs[t]) == 1

    # side units: ops on parameters only (e.g. W.T) feeding exactly one op: part of its block
    side_of: dict[str, str] = {}
    for u in units:
        outs = out_tensors(u)
        if (
            g.nodes[u].kind == "op"
            and len(outs) == 1
            and plain(outs[0])
            and preds[u]
            and all(is_leaf_input(t) and g.nodes[t].requires_grad for t in preds[u])
        ):
            side_of[u] = succs[outs[0]][0]
    side_rev: dict[str, list] = {}
    for s, v in side_of.items():
        side_rev.setdefault(v, []).append(s)

    def main_inputs(v):
        out = []
        for t in preds[v]:
            if is_leaf_input(t):
                continue
            producer = preds[t][0]
            if side_of.get(producer) == v:
                continue
            out.append(t)
        return out

    nxt, prv = {}, {}
    for u in units:
        if u in side_of:
            continue
        outs = out_tensors(u)
        if len(outs) != 1 or not plain(outs[0]):
            continue
        v = succs[outs[0]][0]
        if v in unit_set and v not in side_of and main_inputs(v) == [outs[0]]:
            nxt[u], prv[v] = v, u

    chains = []
    for u in units:
        if u in side_of or u in prv:
            continue
        chain = [u]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        if len(chain) >= min_repeats:
            chains.append(chain)

    hidden_total: set = set()
    new_nodes: list[tuple[str, Node, str, str, list]] = []
    for chain in chains:
        sigs = [_signature(g, u, preds, side_rev) for u in chain]
        i = 0
        while i < len(chain):
            best = None
            for p in range(1, min(max_period, (len(chain) - i) // min_repeats) + 1):
                k = 1
                while (
                    i + (k + 1) * p <= len(chain)
                    and sigs[i + k * p : i + (k + 1) * p] == sigs[i : i + p]
                ):
                    k += 1
                if k >= min_repeats and (best is None or k * p > best[0] * best[1]):
                    best = (k, p)
            if best is None:
                i += 1
                continue
            k, p = best
            hidden_units = chain[i + p : i + (k - 1) * p]
            before = out_tensors(chain[i + p - 1])[0]  # output of the first block
            after = out_tensors(hidden_units[-1])[0]  # input of the last block: stays visible
            hide = set()
            for u in hidden_units:
                hide.add(u)
                hide.update(side_rev.get(u, ()))
            for u in list(hide):
                for t in out_tensors(u):
                    if t != after:
                        hide.add(t)
            shared = []
            for u in list(hide):
                for t in preds[u]:
                    if is_leaf_input(t) and t not in hide:
                        if all(c in hide for c in succs[t]):
                            hide.add(t)
                        elif t not in shared:
                            shared.append(t)
            block = [_block_text(g.nodes[u]) for u in chain[i : i + p]]
            rid = f"r{len(new_nodes)}"
            label = f"⋯ × {k - 2} more\n" + " → ".join(block)
            node = Node(rid, "repeat", label, count=k - 2, parts=block)
            new_nodes.append((rid, node, before, after, shared))
            hidden_total |= hide
            i += k * p

    if not new_nodes:
        return
    # put each repeat node where its first hidden node was, so the DOT order stays readable
    order = list(g.nodes)
    insert_at = {}
    for rid, node, before, _, _ in new_nodes:
        insert_at[order[order.index(before) + 1]] = (rid, node)
    rebuilt = {}
    for i in order:
        if i in insert_at:
            rid, node = insert_at[i]
            rebuilt[rid] = node
        if i not in hidden_total:
            rebuilt[i] = g.nodes[i]
    for rid, node, *_ in new_nodes:
        rebuilt.setdefault(rid, node)
    g.nodes = rebuilt
    g.edges = [(a, b) for a, b in g.edges if a not in hidden_total and b not in hidden_total]
    g._edge_set = set(g.edges)
    for rid, _, before, after, shared in new_nodes:
        g.add_edge(before, rid)
        for t in shared:
            g.add_edge(t, rid)
        g.add_edge(rid, after)


def _block_text(n: Node) -> str:
    return n.op if n.kind == "module" and n.op else n.label.split("\n")[0]


# --------------------------------------------------------------------------- DOT text
def _q(text: str) -> str:
    return html.escape(text, quote=False)


def _html_label(n: Node) -> str:
    lines = n.label.split("\n")
    out = []
    for line in lines:
        if line.startswith("value "):
            out.append(f'<FONT COLOR="{_VALUE_COLOR}">{_q(line[6:])}</FONT>')
        elif line.startswith("grad "):
            out.append(f'<FONT COLOR="{_GRAD_COLOR}">grad {_q(line[5:])}</FONT>')
        elif n.kind == "tensor" and line == n.name:
            out.append(f"<B>{_q(line)}</B>")
        elif n.kind == "tensor":
            out.append(f'<FONT POINT-SIZE="9" COLOR="#475569">{_q(line)}</FONT>')
        elif n.kind in ("module", "repeat") and out:
            out.append(f'<FONT POINT-SIZE="9">{_q(line)}</FONT>')
        else:
            out.append(f"<B>{_q(line)}</B>")
    return "<" + "<BR/>".join(out) + ">"


def _node_attrs(n: Node) -> str:
    if n.kind == "op":
        style = f'shape=ellipse, style=filled, fillcolor="{_OP_FILL}"'
    elif n.kind == "module":
        style = f'shape=box, style="rounded,filled", fillcolor="{_MODULE_FILL}"'
    elif n.kind == "repeat":
        style = f'shape=box, style="rounded,filled,dashed", fillcolor="{_REPEAT_FILL}"'
    else:
        kind = (
            "root"
            if n.is_root
            else "param"
            if n.is_leaf and n.requires_grad
            else "data"
            if n.is_leaf
            else "tensor"
        )
        style = f'shape=box, style="rounded,filled", fillcolor="{_FILL[kind]}"'
        if n.is_root:
            style += ", penwidth=2"
    return f"{n.id} [label={_html_label(n)}, {style}];"


def _to_dot(d: GraphDrawing) -> str:
    lines = [
        "digraph deepgrad {",
        f'  graph [rankdir={d.rankdir}, fontname="Helvetica", fontsize=11, nodesep=0.25, '
        "ranksep=0.3];",
        '  node [fontname="Helvetica", fontsize=11, margin="0.08,0.04", height=0.3];',
        '  edge [color="#64748b", arrowsize=0.7];',
    ]
    in_cluster = {i for ids in d.clusters.values() for i in ids}
    for n in d.nodes:
        if n.id not in in_cluster:
            lines.append("  " + _node_attrs(n))
    for k, (label, ids) in enumerate(d.clusters.items()):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(
            f'    label=<{_q(label)}>; style="rounded,dashed"; color="#16a34a"; '
            'fontcolor="#166534";'
        )
        for i in ids:
            lines.append("    " + _node_attrs(d._by_id[i]))
        lines.append("  }")
    for a, b in d.edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"
