"""Playground server: every HTTP endpoint and every WebSocket message type, good and bad input.

Runs the Starlette app in-process with its TestClient. Waits are bounded: each wait sends a
``ping`` and reads up to its ``pong``, so a read never blocks on a message that does not come.
The training numbers are checked against PyTorch: a torch copy of the session's network must
give the losses the page shows.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
torch = pytest.importorskip("torch")

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 fork for its TestClient; httpx (our test extra) works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from deepgrad.playground.server import CLOSE_ERROR, CLOSE_FULL, CLOSE_IDLE, create_app  # noqa: E402
from deepgrad.playground.session import FEATURE_FUNCTIONS, Session  # noqa: E402

BASE = "http://127.0.0.1"
WS = "ws://127.0.0.1/ws"  # TestClient would otherwise use the host "testserver"


@pytest.fixture
def app():
    return create_app(frame_interval=0.05, grid_size=32)


@pytest.fixture
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


def wait_for(ws, pred, timeout=30.0, what="message"):
    """Read messages until one satisfies ``pred``; bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ws.send_text(json.dumps({"type": "ping"}))
        while True:
            msg = ws.receive_json()
            if pred(msg):
                return msg
            seen.append(msg["type"])
            if msg["type"] == "pong":
                break
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout} s; got types {seen[-20:]}")


def drain(ws):
    """Everything the server has sent so far (up to the reply to a ping)."""
    ws.send_text(json.dumps({"type": "ping"}))
    out = []
    while True:
        msg = ws.receive_json()
        if msg["type"] == "pong":
            return out
        out.append(msg)


def frame_where(ws, cond=lambda f: True, timeout=30.0):
    return wait_for(ws, lambda m: m["type"] == "frame" and cond(m), timeout, "frame")


def error_reply(ws, payload):
    ws.send_text(payload if isinstance(payload, str) else json.dumps(payload))
    return wait_for(ws, lambda m: m["type"] == "error", 10.0, "error")


def hello(ws):
    msg = ws.receive_json()
    assert msg["type"] == "hello"
    return msg


# ----- HTTP -----


def test_index_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "deepgrad Playground" in r.text and "/static/app.js" in r.text
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "new WebSocket" in js.text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert client.get("/static/missing.js").status_code == 404


def test_options_endpoint_serves_the_validation_tables(client):
    from deepgrad.playground.validation import options

    r = client.get("/api/options")
    assert r.status_code == 200
    body = r.json()
    ref = options()
    assert body["ranges"] == ref["ranges"] and body["choices"] == ref["choices"]
    assert body["limits"]["max_sessions"] == 32 and body["limits"]["csv_rows"] == 10_000


def test_health_counts_sessions(client, app):
    assert client.get("/api/health").json() == {"status": "ok", "sessions": 0, "max_sessions": 32}
    with client.websocket_connect(WS) as ws:
        hello(ws)
        assert client.get("/api/health").json()["sessions"] == 1
    deadline = time.monotonic() + 10
    while app.state.playground.sessions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.get("/api/health").json()["sessions"] == 0


def test_unknown_host_header_is_refused(app):
    # DNS-rebinding guard: only loopback names may reach the server.
    with TestClient(app, base_url="http://evil.example") as c:
        assert c.get("/api/health").status_code == 400


def test_unknown_session_gives_404_on_every_session_endpoint(client):
    for path in (
        "/api/sessions/nope/export/script.py",
        "/api/sessions/nope/export/model.safetensors",
    ):
        r = client.get(path)
        assert r.status_code == 404 and "no open session" in r.json()["error"]
    r = client.post(
        "/api/sessions/nope/csv", content=b"1,2,0\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 404


# ----- WebSocket: the session and its messages -----


def _torch_copy(session):
    """A torch nn.Sequential with the session's weights (the PyTorch oracle)."""
    layers = []
    for m in session.model:
        name = type(m).__name__
        if name == "Linear":
            lin = torch.nn.Linear(m.in_features, m.out_features)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.weight.detach().numpy().copy()))
                lin.bias.copy_(torch.from_numpy(m.bias.detach().numpy().copy()))
            layers.append(lin)
        else:
            layers.append(getattr(torch.nn, name)())
    return torch.nn.Sequential(*layers)


