"""Playground export: the script rebuilds the session's network and training; the weights load.

Oracles: the session itself (the script's model with the exported weights must give the
session's outputs; the script trained from scratch must end with the session's weights, since
both run the same deepgrad steps in the same order) and PyTorch (a torch copy of the network
with the exported weights gives the same outputs).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("safetensors")
torch = pytest.importorskip("torch")

from safetensors import safe_open  # noqa: E402
from safetensors.numpy import load, load_file  # noqa: E402

import deepgrad  # noqa: E402
from deepgrad.playground import export  # noqa: E402
from deepgrad.playground.session import Session, grid_points  # noqa: E402
from deepgrad.playground.validation import DEFAULTS, parse_csv, validate_update  # noqa: E402


def settle(session, pred=lambda f: True, timeout=60.0):
    """The session's newest frame once it satisfies ``pred`` (bounded wait)."""
    deadline = time.monotonic() + timeout
    seen = (0, 0)
    latest = None
    while time.monotonic() < deadline:
        _, _, dv, frame, fv = session.poll(seen[1], seen[0])
        seen = (dv, fv)
        if frame is not None:
            latest = json.loads(frame)
            if pred(latest) and not session._commands:
                return latest
        time.sleep(0.01)
    raise AssertionError(
        f"session did not settle within {timeout} s; last frame {latest and latest['epoch']}"
    )


def run_epochs(config, epochs, table=None):
    s = Session(config, frame_interval=0.05, grid_size=16, thumb_size=16)
    if table is not None:
        s.load_csv(table, config)  # queued before the worker starts: its first command
    s.start()
    try:
        settle(s, lambda f: f["config"] == config.to_json())
        for e in range(1, epochs + 1):
            s.submit("step")
            settle(s, lambda f, e=e: f["epoch"] == e and not f["running"])
        return s
    except BaseException:
        s.close()
        raise


def import_script(text, tmp_path, name="exported"):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, path


CASES = {
    "spiral3-adam-l2": dict(
        dataset="spiral",
        n_classes=3,
        noise=10,
        features=["x1", "x2", "sinx1", "x1x2"],
        hidden=[5, 3],
        activation="tanh",
        optimizer="adam",
        lr=0.02,
        batch_size=16,
        regularization="l2",
        reg_rate=0.001,
        seed=3,
    ),
    "circle-momentum-l1-relu": dict(
        dataset="circle",
        features=["x1sq", "x2sq"],
        hidden=[4],
        activation="relu",
        optimizer="momentum",
        lr=0.01,
        batch_size=25,
        regularization="l1",
        reg_rate=0.003,
        seed=1,
    ),
    "xor-rmsprop-nohidden": dict(
        dataset="xor",
        features=["x1", "x2", "x1x2"],
        hidden=[],
        optimizer="rmsprop",
        lr=0.01,
        batch_size=50,
        train_ratio=30,
    ),
    "gauss-adagrad-sigmoid": dict(
        dataset="gauss",
        noise=30,
        hidden=[3, 3],
        activation="sigmoid",
        optimizer="adagrad",
        lr=0.1,
        batch_size=20,
    ),
    "moons-sgd-leaky": dict(
        dataset="moons",
        noise=20,
        hidden=[6, 6],
        activation="leaky_relu",
        optimizer="sgd",
        lr=0.1,
        batch_size=10,
        features=["x1", "x2", "sinx2"],
    ),
    "plane-elu-regression": dict(
        dataset="plane", hidden=[3], activation="elu", optimizer="adam", lr=0.01, batch_size=30
    ),
    "multigauss-linear": dict(
        dataset="multi_gauss",
        hidden=[4, 2],
        activation="linear",
        optimizer="sgd",
        lr=0.003,
        batch_size=40,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_script_retrains_to_the_sessions_weights(name, tmp_path, capsys):
    config = validate_update(CASES[name], DEFAULTS)
    epochs = 2
    s = run_epochs(config, epochs)
    try:
        state = s.export_state()
        assert state["epoch"] == epochs
        mod, _ = import_script(
            export.render_script(state), tmp_path, f"exp_{name.replace('-', '_')}"
        )
        model = mod.main([])  # trains from scratch for EPOCHS epochs
        assert mod.EPOCHS == epochs
        got = {k: v.numpy() for k, v in model.state_dict().items()}
        assert list(got) == list(state["state_dict"])
        for k, v in state["state_dict"].items():
            np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)
        out = capsys.readouterr().out
        assert "test loss" in out
    finally:
        s.close()


def _torch_net(state_dict, config, n_out):
    acts = {
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "linear": torch.nn.Identity,
        "leaky_relu": torch.nn.LeakyReLU,
        "elu": torch.nn.ELU,
    }
    layers, width = [], len(config.features)
    for h in config.hidden:
        layers += [torch.nn.Linear(width, h), acts[config.activation]()]
        width = h
    layers.append(torch.nn.Linear(width, n_out))
    net = torch.nn.Sequential(*layers)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state_dict.items()})
    return net


