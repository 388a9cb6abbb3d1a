"""Every public Tensor method and property and every public top-level function has a
docstring, and the examples in those docstrings (doctest's ``>>>`` lines) run as written.

The examples call ``deepgrad.<name>``; the expected outputs are deepgrad's own reprs, checked
against what the same call gives in PyTorch when the example was written.
"""

import doctest
import inspect
import types

import numpy as np
import pytest

import deepgrad
from deepgrad._compat import _Missing
from deepgrad.tensor import Tensor


def _doc(value):
    # inspect.getdoc also finds the docstrings of slots (Tensor.__slots__ is a dict of them)
    return inspect.getdoc(value.__func__ if isinstance(value, staticmethod) else value)


def _tensor_members() -> dict:
    """Public names defined on Tensor (the raising placeholders for torch names deepgrad lacks
    are not members)."""
    return {
        name: value
        for name, value in vars(Tensor).items()
        if not name.startswith("_") and not isinstance(value, _Missing)
    }


def _top_level_functions() -> dict:
    return {
        name: value
        for name in dir(deepgrad)
        if not name.startswith("_")
        and isinstance(
            value := getattr(deepgrad, name), (types.FunctionType, types.BuiltinFunctionType)
        )
    }


TENSOR_MEMBERS = _tensor_members()
FUNCTIONS = _top_level_functions()
DOCUMENTED = (
    {"Tensor": _doc(Tensor)}
    | {f"Tensor.{n}": _doc(v) for n, v in TENSOR_MEMBERS.items()}
    | {f"deepgrad.{n}": _doc(v) for n, v in FUNCTIONS.items()}
)


def test_the_collections_are_not_empty():
    # guards the two tests below against passing vacuously after a refactor
    assert {"reshape", "grad", "shape", "is_contiguous"} <= set(TENSOR_MEMBERS)
    assert {"tensor", "zeros", "exp", "cat", "manual_seed"} <= set(FUNCTIONS)


def test_every_public_tensor_member_has_a_docstring():
    missing = sorted(n for n, v in TENSOR_MEMBERS.items() if not (_doc(v) or "").strip())
    assert not missing, f"Tensor members without a docstring: {missing}"


def test_every_top_level_function_has_a_docstring():
    missing = sorted(n for n, v in FUNCTIONS.items() if not (_doc(v) or "").strip())
    assert not missing, f"deepgrad functions without a docstring: {missing}"


WITH_EXAMPLES = sorted(name for name, doc in DOCUMENTED.items() if doc and ">>>" in doc)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    deepgrad.manual_seed(0)
    globs = {"deepgrad": deepgrad, "np": np}
    test = doctest.DocTestParser().get_doctest(DOCUMENTED[name], globs, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    runner.run(test, out=report.append)
    assert runner.tries and runner.failures == 0, "".join(report)
