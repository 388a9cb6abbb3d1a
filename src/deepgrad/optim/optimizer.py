"""``Optimizer``: parameter groups, lazily created per-parameter state, ``state_dict``.

An optimiser holds a list of *parameter groups*. Each group is a dict with the tensors to update
under ``"params"`` and that group's hyper-parameters (``lr``, ``weight_decay``, ...); values not
given in a group come from the optimiser's ``defaults``. Per-parameter state (momentum buffers,
moment estimates, step counts) lives in ``optimizer.state[p]`` and is created on the first
``step()`` that sees a gradient for ``p``.

Every ``step()`` in ``deepgrad.optim`` works on the raw arrays (``p._data``, ``p.grad._data``)
with in-place NumPy updates: no Tensor ops, no autograd graph, state buffers allocated once.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from deepgrad import kernels
from deepgrad.autograd import enable_grad
from deepgrad.backend import array_module
from deepgrad.device import device_of, move
from deepgrad.tensor import Tensor, _wrap


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must set (no usable default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(x) -> str:
    return f"{type(x).__module__}.{type(x).__qualname__}"


class Optimizer:
    """Base class of all optimisers (PyTorch's ``torch.optim.Optimizer``).

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
            groups), each with a ``"params"`` entry and optional per-group hyper-parameters.
        defaults: the hyper-parameters used where a group does not set its own.

    Subclasses write their update rule for one parameter, ``_update(x, g, state, group)``,
    and name their state buffers (``_state_buffers``); ``step`` runs the loop, makes the state
    and takes the fused kernel (``_fused_step``) or a GPU kernel (``_gpu_update``) where there
    is one. The parameters need not be ``nn.Parameter``: any leaf tensor works; parameters
    whose ``.grad`` is None are skipped.

    Deviation from PyTorch, on purpose: ``load_state_dict`` copies the loaded buffers, so the
    optimiser never shares (and later mutates) arrays with the dict it was loaded from.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}; wrap a single tensor in a list: [w]"
            )
        if callable(params) and not isinstance(params, Iterable):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got the callable {getattr(params, '__qualname__', params)!r}; "
                "call it: model.parameters(), not model.parameters"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict = {}

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list. Pass model.parameters() or a list of "
                "tensors; note that a generator such as model.parameters() can be consumed only "
                "once, and a model with no registered parameters has nothing to optimise."
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---------------------------------------------------------------- pickling and printing
    def __getstate__(self) -> dict[str, Any]:
        # Like PyTorch: only what defines the optimiser; scratch buffers and wrappers are
        # rebuilt on demand.
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._scratch = {}

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group.keys()):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyper-parameters) to ``param_groups``.

        Useful when fine-tuning: unfreeze layers and hand them to the optimiser mid-training.
        Hyper-parameters the group leaves out are taken from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{_typename(param)}"
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError(
                    "can't optimize a non-leaf Tensor: it was computed from other tensors, so "
                    "updating it would not change the model. Optimise the leaf tensors it came "
                    "from, or make a new leaf with t.detach().requires_grad_()."
                )

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; each would be "
                "updated twice per step. Pass each tensor once.",
                stacklevel=3,
            )

        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---------------------------------------------------------------- gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimised tensors.

        ``set_to_none=True`` (the default) sets ``p.grad = None``: cheaper, and a parameter that
        gets no gradient in the next backward pass is then skipped by ``step()`` (a zero
        gradient would still move it through momentum or weight decay).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g._ctx = None
                    g.requires_grad = False
                    if isinstance(g._data, np.generic):  # a NumPy scalar cannot be filled
                        g._data = np.zeros_like(g._data)
                    else:
                        g._data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient once; returns the loss that ``closure``
        (optional: it re-evaluates the model) returns.

        The loop is the same for every algorithm: each parameter's state is made on its first
        step and its step counted (``_state_of``); then a group runs as one fused pass where
        it can (``_fused_step``), else parameter by parameter (``_update``, the reference).
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            states = [self._state_of(p, group) for p in params]
            if _wants_kernels(group) and self._fused_step(group, params, states):
                continue
            for p, state in zip(params, states):
                x, g = p._data, p.grad._data
                if type(x) is np.ndarray or not self._gpu_update(x, g, state, group):
                    self._update(x, g, state, group)
        return loss

    # ------------------------------------------------ what each algorithm writes
    def _update(self, x: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        """One step of the algorithm for one parameter: ``x`` (updated in place) with its
        gradient ``g`` (read only), its ``state`` and its group's hyper-parameters."""
        raise NotImplementedError

    def _state_buffers(self, group: dict) -> list[str]:
        """Names of the per-parameter buffers, zeros at first (the fused kernel's order)."""
        return []

    def _init_state(self, state: dict, x: np.ndarray, group: dict) -> None:
        """Fill the empty ``state`` of the parameter ``x`` (PyTorch's lazy state)."""
        state["step"] = 0.0
        for name in self._state_buffers(group):
            state[name] = _wrap(np.zeros_like(x))

    def _state_of(self, p: Tensor, group: dict) -> dict | None:
        """``p``'s state for this step: made on its first step, with its step counted."""
        state = self.state[p]
        if not state:
            self._init_state(state, p._data, group)
        state["step"] += 1.0
        return state

    def _fused_step(self, group: dict, params: list, states: list) -> bool:
        """The group's whole update as one fused pass; False (nothing changed) where there is
        no kernel for it. Algorithms with a kernel call ``_run_kernel``."""
        return False

    def _run_kernel(self, algorithm, group, params, states, flags, scalars) -> bool:
        """``kernels.optimizer_step`` over the group: each parameter's array, gradient and
        state buffers (``_state_buffers``) with its ``scalars``; False if it cannot run."""
        names = self._state_buffers(group)
        arrays = [
            [p._data, p.grad._data] + [state[name]._data for name in names]
            for p, state in zip(params, states)
        ]
        return kernels.optimizer_step(algorithm, flags, arrays, scalars)

    def _gpu_update(self, x, g, state: dict | None, group: dict) -> bool:
        """``_update`` for a parameter on a GPU as one CUDA kernel; False where there is none
        (the NumPy-style reference then runs on the GPU arrays)."""
        return False

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _tmp(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``like``, reused across parameters and steps.

        Parameters are updated one after another, so one flat buffer per (dtype, slot), as large
        as the largest parameter, serves them all; steps allocate nothing once it exists.
        """
        key = (like.dtype, slot, type(like))  # type: one buffer per device
        buf = self._scratch.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = array_module(like).empty(n, dtype=like.dtype)
            self._scratch[key] = buf
        return buf[:n].reshape(like.shape)

    def _direction(self, x: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool):
        """The gradient the update uses, ``(-g if maximize else g) + weight_decay * x``.

        Returns ``g`` itself when there is nothing to add (it must then not be written to), else
        a scratch array (slot 0): like PyTorch, ``p.grad`` is never modified.
        """
        if weight_decay:
            d = self._tmp(x, 0)
            np.multiply(x, weight_decay, out=d)
            if maximize:
                np.subtract(d, g, out=d)
            else:
                np.add(d, g, out=d)
            return d
        if maximize:
            d = self._tmp(x, 0)
            np.negative(g, out=d)
            return d
        return g

    # ---------------------------------------------------------------- state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as ``{"state": {index: {...}}, "param_groups": [{...}]}``.

        PyTorch's layout: parameters are replaced by their position across all groups (0, 1,
        ...), so the dict can be saved and later loaded into an optimiser built over the same
        parameters in the same order. State values are Tensors (buffers, returned by reference
        as in PyTorch) or numbers (``step``).
        """
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict from :meth:`state_dict` (after ``deepgrad.save``/``load`` or as is).

        Buffers are copied and cast to their parameter's floating dtype; ``step`` counts become
        Python floats. Integer-like string keys (``"0"``, as JSON writes them) are accepted.
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than this optimizer ({len(groups)})"
            )
        ours = [len(g["params"]) for g in groups]
        theirs = [len(g["params"]) for g in saved_groups]
        if ours != theirs:
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                f"optimizer's group: saved group sizes {theirs}, this optimizer's {ours}. Build "
                "the optimizer over the same parameters, in the same order, as when it was saved."
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if isinstance(k, str) and k.isdigit():
                k = int(k)
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast(param, val, key) for key, val in v.items()}
            else:
                state[k] = v
        param_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            param_groups.append(new_group)
        self.__setstate__({"state": state, "param_groups": param_groups})
        for group in self.param_groups:
            for name, default in self.defaults.items():
                group.setdefault(name, default)


