"""The playground's "Export ONNX": the file ONNX Runtime runs on raw points gives the
session's own predictions (the oracle: ``Session.predict``, which the page draws)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from deepgrad.playground.server import create_app  # noqa: E402

BASE = "http://127.0.0.1"
WS = "ws://127.0.0.1/ws"


def _frame(ws, cond):
    for _ in range(500):
        msg = ws.receive_json()
        if msg["type"] == "frame" and cond(msg):
            return msg
    raise AssertionError("no such frame")


@pytest.mark.parametrize(
    "config",
    [
        {"dataset": "spiral", "features": ["x1", "x2", "x1sq", "sinx2", "x1x2"], "hidden": [5, 3],
         "activation": "tanh"},
        {"dataset": "plane", "features": ["x1", "x2"], "hidden": [4], "activation": "relu"},
    ],
)  # fmt: skip
def test_export_onnx_gives_the_sessions_predictions(config):
    app = create_app(frame_interval=0.05, grid_size=16)
    with TestClient(app, base_url=BASE) as client, client.websocket_connect(WS) as ws:
        hello = ws.receive_json()
        sid = hello["session_id"]
        ws.send_json({"type": "config", "config": config})
        # the page lists features in its own order
        _frame(ws, lambda f: sorted(f["config"]["features"]) == sorted(config["features"]))
        r = client.get(f"/api/sessions/{sid}/export/model.onnx")
        assert r.status_code == 200, r.text
        assert "playground_model.onnx" in r.headers["content-disposition"]
        proto = onnx.load_from_string(r.content)
        onnx.checker.check_model(proto, full_check=True)
        session = app.state.playground.sessions[sid]
        assert sorted(session.export_state()["config"].features) == sorted(config["features"])
        points = np.random.default_rng(0).uniform(-5, 5, (37, 2)).astype(np.float32)
        sess = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
        (got,) = sess.run(None, {"points": points})
        ref = session.predict(points)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
        assert client.get("/api/sessions/nope/export/model.onnx").status_code == 404


def test_the_page_has_the_export_onnx_button():
    app = create_app()
    with TestClient(app, base_url=BASE) as client:
        page = client.get("/").text
    assert 'id="export-onnx"' in page and "Export ONNX" in page
