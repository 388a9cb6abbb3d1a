"""Every in-scope name of the API census runs the same under PyTorch and deepgrad.

The census (census/census.json) lists the torch names public teaching code uses. Each in-scope
name has a sample program in census_cases.py; this test runs it once with ``torch`` and once with
``deepgrad`` and compares what comes back: values, shapes, dtypes and, where the program takes
them, gradients. A name with no case fails here, so the census and the tests cannot drift apart.
Names deepgrad leaves out are listed with the reason in census/scope.py (LEFT_OUT) and
docs/COMPATIBILITY.md.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import deepgrad

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "census"))

from census_cases import CASES  # noqa: E402
from scope import LEFT_OUT  # noqa: E402

CENSUS = json.loads((ROOT / "census" / "census.json").read_text())
IN_SCOPE = sorted(n for n, v in CENSUS["names"].items() if v["scope"] == "in")


def plain(obj):
    """What a sample program returned, in a form both libraries' results can be compared in."""
    if isinstance(obj, (torch.Tensor, deepgrad.Tensor)):
        return ("tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), obj.detach().numpy())
    if isinstance(obj, (torch.dtype, deepgrad.dtype)):
        return ("dtype", str(obj).split(".")[-1])
    if isinstance(obj, (torch.device, deepgrad.device)):
        return ("device", str(obj))
    if isinstance(obj, np.ndarray):
        return ("array", str(obj.dtype), obj.shape, obj)
    if isinstance(obj, (list, tuple)):  # torch.Size is a tuple
        return tuple(plain(o) for o in obj)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (bool, np.bool_)):
        return ("bool", bool(obj))
    if isinstance(obj, (int, np.integer)):
        return ("int", int(obj))
    if isinstance(obj, (float, np.floating)):
        return ("float", float(obj))
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"a sample program returned a {type(obj).__name__}; return plain values")


def assert_same(got, want, where="result"):
    """deepgrad's result ``got`` matches torch's ``want``: structure, dtypes, shapes, values."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{where}: keys differ"
        for k in want:
            assert_same(got[k], want[k], f"{where}[{k!r}]")
        return
    tag = want[0] if isinstance(want, tuple) and want and isinstance(want[0], str) else None
    if tag in {"tensor", "array"}:
        assert isinstance(got, tuple) and got[0] == want[0], f"{where}: {got!r:.80} vs {want!r:.80}"
        _, dtype, shape, values = got
        assert (dtype, shape) == want[1:3], (
            f"{where}: dtype/shape {dtype}{shape} vs {want[1]}{want[2]}"
        )
        if values.dtype.kind == "f":
            np.testing.assert_allclose(values, want[3], rtol=1e-4, atol=1e-5, err_msg=where)
        else:
            np.testing.assert_array_equal(values, want[3], err_msg=where)
        return
    if tag == "float":
        assert isinstance(got, tuple) and got[0] == "float", f"{where}: {got!r} vs {want!r}"
        np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-5, err_msg=where)
        return
    if isinstance(want, tuple) and tag is None:
        assert isinstance(got, tuple) and len(got) == len(want), (
            f"{where}: {got!r:.80} vs {want!r:.80}"
        )
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
        return
    assert got == want, f"{where}: deepgrad gave {got!r}, torch gave {want!r}"


def test_every_in_scope_name_has_a_case_or_is_left_out():
    missing = [n for n in IN_SCOPE if n not in CASES and n not in LEFT_OUT]
    assert not missing, f"census names with no sample program in census_cases.py: {missing}"


def test_left_out_names_are_in_the_census_and_rare():
    # Names used by 3 or more programs must all be implemented (issue 14's bar).
    for name in LEFT_OUT:
        assert name in CENSUS["names"], f"LEFT_OUT lists {name}, which the census does not have"
        assert CENSUS["names"][name]["programs"] < 3, f"{name} is frequent; implement it"


def test_every_case_is_a_census_name():
    extra = sorted(set(CASES) - set(CENSUS["names"]))
    assert not extra, f"census_cases.py has cases for names not in the census: {extra}"


def test_cases_pass_the_census_keywords():
    # each keyword the census found with a name appears (as kw=) in that name's sample program
    missing = []
    for name in IN_SCOPE:
        if name in CASES and CENSUS["names"][name]["keywords"]:
            source = inspect.getsource(CASES[name])
            missing += [
                f"{name}({kw}=)"
                for kw in CENSUS["names"][name]["keywords"]
                if not re.search(rf"\b{kw}=", source)
            ]
    assert not missing, f"census keywords no sample program passes: {missing}"


@pytest.mark.parametrize("name", [n for n in IN_SCOPE if n in CASES])
def test_census_case(name):
    program = CASES[name]
    want = plain(program(torch))
    if name in LEFT_OUT:  # the case stays, to show the idiom; deepgrad must still lack it
        with pytest.raises((AttributeError, NotImplementedError, TypeError)):
            program(deepgrad)
        return
    got = plain(program(deepgrad))
    assert_same(got, want, name)
