"""The census script's parsing: import aliases, keywords, the Tensor heuristic, cell extraction.

Worked examples written for this test (no fetched code), so the census counts can be trusted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "census"))

import make_census as mc  # noqa: E402
from scope import classify  # noqa: E402


def count(code: str):
    counter, failed = mc.count_program([code])
    assert failed == 0
    return counter


def test_aliases_resolve_to_full_names_with_keywords():
    c = count(
        "import torch\n"
        "import torch.nn as nn\n"
        "from torch.nn import functional as F\n"
        "from torch.utils.data import DataLoader\n"
        "from torch import optim\n"
        "net = nn.Sequential(nn.Linear(in_features=3, out_features=2), nn.ReLU())\n"
        "y = F.relu(torch.rand(size=(2, 3)))\n"
        "loader = DataLoader(ds, batch_size=4, shuffle=True)\n"
        "opt = optim.SGD(net.parameters(), lr=0.1)\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        nn.Module.__init__(self)\n"
    )
    assert {
        "torch.nn.Sequential",
        "torch.nn.Linear",
        "torch.nn.ReLU",
        "torch.nn.functional.relu",
        "torch.rand",
        "torch.utils.data.DataLoader",
        "torch.optim.SGD",
        "torch.nn.Module",
    } <= c.names
    assert c.keywords["torch.nn.Linear"] == {"in_features", "out_features"}
    assert c.keywords["torch.rand"] == {"size"}
    assert c.keywords["torch.utils.data.DataLoader"] == {"batch_size", "shuffle"}


def test_tensor_heuristic_skips_modules_self_and_container_methods():
    c = count(
        "import torch\nimport numpy as np\n"
        "x = torch.ones(3)\n"
        "a = x.sum(axis=0).item()\n"
        "b = np.cos(1.0)\n"  # an attribute of an imported module is no tensor method
        "words = 'a b'.split()\n"  # split is also a str method: skipped
        "class A:\n"
        "    def f(self):\n"
        "        return self.data\n"
    )
    assert {"Tensor.sum", "Tensor.item"} <= c.names
    assert c.keywords["Tensor.sum"] == {"axis"}
    assert "Tensor.split" not in c.names and "Tensor.data" not in c.names
    assert "Tensor.cos" not in c.names


def test_unknown_torch_paths_are_not_names():
    c = count("import torch\ntorch.no_such_function(1)\n")
    assert "torch.no_such_function" in c.unknown and not c.names


def test_a_program_without_torch_counts_nothing():
    assert mc.count_program(["import numpy as np\nnp.ones(3).sum()\n"])[0] is None


def test_d2l_sections_keep_pytorch_and_all_tabs_only():
    md = (
        "```{.python .input}\n%%tab mxnet\nfrom mxnet import np\n```\n"
        "```{.python .input}\n%%tab pytorch\nimport torch\n```\n"
        "```{.python .input}\n%%tab all\nx = torch.arange(3)\n```\n"
        "```{.python .input  n=2}\n%%tab tensorflow, pytorch\n%matplotlib inline\ny = 1\n```\n"
    )
    cells = mc.code_cells("chapter/x.md", md)
    assert cells == ["import torch\n", "x = torch.arange(3)\n", "\ny = 1\n"]


def test_notebook_cells_drop_magics_and_markdown():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# title"]},
            {"cell_type": "code", "source": ["!pip install torch\n", "import torch\n"]},
        ]
    }
    assert mc.code_cells("a.ipynb", json.dumps(nb)) == ["\nimport torch\n"]


def test_scope_rules():
    assert classify("torch.nn.LSTM")[0] == "out"
    assert classify("torch.cuda.is_available") == ("in", "")
    assert classify("torch.cuda.get_device_name")[0] == "out"
    assert classify("torch.distributions.Normal") == ("in", "")
    assert classify("torch.distributions.Gamma")[0] == "out"
    assert classify("torch.nn.Linear") == ("in", "")
