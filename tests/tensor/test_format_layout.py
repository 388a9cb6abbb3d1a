"""Tensor repr laid out as PyTorch lays it out: row breaks, summaries of large tensors, the
number style chosen from the nonzero values, suffixes moved to a new line when one is full."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepgrad

_rng = np.random.default_rng(0)
CASES = {
    "wide rows": _rng.standard_normal((2, 36)).astype(np.float32) * 0.2,
    "long vector": _rng.standard_normal(40).astype(np.float32),
    "3-d rows": _rng.standard_normal((3, 4, 20)).astype(np.float32),
    "summarised 2-d": _rng.standard_normal((50, 50)).astype(np.float32),
    "summarised vector": _rng.standard_normal(2000).astype(np.float32),
    "summarised 3-d": _rng.standard_normal((10, 10, 12)).astype(np.float32),
    "zero beside tiny": np.array([0.0, 1e-5, 1.0], np.float32),
    "all zeros": np.zeros(2),
    "integers far apart": np.array([[1e9, 1.0]], np.float32),
    "int64 rows": np.arange(100).reshape(4, 25),
    "summarised int64": np.arange(2000).reshape(40, 50),
    "bool": np.array([True, False] * 30),
    "float64 suffix on a new line": _rng.standard_normal((2, 30)),
    "scalar": np.array(-2.0, np.float32),
    "wide spread": (_rng.standard_normal((5, 30)) * 100).astype(np.float32),
    "non-finite": np.array([1.0, np.nan, np.inf, -np.inf], np.float32),
    "int16": np.arange(30, dtype=np.int16),
    "uint8": np.arange(6, dtype=np.uint8).reshape(2, 3),
    "float16": _rng.standard_normal((2, 9)).astype(np.float16),
}


# Every case without a graph, and the floating ones (only they can require grad) with one.
_REPR_CASES = [(n, False) for n in CASES] + [(n, True) for n in CASES if CASES[n].dtype.kind == "f"]


@pytest.mark.parametrize(("name", "requires_grad"), _REPR_CASES)
def test_repr_layout_matches_torch(name, requires_grad):
    data = CASES[name]
    ours = repr(deepgrad.tensor(data, requires_grad=requires_grad))
    theirs = repr(torch.tensor(data, requires_grad=requires_grad))
    assert ours.replace("deepgrad.", "torch.") == theirs


def test_precision_option_is_used():
    deepgrad.set_printoptions(precision=2)
    try:
        assert repr(deepgrad.tensor([1.23456, 2.5])) == "tensor([1.23, 2.50])"
    finally:
        deepgrad.set_printoptions(precision=4)


def test_lazy_placeholder_prints_like_torch():
    ours, theirs = deepgrad.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(ours.weight) == repr(theirs.weight) == "<UninitializedParameter>"
    ours(deepgrad.ones(2, 4))
    theirs(torch.ones(2, 4))
    assert type(ours.weight).__name__ == type(theirs.weight).__name__ == "Parameter"
    assert repr(ours.weight).startswith("Parameter containing:\ntensor([[")
