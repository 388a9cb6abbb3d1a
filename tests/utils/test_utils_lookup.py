"""``row_named``: the lookup behind ``check_model(...)["fc.weight"]`` and ``summary(...)["fc"]``."""

import pytest

import deepgrad
from deepgrad import nn
from deepgrad.autograd import check_model
from deepgrad.viz import summary


def _model():
    return nn.Sequential(nn.Linear(3, 2))


def test_a_missing_parameter_names_the_ones_there_are():
    report = check_model(_model(), nn.MSELoss(), deepgrad.randn(4, 3), deepgrad.randn(4, 2))
    assert report["0.weight"].shape == (2, 3)
    with pytest.raises(
        KeyError, match=r"check_model: no parameter 'weight'.*'0\.weight', '0\.bias'"
    ):
        report["weight"]


def test_a_missing_layer_names_the_ones_there_are():
    s = summary(_model())
    assert s["0"].type == "Linear"
    with pytest.raises(KeyError, match=r"summary: no layer 'fc'; layers: \['0'\]"):
        s["fc"]