def _torch_features(x, features):
    x = torch.from_numpy(np.asarray(x, np.float32))
    x1, x2 = x[:, 0], x[:, 1]
    fns = {"sinx1": torch.sin(x1), "sinx2": torch.sin(x2)}
    cols = [fns[f] if f in fns else FEATURE_FUNCTIONS[f](x1, x2) for f in features]
    return torch.stack(cols, dim=1)


def test_hello_then_frame_with_losses_matching_torch(client, app):
    with client.websocket_connect(WS) as ws:
        h = hello(ws)
        assert h["config"]["dataset"] == "circle" and h["options"]["ranges"]["lr"]["max"] == 10
        pts = wait_for(ws, lambda m: m["type"] == "points")
        assert len(pts["train"]["y"]) == 250 and len(pts["test"]["y"]) == 250
        f = frame_where(ws)
        assert f["epoch"] == 0 and f["running"] is False
        assert f["layer_names"] == [
            ["x1", "x2"],
            ["h1_1", "h1_2", "h1_3", "h1_4"],
            ["h2_1", "h2_2"],
            ["out_1", "out_2"],
        ]
        assert [np.array(w).shape for w in f["weights"]] == [(4, 2), (2, 4), (2, 2)]
        import base64

        assert len(base64.b64decode(f["boundary"]["cls"])) == 32 * 32
        assert len(base64.b64decode(f["neurons"][1][0]["img"])) == 16 * 16
        session = app.state.playground.sessions[h["session_id"]]
        d = session._data
        net = _torch_copy(session)
        with torch.no_grad():
            test_loss = torch.nn.functional.cross_entropy(
                net(_torch_features(d.x_test, ("x1", "x2"))), torch.from_numpy(d.y_test)
            ).item()
        assert f["test_loss"] == pytest.approx(test_loss, rel=1e-5)


