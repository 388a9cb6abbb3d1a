"""Playground under load: 20 browser-like WebSocket clients train at once for 30 seconds.

A uvicorn server runs on a free loopback port in this process; 20 client threads (the
``websockets`` sync client) each open a session, pick settings, press play, and for 30 seconds
read frames while now and then changing the learning rate, stepping, pausing and pinging. Every
loop is bounded in count and time. Checked: no client sees an error, every client sees its
epochs advance, the server's memory (this process's resident set, from /proc) stays flat
after warm-up, and every session and worker thread is gone once the clients leave.
"""

from __future__ import annotations

import json
import random
import resource
import socket
import threading
import time

import pytest

uvicorn = pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")

from deepgrad.playground.server import create_app  # noqa: E402

N_CLIENTS = 20
DURATION = 30.0
WARMUP = 8.0
RSS_GROWTH_LIMIT_MB = 25.0  # a frame leak (about 2.5 MB/s here) would pass it in 10 s
SETTINGS = [
    {"dataset": "circle", "hidden": [4, 2]},
    {"dataset": "spiral", "n_classes": 3, "hidden": [6, 6], "features": ["x1", "x2", "sinx1"]},
    {"dataset": "xor", "hidden": [3], "optimizer": "adam"},
    {"dataset": "plane", "hidden": [2], "activation": "relu", "optimizer": "rmsprop"},
    {"dataset": "moons", "hidden": [5, 5, 5], "regularization": "l2", "reg_rate": 0.001},
]


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, Linux units: kB


def client(url: str, index: int, stop_at: float, report: dict) -> None:
    rnd = random.Random(index)
    stats = {"frames": 0, "errors": [], "max_epoch": 0, "messages": 0}
    report[index] = stats
    try:
        with ws_client.connect(url, open_timeout=30, close_timeout=5, max_size=2**22) as ws:
            hello = json.loads(ws.recv(timeout=30))
            assert hello["type"] == "hello"
            ws.send(json.dumps({"type": "config", "config": SETTINGS[index % len(SETTINGS)]}))
            ws.send(json.dumps({"type": "play"}))
            next_action = time.monotonic() + rnd.uniform(1, 3)
            for _ in range(100_000):  # bounded; the deadline ends it long before
                now = time.monotonic()
                if now >= stop_at:
                    break
                if now >= next_action:
                    action = rnd.choice(["lr", "step", "ping", "pause-play"])
                    if action == "lr":
                        lr = rnd.choice([0.003, 0.01, 0.03])
                        ws.send(json.dumps({"type": "config", "config": {"lr": lr}}))
                    elif action == "step":
                        ws.send(json.dumps({"type": "step"}))
                        ws.send(json.dumps({"type": "play"}))
                    elif action == "ping":
                        ws.send(json.dumps({"type": "ping"}))
                    else:
                        ws.send(json.dumps({"type": "pause"}))
                        ws.send(json.dumps({"type": "play"}))
                    next_action = now + rnd.uniform(1, 3)
                try:
                    raw = ws.recv(timeout=min(1.0, max(stop_at - now, 0.01)))
                except TimeoutError:
                    continue
                msg = json.loads(raw)
                stats["messages"] += 1
                if msg["type"] in ("error", "warning"):
                    stats["errors"].append(msg["message"])
                elif msg["type"] == "frame":
                    stats["frames"] += 1
                    stats["max_epoch"] = max(stats["max_epoch"], msg["epoch"])
    except Exception as e:  # reported, not raised: the main thread asserts on the reports
        stats["errors"].append(f"{type(e).__name__}: {e}")


def test_twenty_sessions_for_thirty_seconds():
    app = create_app(max_sessions=32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", ws_max_size=2**20)
    )
    server_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    server_thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start within 30 s"
        threads_before = {t.name for t in threading.enumerate()}

        report: dict = {}
        start = time.monotonic()
        stop_at = start + DURATION
        clients = [
            threading.Thread(target=client, args=(f"ws://127.0.0.1:{port}/ws", i, stop_at, report))
            for i in range(N_CLIENTS)
        ]
        for t in clients:
            t.start()
        samples = []
        while time.monotonic() < stop_at:
            time.sleep(1.0)
            samples.append((time.monotonic() - start, rss_mb(), len(app.state.playground.sessions)))
        for t in clients:
            t.join(30)
        assert not any(t.is_alive() for t in clients), "a client thread did not finish"

        assert max(s[2] for s in samples) == N_CLIENTS  # all 20 were open at once
        for i in range(N_CLIENTS):
            stats = report[i]
            assert not stats["errors"], f"client {i}: {stats['errors'][:3]}"
            assert stats["frames"] >= 5 and stats["max_epoch"] >= 1, f"client {i}: {stats}"
        after_warmup = [rss for t, rss, _ in samples if t >= WARMUP]
        growth = max(after_warmup) - after_warmup[0]
        assert growth < RSS_GROWTH_LIMIT_MB, (
            f"resident memory grew {growth:.1f} MB after warm-up; samples (MB): "
            f"{[round(r) for _, r, _ in samples]}"
        )

        # Every session closes with its tab, and its worker thread ends.
        deadline = time.monotonic() + 20
        while app.state.playground.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not app.state.playground.sessions
        while time.monotonic() < deadline and any(
            t.name.startswith("playground-session") for t in threading.enumerate()
        ):
            time.sleep(0.05)
        leftover = {t.name for t in threading.enumerate()} - threads_before
        assert not [n for n in leftover if n.startswith("playground-session")]
    finally:
        server.should_exit = True
        server_thread.join(15)
        sock.close()