def _floats(group: dict, *names: str) -> list:
    """The group's hyper-parameters ``names`` as Python floats (``betas`` a pair of them).

    NumPy rounds a Python float to the array's dtype, as PyTorch does a Python scalar; a NumPy
    float64 scalar would instead make float32 arithmetic happen in float64.
    """
    values = (group[name] for name in names)
    return [tuple(map(float, v)) if isinstance(v, (tuple, list)) else float(v) for v in values]


def _wants_kernels(group: dict) -> bool:
    """True unless the group asks for the plain NumPy step (see ``hyperparameters._fast_path``)."""
    foreach, fused = group.get("foreach"), group.get("fused")
    return bool(foreach or fused) or (foreach is not False and fused is not False)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_`` does.

    Like PyTorch, weights of 0.5 and above use ``end - (end - start) * (1 - weight)``, which is
    exact at ``weight = 1`` (PyTorch fuses the multiply-add, so the last bit can still differ).
    """
    np.subtract(end, start, out=tmp)
    if weight < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=start)


def _as_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach"):  # a torch.Tensor, e.g. from a PyTorch optimiser's state_dict
        value = value.detach().cpu()
    return np.asarray(value)


def _cast(param: Tensor, value, key=None):
    """A private copy of one saved state value, with buffers in the parameter's dtype."""
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    if isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "__array__"):
        arr = _as_array(value)
        if key == "step":
            return float(arr)
        floating = param._data.dtype.kind == "f" and arr.dtype.kind == "f"
        dtype = param._data.dtype if floating else arr.dtype
        arr = move(arr, device_of(param._data))  # state follows its parameter's device
        return _wrap(array_module(arr).array(arr, dtype=dtype, copy=True))
    return value
