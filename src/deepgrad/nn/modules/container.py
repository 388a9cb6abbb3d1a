"""Containers: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict`` (registered
collections), ``ParameterList`` and ``ParameterDict``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from deepgrad.dtypes import legacy_type_name
from deepgrad.nn.module import Module
from deepgrad.nn.modules._relu_pairs import fusable, layer_then_relu
from deepgrad.nn.parameter import Parameter


def _index(idx, n: int, kind: str) -> int:
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for a {kind} of length {n}")
    return idx % n


class _ListContainer(Module):
    """What Sequential, ModuleList and ParameterList share: entries kept in order in one of the
    module's registries (``_store``), addressed by position."""

    _store: str  # "_modules" or "_parameters"

    def _entries(self) -> dict:
        return self.__dict__[self._store]

    def _register(self, name: str, value) -> None:
        raise NotImplementedError

    def _key(self, idx) -> str:
        keys = list(self._entries())
        return keys[_index(idx, len(keys), type(self).__name__)]

    def _renumber(self, values: list) -> None:
        """Store ``values`` under the names '0'..'n-1' (PyTorch's names after a deletion or an
        insertion)."""
        self._entries().clear()
        for i, value in enumerate(values):
            self._register(str(i), value)

    def _slice(self, idx: slice):
        return type(self)(list(self)[idx])

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator:
        return iter(self._entries().values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._entries()[self._key(idx)]

    def __setitem__(self, idx, value) -> None:
        self._register(self._key(idx), value)

    def __delitem__(self, idx) -> None:
        values = list(self)
        del values[idx if isinstance(idx, slice) else _index(idx, len(values), type(self).__name__)]
        self._renumber(values)

    def append(self, value):
        self._register(str(len(self)), value)
        return self

    def extend(self, values: Iterable):
        for value in values:
            self.append(value)
        return self

    def pop(self, index: int = -1):
        value = self[index]
        del self[index]
        return value


class Sequential(_ListContainer):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Built from modules (named ``'0'``, ``'1'``, ...) or from an ``OrderedDict`` of named ones.
    Supports ``len``, iteration, indexing (``seq[-1]``) and slicing (a new ``Sequential``
    sharing the same layers).
    """

    _store = "_modules"
    _register = Module.add_module

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                if not isinstance(module, Module):
                    raise TypeError(
                        f"Sequential: argument {i} is a {type(module).__name__}, not a Module. "
                        "Pass layer instances, e.g. nn.ReLU() rather than nn.ReLU or "
                        "torch.relu."
                    )
                self.add_module(str(i), module)

    def forward(self, input):
        modules = tuple(self._modules.values())
        done = False  # the ReLU at this position already ran with the layer before it
        for i, module in enumerate(modules):
            if done:
                done = False
            elif i + 1 < len(modules) and fusable(module, modules[i + 1]):
                input, done = layer_then_relu(module, input)  # see _relu_pairs.py
            else:
                input = module(input)
        return input

    def _slice(self, idx: slice) -> Sequential:
        # the slice keeps the layers' names, as PyTorch's does
        return type(self)(OrderedDict(list(self._modules.items())[idx]))

    def insert(self, index: int, module: Module) -> Sequential:
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        modules = list(self)
        modules.insert(index % (n + 1), module)
        self._renumber(modules)
        return self

    def __add__(self, other: Sequential) -> Sequential:
        return Sequential().extend(list(self) + list(other))


class _ParameterEntries:
    """What ParameterList and ParameterDict share: values become Parameters as they are stored,
    and print in PyTorch's layout."""

    _store = "_parameters"

    def _register(self, name: str, value) -> None:
        if not isinstance(value, Parameter):
            value = Parameter(value)
        self.register_parameter(name, value)

    def extra_repr(self) -> str:
        return "\n".join(  # two leading spaces, as PyTorch
            f"  ({k}): Parameter containing: [deepgrad.{self._type_name(p)} of size "
            f"{'x'.join(map(str, p.shape))}]"
            for k, p in self._parameters.items()
        )


class ModuleList(_ListContainer):
    """A list of modules whose parameters are registered (a plain Python list's are not).

    Use it when the forward pass is not a simple chain: ``for layer in self.layers: ...``.
    """

    _store = "_modules"
    _register = Module.add_module

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules")
        return super().extend(modules)

    def insert(self, index: int, module: Module) -> None:
        modules = list(self)
        modules.insert(index, module)
        self._renumber(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward: it is a container. Loop over it in your own forward: "
            "for layer in self.layers: x = layer(x)"
        )

    def __repr__(self) -> str:
        # Runs of identical layers print once, as "(0-2): 3 x Linear(...)" (as PyTorch).
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = [[0, 0, reprs[0]]]
        for i, r in enumerate(reprs[1:], 1):
            if r == blocks[-1][2]:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            text = (
                f"({start}): {r}" if start == end else f"({start}-{end}): {end - start + 1} x {r}"
            )
            lines.append("\n  ".join(text.split("\n")))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ParameterList(_ParameterEntries, _ListContainer):
    """A list of parameters, each registered (named ``'0'``, ``'1'``, ...)."""

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def _type_name(p: Parameter) -> str:
        return p.dtype.name


class _DictContainer(Module):
    """What ModuleDict and ParameterDict share: a dict view, in insertion order, of one of the
    module's registries (``_store``)."""

    _store: str  # "_modules" or "_parameters"

    def _entries(self) -> dict:
        return self.__dict__[self._store]

    def _register(self, name: str, value) -> None:
        raise NotImplementedError

    def __getitem__(self, key: str):
        return self._entries()[key]

    def __setitem__(self, key: str, value) -> None:
        self._register(key, value)

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key: str) -> bool:
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def clear(self) -> None:
        self._entries().clear()

    def pop(self, key: str):
        return self._entries().pop(key)

    def update(self, entries) -> None:
        pairs = entries.items() if hasattr(entries, "items") else entries
        for key, value in pairs:
            self[key] = value


class ModuleDict(_DictContainer):
    """A dict of modules whose parameters are registered, in insertion order."""

    _store = "_modules"
    _register = Module.add_module

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleDict has no forward: it is a container. Index it in your own forward: "
            "x = self.blocks['encoder'](x)"
        )


class ParameterDict(_ParameterEntries, _DictContainer):
    """A dict of parameters, each registered under its key."""

    def __init__(self, parameters=None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _type_name(p: Parameter) -> str:
        return legacy_type_name(p._data.dtype)  # FloatTensor: PyTorch's repr here
