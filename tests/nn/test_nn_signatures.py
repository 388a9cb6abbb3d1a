"""The functions and layers of ``deepgrad.nn`` take PyTorch's arguments: the same names, in the
same order, of the same kind, with the same defaults, as ``inspect.signature`` (and so ``help()``)
shows them. Oracle: torch 2.13's own signatures."""

from __future__ import annotations

import inspect

import pytest
import torch

import deepgrad

# deepgrad leaves these arguments out on purpose (not implemented); the test checks that each
# entry still differs, so the list cannot go stale
DIFFERENT = {
    "nn.functional.embedding": "max_norm, norm_type, scale_grad_by_freq, sparse",
    "nn.functional.instance_norm": "running statistics (use_input_stats, momentum)",
    "nn.Hardtanh": "the deprecated min_value and max_value",
    "nn.InstanceNorm2d": "bias",
    "nn.LazyBatchNorm1d": "bias",
    "nn.LazyBatchNorm2d": "bias",
    "nn.SyncBatchNorm": "bias",
}


def _arguments(fn) -> list[tuple]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(fn).parameters.values()
        if not p.name.startswith("_")  # private hooks such as _layer and _stacklevel
    ]


def _torch_arguments(namespace, name: str) -> list[tuple] | None:
    fn = getattr(namespace, name)
    try:
        arguments = _arguments(fn)
    except (TypeError, ValueError):
        # a C builtin (conv2d, avg_pool2d): its docstring opens with the signature
        head = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        if not head.startswith(f"{name}(") or ")" not in head:
            return None
        return _arguments(eval(f"lambda {head[len(name) + 1 : head.rindex(')')]}: None"))
    if [a for a, *_ in arguments] == ["args", "kwargs"]:
        # a wrapper: boolean dispatch (max_pool2d's return_indices) keeps the real signature
        # in _name; deprecated aliases have nothing to compare
        private = getattr(namespace, f"_{name}", None)
        return _arguments(private) if private is not None else None
    return arguments


def _pairs():
    for namespace in ("nn.functional", "nn.init", "nn"):
        ours, theirs = deepgrad, torch
        for part in namespace.split("."):
            ours, theirs = getattr(ours, part), getattr(theirs, part)
        for name in sorted(vars(ours)):
            mine = getattr(ours, name)
            if name.startswith("_") or not callable(mine) or not hasattr(theirs, name):
                continue
            expected = _torch_arguments(theirs, name)
            if expected is not None:
                yield f"{namespace}.{name}", mine, expected


PAIRS = list(_pairs())


def test_the_comparison_covers_the_api():
    names = {name for name, *_ in PAIRS}
    assert len(PAIRS) > 100
    assert {"nn.functional.conv1d", "nn.functional.avg_pool2d", "nn.functional.max_pool1d"} <= names
    assert {"nn.functional.mse_loss", "nn.init.kaiming_uniform_"} <= names
    assert {"nn.Conv2d", "nn.MaxPool1d", "nn.CrossEntropyLoss", "nn.ParameterDict"} <= names


@pytest.mark.parametrize("name, ours, expected", PAIRS, ids=[name for name, *_ in PAIRS])
def test_arguments_match_torch(name, ours, expected):
    same = _arguments(ours) == expected
    if name in DIFFERENT:
        assert not same, f"{name} now matches torch: remove it from DIFFERENT"
    else:
        assert same, f"{name}{inspect.signature(ours)} differs from torch's {expected}"
