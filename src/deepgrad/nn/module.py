"""``Module``: the base class of every layer and model, with PyTorch's semantics.

Assigning a ``Parameter``, a ``Module`` or a registered buffer to an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()``/``eval()`` and dtype conversion reach every
part of a model without the model listing them by hand.

Beyond PyTorch: when a layer rejects its input (a ``LayerInputError``), every parent module the
error passes through prefixes the layer's attribute name, so the message names the layer's path
in the whole model (for example ``'layers.2'``), not just its class.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

import numpy as np

from deepgrad import dtypes
from deepgrad.autograd.grad_mode import no_grad
from deepgrad.device import as_device, device_of, move
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor, _check_device, _wrap


class LayerInputError(RuntimeError):
    """A layer got an input it cannot use (wrong feature count, dtype or rank).

    The message is completed while the error travels up through ``Module.__call__``: each
    parent that holds the failing layer as a registered child prefixes its attribute name, so
    the final text reads ``Linear layer 'layers.2' (in_features=256) got input of shape ...``.
    """

    def __init__(self, module: Module, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.module = module
        self.problem = problem
        self.fix = fix
        self.path: list[str] = []
        self._current = module  # the outermost module whose name is already in ``path``
        self._lost = False  # the chain broke (a child not registered): stop prefixing

    def _entered(self, parent: Module) -> None:
        """Called by ``parent.__call__`` as the error passes: prefix the child's name (or the
        dotted path to a deeper descendant); a module not registered under ``parent`` ends
        the prefixing, so the path stays correct, if partial."""
        if self._lost or self._current is parent:
            return
        for name, child in parent._modules.items():
            if child is self._current:
                self.path.insert(0, name)
                self._current = parent
                return
        # called directly on a grandchild (self.block.fc(x)): look deeper
        for name, module in parent.named_modules():
            if module is self._current and name:
                self.path[:0] = name.split(".")
                self._current = parent
                return
        self._lost = True

    def __str__(self) -> str:
        where = f" '{'.'.join(self.path)}'" if self.path else ""
        text = f"{type(self.module).__name__} layer{where} {self.problem}"
        return f"{text}. {self.fix}" if self.fix else text


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Module:
    """Base class for all layers and models.

    Subclasses call ``super().__init__()`` first, assign their parameters and sub-modules as
    attributes, and define ``forward``. Calling the module (``model(x)``) runs ``forward``.
    """

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() passed unexpected arguments to "
                f"Module.__init__(): call super().__init__() without arguments"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: '
            "define forward(self, x) in the class"
        )

    def __call__(self, *args, **kwargs):
        if self._forward_hooks or self._forward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        try:
            return self.forward(*args, **kwargs)
        except LayerInputError as err:
            err._entered(self)
            raise

    def _call_with_hooks(self, args, kwargs):
        try:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
            out = self.forward(*args, **kwargs)
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
            return out
        except LayerInputError as err:
            err._entered(self)
            raise

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs, output)`` runs after ``forward``; a non-None return replaces
        the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs)`` runs before ``forward``; a non-None return replaces the
        inputs."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(_before_init(self, "assign parameters"))
            _remove_from(d, name, keep=params)
            params[name] = value
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError(_before_init(self, "assign modules"))
            _remove_from(d, name, keep=modules)
            modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as parameter '{name}' of "
                    f"{type(self).__name__} (deepgrad.nn.Parameter or None expected). Wrap it "
                    f"with nn.Parameter(...), or change the values in place: "
                    f"with torch.no_grad(): module.{name}.copy_(new_values)"
                )
            params[name] = None
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as child module '{name}' of "
                    f"{type(self).__name__} (a Module or None expected)"
                )
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as buffer '{name}' of "
                    f"{type(self).__name__} (a Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            if isinstance(value, (list, tuple)) and value and _has_module(value):
                warnings.warn(
                    f"{type(self).__name__}.{name} is a plain Python {type(value).__name__} of "
                    f"modules: their parameters are NOT registered, so model.parameters() and "
                    f"the optimiser will not see them. Use nn.ModuleList([...]) (or "
                    f"nn.Sequential(...)) instead.",
                    stacklevel=2,
                )
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}'. "
                + _before_init(self, "use the module").replace("cannot", "Cannot", 1)
            )
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                del s[name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(keys))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder, e.g. a missing bias) under ``name``."""
        _check_registration(
            self, "parameter", name, param, Parameter, "deepgrad.nn.Parameter",
            "; wrap it with nn.Parameter(...)",
        )  # fmt: skip
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not learnable (e.g. BatchNorm's running mean).

        Persistent buffers are saved in ``state_dict``; all buffers follow ``.double()`` etc.
        """
        _check_registration(self, "buffer", name, tensor, Tensor, "Tensor")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str) or "." in name or name == "":
            raise KeyError(f'module name must be a non-empty string without ".", got {name!r}')
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` (e.g. ``'layers.2'``); ``''`` is self."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}`")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (e.g. ``'layers.2.weight'``)."""
        return self._get_member(target, "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (e.g. ``'bn.running_mean'``)."""
        return self._get_member(target, "buffer")

    def _get_member(self, target: str, kind: str):
        prefix, _, name = target.rpartition(".")
        mod = self.get_submodule(prefix)
        store = getattr(mod, f"_{kind}s")
        if name not in store:
            raise AttributeError(f"{type(mod).__name__} has no {kind} `{name}`")
        return store[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def _module_list(self) -> list[Module]:
        """Self and every descendant, each once, in ``named_modules`` order (pre-order depth
        first), without building names: the fast path behind ``parameters()``."""
        out, seen, stack = [], set(), [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            children = [c for c in m._modules.values() if c is not None]
            stack.extend(reversed(children))
        return out

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each shared one once), in ``named_parameters`` order."""
        out, seen = [], set()
        for m in self._module_list() if recurse else (self,):
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
        return iter(out)

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on self; returns self.

        Typical use: custom initialisation, ``model.apply(init_weights)``.
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``. Does not turn off gradients (use no_grad)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default, as PyTorch) or to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0

    # ------------------------------------------------------------------ dtype / device
    def _apply(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        """Replace every floating parameter/buffer array (and gradient) by ``fn(array)``,
        keeping the Parameter objects themselves, so an optimiser built earlier still holds
        them."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                p._data = fn(p._data)
                if p.grad is not None:
                    p.grad._data = fn(p.grad._data)
            for b in module._buffers.values():
                if b is not None:
                    b._data = fn(b._data)
        return self

    def _cast(self, np_dtype) -> Module:
        target = np.dtype(np_dtype)
        if target.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={target}"
            )

        def fn(a):
            return a.astype(target) if a.dtype.kind == "f" and a.dtype != target else a

        return self._apply(fn)

    def double(self) -> Module:
        """Convert floating parameters and buffers to float64 (in place); returns self."""
        return self._cast(np.float64)

    def float(self) -> Module:
        return self._cast(np.float32)

    def half(self) -> Module:
        return self._cast(np.float16)

    def type(self, dst_type) -> Module:
        return self._cast(dtypes.to_numpy_dtype(dst_type))

    def to(self, *args, **kwargs) -> Module:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(tensor)``, in place."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (dtypes.dtype, np.dtype)) or a in (float, np.float32, np.float64):
                dtype = a
            elif a is not None:
                device = a
        if dtype is not None:
            self._cast(dtypes.to_numpy_dtype(dtype))
        if device is not None:
            _check_device(device)
            target = as_device(device)
            # parameters and buffers move in place (same objects), so an optimiser built
            # before .to(device) keeps working, as in PyTorch
            self._apply(lambda a: move(a, target))
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU (in place); returns self."""
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        """Move every parameter and buffer to a GPU (in place); returns self."""
        if isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device if device is not None else "cuda")

    def share_memory(self) -> Module:
        return self

    # ------------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else _wrap(p._data)
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else _wrap(b._data)

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict from dotted names to tensors: parameters and persistent buffers.

        The tensors share storage with the model (no copy), detached, as in PyTorch; save it
        with ``deepgrad.save`` or copy it with ``copy.deepcopy``.
        """
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)  # fmt: skip
        return destination

    def _local_state(self) -> dict:
        state = {k: v for k, v in self._parameters.items() if v is not None}
        for k, v in self._buffers.items():
            if v is not None and k not in self._non_persistent_buffers_set:
                state[k] = v
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` into this model's parameters and buffers.

        Values may be deepgrad tensors, NumPy arrays or anything array-like (a PyTorch
        ``state_dict`` loads directly). With ``strict=True`` missing or unexpected keys are an
        error; a shape mismatch is always an error. All problems are listed in one message.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = {}
        for prefix, mod in self.named_modules():
            for name, t in mod._local_state().items():
                own[prefix + ("." if prefix else "") + name] = (mod, name, t)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        staged = []
        for key, (mod, name, t) in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != t._data.shape:
                mismatched.append((key, arr.shape, t._data.shape))
                continue
            staged.append((mod, name, t, arr))
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if strict and unexpected:
            errors.append(
                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
            )
        for key, got, want in mismatched:
            errors.append(
                f"size mismatch for {key}: copying a param with shape {tuple(got)} from "
                f"checkpoint, the shape in current model is {tuple(want)}."
            )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
                + "\nThe checkpoint was saved from a model with a different structure. Build "
                "the model with the same layers and sizes as when it was saved, or pass "
                "strict=False to load only the keys that exist in both (shapes must still "
                "match)."
            )
        with no_grad():
            for mod, name, t, arr in staged:
                if assign:
                    new = arr.astype(t._data.dtype, copy=True)
                    if isinstance(t, Parameter):
                        mod._parameters[name] = Parameter(_wrap(new), t.requires_grad)
                    else:
                        mod._buffers[name] = _wrap(new)
                else:  # a checkpoint may come from another device (torch's map_location)
                    np.copyto(t._data, move(arr, device_of(t._data)), casting="unsafe")
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _indent(repr(module)))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for key, default in (
            ("_forward_hooks", {}),
            ("_forward_pre_hooks", {}),
            ("_non_persistent_buffers_set", set()),
        ):
            self.__dict__.setdefault(key, default)


def _indent(text: str) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + ["  " + line for line in lines[1:]])


def _before_init(module: Module, what: str) -> str:
    return (
        f"cannot {what} before Module.__init__() call: call super().__init__() at the start of "
        f"{type(module).__name__}.__init__"
    )


def _check_registration(module: Module, kind: str, name: str, value, expected: type,
                        expected_name: str, hint: str = "") -> None:  # fmt: skip
    """What register_parameter and register_buffer check: ``Module.__init__`` has run, the name
    is new and valid, and the value is an ``expected`` (or None)."""
    if f"_{kind}s" not in module.__dict__:
        raise AttributeError(_before_init(module, f"register {kind}s"))
    _check_name(module, name, kind)
    if value is not None and not isinstance(value, expected):
        raise TypeError(
            f"cannot assign a {type(value).__name__} as {kind} '{name}' ({expected_name} or None "
            f"required){hint}"
        )


def _check_name(module: Module, name: str, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f'{kind} name must be a non-empty string without ".", got {name!r}')
    if name in module.__dict__ and name not in getattr(module, f"_{kind}s", ()):
        raise KeyError(f"attribute '{name}' already exists")


def _remove_from(d: dict, name: str, keep: dict) -> None:
    """An attribute name lives in exactly one place: drop it from the others."""
    d.pop(name, None)
    for store in ("_parameters", "_buffers", "_modules"):
        s = d.get(store)
        if s is not None and s is not keep:
            s.pop(name, None)
    nps = d.get("_non_persistent_buffers_set")
    if nps is not None:
        nps.discard(name)


def _has_module(items) -> bool:
    return any(isinstance(v, Module) for v in items)
