"""ops/ and optim/ read as references: they reach the kernels only through the dispatch
functions of ``deepgrad.kernels`` (never llvmlite, never a kernel module's internals)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import deepgrad
from deepgrad import kernels

SRC = Path(deepgrad.__file__).parent
DISPATCH = {
    name
    for name, fn in vars(kernels).items()
    if inspect.isfunction(fn) and fn.__module__ == "deepgrad.kernels"
}


def _files(*packages):
    for package in packages:
        yield from sorted((SRC / package).glob("*.py"))


def test_dispatch_functions_exist():
    assert {"relu_forward", "relu_backward", "conv2d", "max_pool2d", "optimizer_step"} <= DISPATCH


def test_ops_and_optim_use_only_the_dispatch_functions():
    for path in _files("ops", "optim"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            for name in names:
                assert not name.startswith("llvmlite"), f"{path.name} imports {name}"
                assert not name.startswith("deepgrad.kernels."), f"{path.name} imports {name}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "kernels":
                    assert node.attr in DISPATCH, f"{path.name} uses kernels.{node.attr}"
