"""Serve this page on http://127.0.0.1:8000/ (``python serve.py [--port N] [--model FILE]``).

A plain static server with the MIME types onnxruntime-web needs (.mjs as JavaScript, .wasm as
WebAssembly); ``--model`` serves that file as ``model.onnx``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
    }
    model: Path | None = None

    def translate_path(self, path: str) -> str:
        if self.model is not None and path.split("?")[0] == "/model.onnx":
            return str(self.model)
        return super().translate_path(path)

    def log_message(self, *args) -> None:  # quiet
        pass


def make_server(port: int = 8000, model=None, host: str = "127.0.0.1"):
    """A ``ThreadingHTTPServer`` for this folder (port 0: a free one)."""
    handler = type("ModelHandler", (Handler,), {"model": Path(model).resolve() if model else None})
    factory = functools.partial(handler, directory=str(HERE))
    return http.server.ThreadingHTTPServer((host, port), factory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", help="the ONNX file to serve (default ./model.onnx)")
    args = parser.parse_args()
    server = make_server(args.port, args.model)
    print(f"http://127.0.0.1:{server.server_address[1]}/")
    server.serve_forever()


if __name__ == "__main__":
    main()
