"""Every example script runs end to end in smoke mode (tiny data, one epoch) and writes the
pictures it promises, so none of them rots as the library changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# script -> the pictures it must write
PICTURES = {
    "linear_regression_scratch.py": ["linear_regression_scratch.png"],
    "linear_regression_concise.py": ["linear_regression_concise.png"],
    "logistic_regression_iris.py": ["iris_one_neuron.png", "iris_mlp.png"],
    "softmax_regression_scratch.py": ["softmax_scratch_curves.png", "softmax_scratch_weights.png"],
    "softmax_regression_concise.py": [
        "softmax_concise_curves.png",
        "softmax_concise_weights.png",
        "softmax_concise_confusion.png",
    ],
    "mlp_scratch.py": ["mlp_scratch_curves.png"],
    "mlp_concise.py": [
        "mlp_concise_curves.png",
        "mlp_concise_confusion.png",
        "mlp_concise_misclassified.png",
    ],
    "logic_gates.py": ["logic_gates.png"],
    "backprop_graphs.py": [
        "graph_f_xyz.png",
        "graph_f_xyz.svg",
        "graph_sigmoid_neuron.png",
        "graph_321_network.png",
    ],
    "gradient_check.py": ["gradient_check_error.png"],
    "optimizers.py": ["optimizers.png"],
    "regularization.py": [
        "regularization_none.png",
        "regularization_l1.png",
        "regularization_l2.png",
        "regularization_gap.png",
    ],
    "depth_vs_width.py": ["spiral_logistic.png", "spiral_2_layers.png", "spiral_4_layers.png"],
    "cnn_fashion_mnist.py": ["cnn_curves.png", "cnn_confusion.png", "cnn_feature_maps.png"],
}


def test_every_example_is_listed():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if p.name != "common.py"}
    assert scripts == set(PICTURES)


@pytest.mark.parametrize("script", sorted(PICTURES))
def test_example_runs_in_smoke_mode(script, tmp_path):
    env = dict(os.environ, DEEPGRAD_SMOKE="1", MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    for name in PICTURES[script]:
        path = tmp_path / name
        if shutil.which("dot") is None and name.startswith("graph_"):
            path = path.with_suffix(".dot")  # draw_graph writes DOT text without Graphviz
        assert path.exists(), f"{script} did not write {name}; wrote {os.listdir(tmp_path)}"
        assert path.stat().st_size > 1000, f"{name} is suspiciously small"
