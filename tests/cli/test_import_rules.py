"""The layering of src/deepgrad, read from the source with ``ast`` (nothing is imported).

- The library (everything but the apps) imports no app: ``cli``, ``train``, ``viz`` and
  ``playground`` are built on the library, never the other way round.
- An app imports no private name (``_x``) of a module outside its own package: a private name
  another module needs is a public helper waiting to be named.
- No two packages import each other, besides the few cycles listed in KNOWN_CYCLES.

Imports inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
APPS = ("deepgrad.cli", "deepgrad.train", "deepgrad.viz", "deepgrad.playground")

# (library module, app package) pairs still allowed: none (deepgrad.summary now lives in the
# library, as deepgrad.utils.summary).
LIBRARY_TO_APP_ALLOWED: set[tuple[str, str]] = set()

# (importing module, imported module, name): private names an app may still import.
PRIVATE_ALLOWED: set[tuple[str, str, str]] = set()

# Pairs of packages that import each other: only the engine's, by design (a Tensor records
# Functions, a Function makes Tensors). The factories build on Tensor, never the other way; the
# GPU code depends on the core, which calls it through the backend it registers (device.py).
KNOWN_CYCLES = {
    frozenset({"deepgrad.tensor", "deepgrad.autograd"}),
}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _read_tree() -> dict[str, str]:
    return {
        _module_name(p): p.read_text(encoding="utf-8")
        for p in sorted((SRC / "deepgrad").rglob("*.py"))
    }


TREE = _read_tree()


def _unit(module: str) -> str:
    """The package a module belongs to: ``deepgrad.train.run`` -> ``deepgrad.train``. The
    modules of ``deepgrad.utils`` are independent helpers, each a unit of its own."""
    parts = module.split(".")
    if parts[:2] == ["deepgrad", "utils"] and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def _is_app(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in APPS)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _imports(tree: dict[str, str], module: str):
    """``(imported module, [names], line)`` of every deepgrad import in ``module``."""
    for node in ast.walk(ast.parse(tree[module])):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "deepgrad":  # from deepgrad import nn, registry
                for a in node.names:
                    target = f"deepgrad.{a.name}"
                    yield (target if target in tree else "deepgrad"), [a.name], node.lineno
            elif node.module.startswith("deepgrad."):
                yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("deepgrad."):
                    yield a.name, [], node.lineno


def library_imports_of_apps(tree: dict[str, str]) -> list[str]:
    return [
        f"{m}:{line} imports {target}"
        for m in tree
        if not _is_app(m)
        for target, _, line in _imports(tree, m)
        if _is_app(target) and (m, _unit(target)) not in LIBRARY_TO_APP_ALLOWED
    ]


def private_names_reached_by_apps(tree: dict[str, str]) -> list[str]:
    bad = []
    for m in filter(_is_app, tree):
        modules = {}  # local name -> deepgrad module, for run._load_csv
        for target, names, line in _imports(tree, m):
            if _unit(target) == _unit(m):
                continue
            for name in names:
                if f"{target}.{name}" in tree:
                    modules[name] = f"{target}.{name}"
                elif _private(name) and (m, target, name) not in PRIVATE_ALLOWED:
                    bad.append(f"{m}:{line} imports {name} from {target}")
        for node in ast.walk(ast.parse(tree[m])):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and _private(node.attr)
            ):
                bad.append(f"{m}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return bad


def package_cycles(tree: dict[str, str]) -> set[frozenset]:
    edges = collections.defaultdict(set)
    for m in tree:
        for target, _, _ in _imports(tree, m):
            a, b = _unit(m), _unit(target)
            if a != b and b != "deepgrad":
                edges[a].add(b)
    return {frozenset({a, b}) for a in edges for b in edges[a] if a in edges.get(b, ())}


# ----------------------------------------------------------------------------- the rules
def test_the_scan_sees_the_tree():
    # Guards the rules below against passing because nothing was parsed.
    assert {"deepgrad.cli", "deepgrad.train.run", "deepgrad.tensor", "deepgrad.registry"} <= set(
        TREE
    )
    assert any(t == "deepgrad.registry" for t, _, _ in _imports(TREE, "deepgrad.cli"))


def test_the_library_imports_no_app():
    bad = library_imports_of_apps(TREE)
    assert not bad, "library modules import apps:\n" + "\n".join(bad)


def test_apps_import_no_private_names_of_other_packages():
    bad = private_names_reached_by_apps(TREE)
    assert not bad, "apps reach private names:\n" + "\n".join(bad)


def test_no_two_packages_import_each_other_besides_the_known_cycles():
    cycles = package_cycles(TREE)
    assert cycles - KNOWN_CYCLES == set(), "new import cycles between packages"
    # A known cycle that is gone leaves the list, so the list stays true.
    assert KNOWN_CYCLES - cycles == set(), "remove the cycles that no longer exist from the list"


def test_the_rules_catch_violations():
    tree = {
        "deepgrad.nn.fake": "def f():\n    from deepgrad.train.metrics import accuracy\n",
        "deepgrad.train.metrics": "from deepgrad.viz import plots\n",
        "deepgrad.viz": "",
        "deepgrad.viz.plots": "from deepgrad.train import metrics\nmetrics._hidden()\n",
        "deepgrad.cli": "from deepgrad.tensor import _wrap\n",
        "deepgrad.tensor": "",
    }
    assert library_imports_of_apps(tree) == ["deepgrad.nn.fake:2 imports deepgrad.train.metrics"]
    assert private_names_reached_by_apps(tree) == [
        "deepgrad.viz.plots:2 uses deepgrad.train.metrics._hidden",
        "deepgrad.cli:1 imports _wrap from deepgrad.tensor",
    ]
    assert package_cycles(tree) == {frozenset({"deepgrad.train", "deepgrad.viz"})}