def test_play_pause_step_reset(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        first = frame_where(ws)
        ws.send_json({"type": "play"})
        f = frame_where(ws, lambda f: f["epoch"] >= 3 and f["running"])
        assert f["train_loss"] is not None
        ws.send_json({"type": "pause"})
        paused = frame_where(ws, lambda f: not f["running"])
        time.sleep(0.3)
        later = [m for m in drain(ws) if m["type"] == "frame"]
        assert all(f["epoch"] == paused["epoch"] for f in later)  # paused: no more epochs
        ws.send_json({"type": "step"})
        stepped = frame_where(ws, lambda f: f["epoch"] == paused["epoch"] + 1)
        assert stepped["running"] is False
        ws.send_json({"type": "reset"})
        reset = frame_where(ws, lambda f: f["epoch"] == 0)
        # Same seed, same initial weights: reset is reproducible.
        assert reset["weights"] == first["weights"] and reset["biases"] == first["biases"]
        assert reset["history"]["epoch"] == [0]


def test_config_changes_rebuild_what_they_must(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        frame_where(ws)
        ws.send_json(
            {"type": "config", "config": {"dataset": "spiral", "n_classes": 3, "hidden": [5, 3, 2]}}
        )
        cfg = wait_for(ws, lambda m: m["type"] == "config")
        assert cfg["config"]["dataset"] == "spiral" and cfg["config"]["hidden"] == [5, 3, 2]
        pts = wait_for(ws, lambda m: m["type"] == "points")
        assert pts["n_classes"] == 3 and sorted(set(pts["train"]["y"])) == [0, 1, 2]
        f = frame_where(ws, lambda f: f["n_classes"] == 3)
        assert [np.array(w).shape for w in f["weights"]] == [(5, 2), (3, 5), (2, 3), (3, 2)]
        # Learning-rate change is applied on the fly: epoch is kept.
        ws.send_json({"type": "step"})
        frame_where(ws, lambda f: f["epoch"] == 1)
        ws.send_json({"type": "config", "config": {"lr": 0.1, "optimizer": "adam"}})
        f = frame_where(ws, lambda f: f["config"]["optimizer"] == "adam")
        assert f["epoch"] == 1 and f["config"]["lr"] == 0.1
        # Regression data: one output, MSE.
        ws.send_json({"type": "config", "config": {"dataset": "plane"}})
        f = frame_where(ws, lambda f: f["task"] == "regression")
        assert f["layer_names"][-1] == ["ŷ"] and "value" in f["boundary"]


@pytest.mark.parametrize(
    "payload, match",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"kind": "play"}', "JSON object"),
        ('{"type": "explode"}', "unknown message type 'explode'"),
        ('{"type": 7}', "unknown message type 7"),
        ('{"type": "config"}', 'needs a "config" object'),
        ('{"type": "config", "config": [1]}', "JSON object"),
        ('{"type": "config", "config": {"lr": 0}}', "lr = 0"),
        ('{"type": "config", "config": {"lr": "fast"}}', "lr must be a finite number"),
        ('{"type": "config", "config": {"hidden": [4, 4, 4, 4, 4, 4, 4]}}', "hidden layers"),
        ('{"type": "config", "config": {"hidden": [9]}}', "hidden layer 1's size = 9"),
        ('{"type": "config", "config": {"batch_size": 100000}}', "batch_size"),
        ('{"type": "config", "config": {"activation": "swish"}}', "activation must be one of"),
        ('{"type": "config", "config": {"dataset": "csv"}}', "upload one first"),
        ('{"type": "config", "config": {"noise": 80}}', "noise = 80"),
        ('{"type": "config", "config": {"wat": 1}}', "unknown parameter 'wat'"),
        ('{"type": "config", "config": {"seed": 1.5}}', "seed must be an integer"),
        ('{"type": "play", "seq": "1"}', '"seq" must be a whole number'),
        ('{"type": "pause", "seq": -1}', '"seq" must be a whole number'),
        ("x" * 70_000, "limit"),
    ],
)
def test_malformed_and_out_of_range_messages_get_errors_and_the_session_survives(
    client, payload, match
):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        err = error_reply(ws, payload)
        assert match in err["message"] and err["fatal"] is False
        if '"config"' in payload and "config" in err:
            assert err["config"]["lr"] == 0.03  # the settings in force, to restore the controls
        # The session goes on: it still trains.
        ws.send_json({"type": "step"})
        assert frame_where(ws, lambda f: f["epoch"] == 1)["config"]["lr"] == 0.03


