"""The optimisers' constructors against PyTorch's: signatures, and which arguments fail how.

Torch is the oracle throughout: the cases are drawn from torch's own signatures, so every
numeric hyper-parameter of every optimiser is tried, alone and in pairs (the pairs check that
the arguments are checked in torch's order, since only the first failure is reported).
"""

import inspect
import itertools
import math

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import optim

NAMES = ["SGD", "Adam", "AdamW", "Adamax", "Adadelta", "Adagrad", "RMSprop"]


def _numbers(name):
    """The numeric hyper-parameters of torch's ``name``, with their defaults."""
    parameters = list(inspect.signature(getattr(torch.optim, name)).parameters.values())[1:]
    return {
        p.name: p.default
        for p in parameters
        if not isinstance(p.default, bool) and p.default is not None
    }


def _bad_values(name, argument):
    if argument == "betas":
        return [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9, math.nan)]
    if name == "SGD":  # NaN: see test_sgd_rejects_nan_as_torchs_other_optimisers
        return [-1, -0.5, 1.5, 0.0]
    return [-1, -0.5, math.nan, 1.5, 0.0]


def _first_bad(argument):
    return (1.0, 0.999) if argument == "betas" else -1


CASES = [
    (name, {argument: value})
    for name in NAMES
    for argument in _numbers(name)
    for value in _bad_values(name, argument)
] + [
    (name, {a: _first_bad(a), b: _first_bad(b)})
    for name in NAMES
    for a, b in itertools.combinations(_numbers(name), 2)
]


def _outcome(make):
    """What building the optimiser does: None (accepted) or the ValueError's message."""
    try:
        make()
    except ValueError as error:
        return str(error)
    return None


def _positional(name, kwargs):
    """``kwargs`` as positional arguments after ``params``, in torch's order (with defaults)."""
    parameters = list(inspect.signature(getattr(torch.optim, name)).parameters.values())[1:]
    positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    return [kwargs.get(p.name, p.default) for p in positional]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_bad_hyperparameters_fail_as_torchs(name, kwargs):
    theirs = _outcome(
        lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    )
    p = deepgrad.tensor(np.zeros(2), requires_grad=True)
    ours = _outcome(lambda: getattr(optim, name)([p], **kwargs))
    assert ours == theirs
    by_position = _outcome(lambda: getattr(optim, name)([p], *_positional(name, kwargs)))
    assert by_position == theirs


@pytest.mark.parametrize("argument", ["lr", "momentum", "weight_decay"])
def test_sgd_rejects_nan_as_torchs_other_optimisers(argument):
    """deepgrad's one deviation, on purpose: PyTorch's SGD checks ``x < 0``, which lets NaN
    through (and the first step then makes every parameter NaN); deepgrad's SGD rejects it
    with the message PyTorch's other optimisers give (RMSprop takes all three arguments)."""
    theirs = _outcome(lambda: torch.optim.RMSprop([torch.zeros(2)], **{argument: math.nan}))
    assert theirs is not None
    p = deepgrad.tensor(np.zeros(2), requires_grad=True)
    assert _outcome(lambda: optim.SGD([p], **{argument: math.nan})) == theirs


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_torchs(name):
    """Names, kinds and defaults (annotations differ: deepgrad takes no torch.Tensor)."""

    def shape(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert shape(getattr(optim, name)) == shape(getattr(torch.optim, name))


@pytest.mark.parametrize("name", NAMES)
def test_positional_and_keyword_calls_build_the_same_groups(name):
    """Every positional argument, given by position, lands where its keyword would."""
    # valid and all different: 0.25, 0.375, ... (at most 0.875), betas (0.5, 0.25)
    kwargs = {
        a: (0.5, 0.25) if a == "betas" else 0.25 + i / 8 for i, a in enumerate(_numbers(name))
    }

    def group(*args, **kwargs):
        p = deepgrad.tensor(np.zeros(2), requires_grad=True)
        made = getattr(optim, name)([p], *args, **kwargs).param_groups[0]
        return {k: v for k, v in made.items() if k != "params"}

    by_keyword = group(**kwargs)
    assert group(*_positional(name, kwargs)) == by_keyword
    assert {a: by_keyword[a] for a in kwargs} == kwargs


BAD_CALLS = {
    "unknown keyword": lambda opt, params: opt.SGD(params, lr=0.1, momentun=0.9),
    "given twice": lambda opt, params: opt.SGD(params, 0.1, lr=0.1),
    "too many positional": lambda opt, params: opt.Adam(params, 0.1, (0.9, 0.99), 1e-8, 0, 0, 1),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_calls_are_type_errors_naming_the_class_as_torchs(call):
    """The wording may differ (``inspect.Signature.bind``'s), the class named may not."""
    with pytest.raises(TypeError) as theirs:
        call(torch.optim, [torch.zeros(2, requires_grad=True)])
    with pytest.raises(TypeError) as ours:
        call(optim, [deepgrad.tensor(np.zeros(2), requires_grad=True)])
    assert str(ours.value).split()[0] == str(theirs.value).split()[0]  # e.g. "SGD.__init__()"
    if call is BAD_CALLS["unknown keyword"]:
        assert str(ours.value) == str(theirs.value)