def _torch_features(x, features):
    x = torch.from_numpy(x)
    x1, x2 = x[:, 0], x[:, 1]
    table = {
        "x1": x1,
        "x2": x2,
        "x1sq": x1 * x1,
        "x2sq": x2 * x2,
        "x1x2": x1 * x2,
        "sinx1": torch.sin(x1),
        "sinx2": torch.sin(x2),
    }
    return torch.stack([table[f] for f in features], dim=1)


def test_exported_weights_load_and_give_the_sessions_outputs(tmp_path):
    config = validate_update(CASES["spiral3-adam-l2"], DEFAULTS)
    s = run_epochs(config, 3)
    try:
        state = s.export_state()
        blob = export.weights_bytes(state)
        (tmp_path / export.WEIGHTS_NAME).write_bytes(blob)
        mod, _ = import_script(export.render_script(state), tmp_path, "exp_weights")
        deepgrad.manual_seed(123)  # a different init: everything must come from the file
        model = mod.build_model()
        tensors = load_file(str(tmp_path / export.WEIGHTS_NAME))
        assert sorted(tensors) == sorted(model.state_dict())  # exactly the state_dict keys
        mod.load_weights(model, str(tmp_path / export.WEIGHTS_NAME))
        grid = grid_points(s._data.domain, 20)
        with deepgrad.no_grad():
            ours = model(mod.features(deepgrad.from_numpy(grid))).numpy()
        np.testing.assert_array_equal(ours, s.predict(grid))
        # PyTorch oracle: the same weights in a torch network.
        net = _torch_net(tensors, config, 3)
        with torch.no_grad():
            ref = net(_torch_features(grid, config.features)).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
        with safe_open(str(tmp_path / export.WEIGHTS_NAME), "np") as f:
            md = f.metadata()
        assert json.loads(md["config"]) == config.to_json() and md["epoch"] == "3"
    finally:
        s.close()


def test_script_runs_standalone_with_the_weights(tmp_path):
    config = validate_update(CASES["circle-momentum-l1-relu"], DEFAULTS)
    s = run_epochs(config, 2)
    try:
        state = s.export_state()
        script = tmp_path / export.SCRIPT_NAME
        script.write_text(export.render_script(state))
        weights = tmp_path / export.WEIGHTS_NAME
        weights.write_bytes(export.weights_bytes(state))
        r = subprocess.run(
            [sys.executable, str(script), "--weights", str(weights)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("test loss")][0]
        test_loss = float(line.split()[2].rstrip(","))
        assert test_loss == pytest.approx(state["losses"][1], abs=1e-4)
    finally:
        s.close()


def test_csv_session_exports_its_data_into_the_script(tmp_path):
    rng = np.random.default_rng(5)
    rows = ["a,b,kind"]
    for c, centre in enumerate([(-2, 0), (2, 0), (0, 3)]):
        for p in rng.normal(centre, 0.5, (15, 2)):
            rows.append(f"{p[0]:.5f},{p[1]:.5f},{['red', 'green', 'blue'][c]}")
    table = parse_csv(("\n".join(rows) + "\n").encode())
    config = validate_update(
        {"dataset": "csv", "hidden": [4], "optimizer": "adam", "lr": 0.05, "batch_size": 5},
        DEFAULTS,
        csv_rows=len(table.y),
    )
    s = run_epochs(config, 2, table=table)
    try:
        state = s.export_state()
        text = export.render_script(state)
        assert "CLASS_NAMES = ['blue', 'green', 'red']" in text and "toy." not in text
        mod, _ = import_script(text, tmp_path, "exp_csv")
        x_train, y_train, x_test, y_test = mod.load_data()
        np.testing.assert_array_equal(x_train.numpy(), s._data.x_train)
        np.testing.assert_array_equal(y_test.numpy(), s._data.y_test)
        model = mod.main([])
        for k, v in state["state_dict"].items():
            np.testing.assert_allclose(model.state_dict()[k].numpy(), v, rtol=1e-5, atol=1e-6)
    finally:
        s.close()


def test_weights_bytes_roundtrip_exactly():
    config = validate_update({"hidden": [3, 2]}, DEFAULTS)
    s = run_epochs(config, 1)
    try:
        state = s.export_state()
        tensors = load(export.weights_bytes(state))
        assert set(tensors) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
        for k, v in state["state_dict"].items():
            assert tensors[k].dtype == np.float32
            np.testing.assert_array_equal(tensors[k], v)
    finally:
        s.close()