def test_frames_echo_the_seq_of_the_last_command_applied(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        assert frame_where(ws)["seq"] == 0
        ws.send_json({"type": "play", "seq": 7})
        assert frame_where(ws, lambda f: f["running"])["seq"] == 7
        ws.send_json({"type": "pause", "seq": 8})
        f = frame_where(ws, lambda f: f["seq"] == 8)
        assert f["running"] is False
        ws.send_json({"type": "step"})  # no seq: the last one stays
        assert frame_where(ws, lambda g: g["epoch"] == f["epoch"] + 1)["seq"] == 8


def test_binary_message_gets_an_error(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        ws.send_bytes(b"\x00\x01")
        err = wait_for(ws, lambda m: m["type"] == "error")
        assert "binary" in err["message"]


def test_ping_pong(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        ws.send_json({"type": "ping", "id": 42})
        assert wait_for(ws, lambda m: m["type"] == "pong" and m.get("id") == 42)["id"] == 42


def test_diverging_training_warns_and_pauses(client):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        ws.send_json(
            {
                "type": "config",
                "config": {
                    "dataset": "plane",
                    "activation": "linear",
                    "hidden": [8, 8, 8, 8],
                    "lr": 10,
                    "batch_size": 1,
                },
            }
        )
        wait_for(ws, lambda m: m["type"] == "config")
        ws.send_json({"type": "play"})
        warn = wait_for(ws, lambda m: m["type"] == "warning", 60.0, "warning")
        assert "diverged" in warn["message"] and warn["field"] == "lr"
        f = frame_where(ws, lambda f: not f["running"])
        assert f["train_loss"] is None  # NaN travels as null: JSON has no NaN


def test_session_limit(app):
    app.state.playground.max_sessions = 2
    with TestClient(app, base_url=BASE) as client:
        with client.websocket_connect(WS) as a, client.websocket_connect(WS) as b:
            hello(a), hello(b)
            with client.websocket_connect(WS) as c:
                msg = c.receive_json()
                assert msg["type"] == "error" and msg["fatal"] is True
                assert "full" in msg["message"] and "limit 2" in msg["message"]
                with pytest.raises(WebSocketDisconnect) as info:
                    c.receive_json()
                assert info.value.code == CLOSE_FULL
        # Both closed: a new tab gets a session again.
        deadline = time.monotonic() + 10
        while app.state.playground.sessions and time.monotonic() < deadline:
            time.sleep(0.02)
        with client.websocket_connect(WS) as d:
            assert hello(d)["session_id"]


def test_idle_timeout_closes_the_session(app):
    app.state.playground.idle_timeout = 0.5
    with TestClient(app, base_url=BASE) as client:
        with client.websocket_connect(WS) as ws:
            sid = hello(ws)["session_id"]
            session = app.state.playground.sessions[sid]
            t0 = time.monotonic()
            while True:
                msg = ws.receive_json()
                if msg["type"] == "error":
                    break
            assert msg["fatal"] is True and "without input" in msg["message"]
            assert time.monotonic() - t0 < 10
            with pytest.raises(WebSocketDisconnect) as info:
                while True:
                    ws.receive_json()
            assert info.value.code == CLOSE_IDLE
        deadline = time.monotonic() + 10
        while (sid in app.state.playground.sessions or session.alive) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        assert sid not in app.state.playground.sessions and not session.alive


def test_a_failing_frame_pump_closes_the_connection(client, app, monkeypatch):
    """If frames can no longer be sent, the page is told (the socket closes with 1011)
    instead of showing a view that silently stops changing."""
    calls = []

    def broken_poll(self, frame_seen, data_seen):
        calls.append(1)
        raise RuntimeError("poll failed")

    monkeypatch.setattr(Session, "poll", broken_poll)
    with client.websocket_connect(WS) as ws:
        hello(ws)
        with pytest.raises(WebSocketDisconnect) as info:
            for _ in range(200):  # bounded: pings keep getting pongs if the socket stays open
                ws.send_json({"type": "ping"})
                ws.receive_json()
                time.sleep(0.01)
        assert info.value.code == CLOSE_ERROR
    assert calls
    deadline = time.monotonic() + 10
    while app.state.playground.sessions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not app.state.playground.sessions


def test_cross_origin_websocket_is_refused(client):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS, headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()
    with client.websocket_connect(WS, headers={"origin": "http://127.0.0.1"}) as ws:
        assert hello(ws)["type"] == "hello"


def test_closing_the_tab_stops_the_worker(client, app):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        session = app.state.playground.sessions[sid]
        ws.send_json({"type": "play"})
        frame_where(ws, lambda f: f["running"])
    deadline = time.monotonic() + 10
    while session.alive and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not session.alive and sid not in app.state.playground.sessions


# ----- CSV upload -----


def _blobs_csv(n_per_class=30, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-3, 0], [3, 0], [0, 4], [0, -4], [4, 4]])[:k]
    lines = ["x1,x2,label"]
    for c in range(k):
        for p in rng.normal(centres[c], 0.6, (n_per_class, 2)):
            lines.append(f"{p[0]:.4f},{p[1]:.4f},{c}")
    return ("\n".join(lines) + "\n").encode()


def test_csv_upload_switches_the_session_to_the_data(client):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        frame_where(ws)
        r = client.post(
            f"/api/sessions/{sid}/csv", files={"file": ("b.csv", _blobs_csv(), "text/csv")}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["rows"] == 90 and body["classes"] == ["0", "1", "2"]
        assert body["config"]["dataset"] == "csv"
        pts = wait_for(ws, lambda m: m["type"] == "points" and m["n_classes"] == 3)
        assert len(pts["train"]["y"]) + len(pts["test"]["y"]) == 90
        f = frame_where(ws, lambda f: f["config"]["dataset"] == "csv")
        assert f["n_classes"] == 3 and len(f["biases"][-1]) == 3
        # Now "csv" is a valid choice, and the batch bound is the CSV's training size (45).
        ws.send_json({"type": "config", "config": {"batch_size": 46}})
        assert "46" in wait_for(ws, lambda m: m["type"] == "error")["message"]


def test_csv_upload_as_raw_text_body(client):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        r = client.post(
            f"/api/sessions/{sid}/csv",
            content=_blobs_csv(k=2),
            headers={"content-type": "text/csv"},
        )
        assert r.status_code == 200 and r.json()["classes"] == ["0", "1"]


@pytest.mark.parametrize(
    "data, status, match",
    [
        (b"x1,x2,label\n1,2,0\n1,two,1\n3,4,0\n5,6,1\n", 400, "not a number"),
        (b"1,2\n3,4\n5,6\n7,8\n", 400, "expected 3"),
        (b"1,2,0\n3,4,0\n5,6,0\n7,8,0\n", 400, "one class only"),
        (b"", 400, "empty"),
    ],
)
def test_invalid_csv_upload_is_refused_and_session_keeps_its_data(client, data, status, match):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        r = client.post(f"/api/sessions/{sid}/csv", files={"file": ("bad.csv", data, "text/csv")})
        assert r.status_code == status and match in r.json()["error"]
        ws.send_json({"type": "step"})
        assert frame_where(ws, lambda f: f["epoch"] == 1)["config"]["dataset"] == "circle"


def test_oversized_csv_and_too_many_rows(app):
    app.state.playground.max_csv_bytes = 2_000
    app.state.playground.max_csv_rows = 50
    with TestClient(app, base_url=BASE) as client, client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        big = b"1.0,2.0,0\n" * 3_000  # 30 kB: refused from its Content-Length
        r = client.post(f"/api/sessions/{sid}/csv", files={"file": ("big.csv", big, "text/csv")})
        assert r.status_code == 413 and "limit is 2,000 bytes" in r.json()["error"]
        small_but_over = b"1.0,2.0,0\n" * 150 + b"1,1,1\n" * 40  # 1,740 bytes: parsed, too big
        r = client.post(
            f"/api/sessions/{sid}/csv", content=small_but_over, headers={"content-type": "text/csv"}
        )
        assert r.status_code == 400 and "190 rows" in r.json()["error"]
        almost = b"1.0,2.0,0\n" * 201  # 2,010 bytes, under the framing slack but over the limit
        r = client.post(
            f"/api/sessions/{sid}/csv", content=almost, headers={"content-type": "text/csv"}
        )
        assert r.status_code == 413


def test_csv_form_without_file_field(client):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        r = client.post(
            f"/api/sessions/{sid}/csv",
            data={"other": "x"},
            files={"notfile": ("a.csv", b"1,2,0", "text/csv")},
        )
        assert r.status_code == 400 and '"file"' in r.json()["error"]


def test_cross_origin_upload_is_refused(client):
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        r = client.post(
            f"/api/sessions/{sid}/csv",
            content=_blobs_csv(),
            headers={"content-type": "text/csv", "origin": "http://evil.example"},
        )
        assert r.status_code == 403


# ----- export endpoints -----


def test_export_endpoints(client, app):
    from safetensors.numpy import load

    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        ws.send_json({"type": "step"})
        frame_where(ws, lambda f: f["epoch"] == 1)
        r = client.get(f"/api/sessions/{sid}/export/script.py")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        assert "playground_model.py" in r.headers["content-disposition"]
        compile(r.text, "playground_model.py", "exec")  # valid Python
        assert "EPOCHS = 1" in r.text and "nn.Linear(2, 4)" in r.text
        w = client.get(f"/api/sessions/{sid}/export/model.safetensors")
        assert w.status_code == 200 and w.headers["content-type"] == "application/octet-stream"
        tensors = load(w.content)
        session = app.state.playground.sessions[sid]
        state = session.model.state_dict()
        assert sorted(tensors) == sorted(state)  # safetensors stores keys sorted
        for k, v in state.items():
            np.testing.assert_array_equal(tensors[k], v.numpy())


# ----- the command line -----


def test_cli_serves_the_page_on_a_free_port():
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "deepgrad.playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # "deepgrad playground: http://127.0.0.1:PORT/ ..."
        assert line.startswith("deepgrad playground: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url + "api/health", timeout=10) as r:
            assert json.loads(r.read()) == {"status": "ok", "sessions": 0, "max_sessions": 32}
        with urllib.request.urlopen(url, timeout=10) as r:
            assert b"deepgrad Playground" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
        proc.stderr.close()


def test_cli_reports_a_busy_port_and_a_bad_port(capsys):
    import socket

    from deepgrad.playground import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["--port", str(port), "--no-browser"]) == 1
    assert "cannot listen" in capsys.readouterr().err
    assert main(["--port", "70000", "--no-browser"]) == 2
    assert "0..65535" in capsys.readouterr().err


def test_two_quick_steps_train_two_epochs():
    # Both presses reach the worker in one batch of commands (queued before it starts): a
    # flag would merge them into one epoch; the count trains two. This was the browser
    # test's flake ("step" twice, the page never showed epoch 2).
    session = Session(frame_interval=0.05, grid_size=32)
    session.submit("step", 1)
    session.submit("step", 2)
    session.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, _, _, frame, _ = session.poll(-1, -1)
            f = json.loads(frame) if frame else None
            if f and f["seq"] == 2 and not f["running"]:
                break
            time.sleep(0.02)
        assert f is not None and f["epoch"] == 2 and f["running"] is False
    finally:
        session.close()


@pytest.mark.parametrize(
    "payload, match",
    [
        ("[" * 100_000 + "]" * 100_000, None),  # over the size limit
        ("[" * 30_000 + "]" * 30_000, "nests 30000 levels deep; the limit is 16"),
        ('{"type": "config", "config": {"seed": ' + "9" * 5000 + "}}", "cannot be read as JSON"),
        ('{"type": ["play"]}', "unknown message type"),
    ],
)
def test_hostile_messages_get_an_error_frame_and_the_session_goes_on(client, payload, match):
    with client.websocket_connect(WS) as ws:
        hello(ws)
        err = error_reply(ws, payload)
        assert err["fatal"] is False
        if match:
            assert match in err["message"]
        ws.send_json({"type": "step", "seq": 1})
        assert frame_where(ws, lambda f: f["seq"] == 1 and f["epoch"] == 1)["running"] is False


def test_huge_whole_number_labels_are_a_400_not_a_500(client):
    body = "x1,x2,label\n" + "".join(f"{i},{i},{'9' * 25 if i else 1}\n" for i in range(6))
    with client.websocket_connect(WS) as ws:
        sid = hello(ws)["session_id"]
        r = client.post(
            f"/api/sessions/{sid}/csv", content=body, headers={"content-type": "text/csv"}
        )
        assert r.status_code == 400 and "too large for a class number" in r.json()["error"]
        ws.send_json({"type": "step", "seq": 1})  # the session still trains its old data
        assert frame_where(ws, lambda f: f["seq"] == 1)["config"]["dataset"] == "circle"


def test_a_stalled_upload_is_refused_after_the_upload_timeout():
    import asyncio

    app = create_app(upload_timeout=0.5)
    pg = app.state.playground
    session = Session()
    pg.sessions[session.id] = session

    async def run():
        sent = []

        async def receive():
            if not sent:
                sent.append(1)
                return {"type": "http.request", "body": b"x1,x2,label\n", "more_body": True}
            await asyncio.sleep(3600)  # the client stalls

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": f"/api/sessions/{session.id}/csv",
            "raw_path": b"",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"100")],
            "app": app,
        }
        await asyncio.wait_for(app(scope, receive, send), 10)
        return sent

    sent = asyncio.run(run())
    start = next(m for m in sent[1:] if m["type"] == "http.response.start")
    assert start["status"] == 408


@pytest.mark.parametrize(
    "args, match",
    [
        (["--max-sessions", "0"], "--max-sessions: must be in 1..10000, got 0"),
        (["--idle-timeout", "nan"], "--idle-timeout: must be a number of seconds in (0, 86400]"),
        (["--idle-timeout", "-1"], "--idle-timeout: must be a number of seconds"),
    ],
)
def test_cli_limits_are_range_checked(capsys, args, match):
    from deepgrad.playground import main

    assert main([*args, "--no-browser"]) == 2
    assert match in capsys.readouterr().err
