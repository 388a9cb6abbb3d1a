"""The deepgrad Playground: train small networks live in the browser, driven by deepgrad.

``python -m deepgrad.playground`` (or ``deepgrad playground``) starts a local web server and
opens the page: pick a 2-D data set or upload a CSV, choose features, layers, activation,
optimiser and regularisation, press play and watch the decision boundary, every neuron's
output, the weights and the loss curves change; then export a deepgrad script and the weights.

The server (``server.py``) is Starlette on uvicorn; each browser tab gets one training
``Session`` (``session.py``) on its own worker thread; ``validation.py`` checks every value the
page sends; ``export.py`` writes the script and the safetensors weights.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import socket
import sys
import threading
import webbrowser

from deepgrad.utils.argtypes import int_in

__all__ = ["create_app", "main"]


def create_app(**kwargs):
    """The playground's ASGI app (see ``deepgrad.playground.server.create_app``)."""
    from deepgrad.playground.server import create_app as _create_app

    return _create_app(**kwargs)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, 86400], got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deepgrad playground",
        description="Train small networks live in the browser, driven by deepgrad.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=int_in(0, 65535), default=8000, help="port (default: 8000; 0 picks one)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--max-sessions",
        type=int_in(1, 10_000),
        default=32,
        help="browser tabs served at once, 1..10000 (default: 32)",
    )
    p.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=600.0,
        help="seconds without input before a tab's session is closed (default: 600)",
    )
    p.add_argument(
        "--upload-timeout",
        type=_seconds,
        default=30.0,
        help="seconds a CSV upload may take to arrive before it is refused (default: 30)",
    )
    return p


def main(argv=None) -> int:
    """Run the playground server until Ctrl-C: ``deepgrad playground [--host] [--port] ...``."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse's usage error (status 2) or --help (0), as a status
        return int(e.code or 0)
    try:
        import uvicorn
    except ImportError:
        print(
            "deepgrad playground needs the web extras: pip install 'deepgrad[app]'",
            file=sys.stderr,
        )
        return 1
    loopback = _is_loopback(args.host)
    if not loopback:
        print(
            f"warning: serving on {args.host}, reachable from other machines; the playground "
            "has no login, so anyone who can reach it can run training on this computer.",
            file=sys.stderr,
        )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host.strip("[]"), args.port))
    except OSError as e:
        sock.close()
        print(
            f"cannot listen on {args.host}:{args.port} ({e.strerror}); is another server "
            "using the port? Try --port 0 for a free one.",
            file=sys.stderr,
        )
        return 1
    port = sock.getsockname()[1]
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    if ":" in shown_host and not shown_host.startswith("["):
        shown_host = f"[{shown_host}]"
    url = f"http://{shown_host}:{port}/"

    from deepgrad.playground.server import LOOPBACK_HOSTS

    app = create_app(
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        upload_timeout=args.upload_timeout,
        allowed_hosts=LOOPBACK_HOSTS if loopback else ("*",),
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", ws_max_size=2**20, lifespan="on")
    )

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"deepgrad playground: {url}  (Ctrl-C to stop)", flush=True)
            if not args.no_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])
    return 0
