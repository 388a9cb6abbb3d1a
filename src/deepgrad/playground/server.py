"""The playground's web server: a Starlette app served by uvicorn.

Routes:

    GET  /                                        the page (static/index.html)
    GET  /static/...                              its script and style sheet
    GET  /api/options                             parameter choices, ranges, defaults, limits
    GET  /api/health                              {"status": "ok", "sessions": n, ...}
    POST /api/sessions/{id}/csv                   upload a CSV (multipart field "file", or a
                                                  text/csv body) for that tab's session
    GET  /api/sessions/{id}/export/script.py      the standalone deepgrad script
    GET  /api/sessions/{id}/export/model.safetensors   the trained weights
    GET  /api/sessions/{id}/export/model.onnx     the trained network (features included) as ONNX
    WS   /ws                                      one session per connection

WebSocket protocol (JSON text messages). The page sends ``{"type": T, ...}`` with T one of
``config`` (``{"type": "config", "config": {partial settings}}``), ``play``, ``pause``,
``step`` (train to the end of the next epoch), ``reset`` and ``ping``. The server sends
``hello`` (session id, settings, options), ``config`` (the settings it accepted), ``points``
(the data, whenever it changes), ``frame`` (a few times a second while training), ``pong``,
and ``error`` / ``warning`` (``{"message", "field", "fatal"}``; after a fatal one the server
closes the connection). A malformed or out-of-range message gets an ``error`` and changes
nothing: the session keeps its last good settings and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from deepgrad.playground import export
from deepgrad.playground.session import Session
from deepgrad.playground.validation import (
    DEFAULTS,
    MAX_CSV_BYTES,
    MAX_CSV_CLASSES,
    MAX_CSV_ROWS,
    MAX_JSON_DEPTH,
    MAX_MESSAGE_CHARS,
    UPLOAD_TIMEOUT,
    ValidationError,
    json_depth,
    options,
    parse_csv,
    validate_update,
)

STATIC = Path(__file__).parent / "static"
MESSAGE_TYPES = ("config", "play", "pause", "step", "reset", "ping")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
CLOSE_FULL = 1013  # "try again later"
CLOSE_IDLE = 4001
CLOSE_ERROR = 1011  # "internal error"
CLOSE_ORIGIN = 1008  # policy violation


class Playground:
    """The server's state: the open sessions and the limits they live under."""

    def __init__(
        self,
        max_sessions: int = 32,
        idle_timeout: float = 600.0,
        max_csv_bytes: int = MAX_CSV_BYTES,
        max_csv_rows: int = MAX_CSV_ROWS,
        frame_interval: float = 0.2,
        grid_size: int = 64,
        upload_timeout: float = UPLOAD_TIMEOUT,
    ) -> None:
        limits = dict(
            max_sessions=max_sessions,
            idle_timeout=idle_timeout,
            frame_interval=frame_interval,
            upload_timeout=upload_timeout,
        )
        bad = [
            f"{k}={v!r}"
            for k, v in limits.items()
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            or v <= 0 or (k == "max_sessions" and v != int(v))
        ]  # fmt: skip
        if bad:
            raise ValueError(
                f"Playground: {', '.join(bad)}: the limits must be finite and positive "
                "(max_sessions a whole number of at least 1)"
            )
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.max_csv_bytes = max_csv_bytes
        self.max_csv_rows = max_csv_rows
        self.frame_interval = frame_interval
        self.grid_size = grid_size
        self.upload_timeout = upload_timeout
        self.sessions: dict[str, Session] = {}

    def options(self) -> dict:
        opts = options()
        opts["limits"].update(
            {
                "csv_bytes": self.max_csv_bytes,
                "csv_rows": self.max_csv_rows,
                "max_sessions": self.max_sessions,
                "idle_timeout_s": self.idle_timeout,
                "frame_interval_s": self.frame_interval,
                "upload_timeout_s": self.upload_timeout,
            }
        )
        return opts


def _error(message: str, field: str | None = None, fatal: bool = False, **extra) -> dict:
    return {"type": "error", "message": message, "field": field, "fatal": fatal, **extra}


def _csv_rows(session: Session) -> int | None:
    return None if session.csv is None else len(session.csv.y)


def handle_message(session: Session, text) -> list[dict]:
    """Check one message from the page and act on it; returns the replies to send.

    Never raises for bad input: anything malformed or out of range becomes an ``error`` reply
    (with the settings still in force, so the page can put its controls back).
    """
    if not isinstance(text, str):
        return [_error("send text (JSON) messages; binary messages are not understood")]
    if len(text) > MAX_MESSAGE_CHARS:
        return [_error(f"message of {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}")]
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        return [_error(f"message nests {depth} levels deep; the limit is {MAX_JSON_DEPTH}")]
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as e:
        return [_error(f"message is not valid JSON ({e.msg} at character {e.pos})")]
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4300 digits
        return [_error(f"message cannot be read as JSON ({e})")]
    if not isinstance(msg, dict) or "type" not in msg:
        return [_error('a message must be a JSON object with a "type", e.g. {"type": "play"}')]
    kind = msg["type"]
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        return [_error(f"unknown message type {kind!r}; known types: {', '.join(MESSAGE_TYPES)}")]
    if kind == "ping":
        return [{"type": "pong", "id": msg.get("id"), "time": time.time()}]
    if kind == "config":
        if "config" not in msg:
            example = '{"type": "config", "config": {"lr": 0.01}}'
            return [
                _error(
                    f'a config message needs a "config" object: {example}',
                    config=session.config.to_json(),
                )
            ]
        try:
            new = validate_update(msg["config"], session.config, _csv_rows(session))
        except ValidationError as e:
            return [_error(str(e), e.field, config=session.config.to_json())]
        session.update_config(new)
        return [{"type": "config", "config": new.to_json()}]
    seq = msg.get("seq")
    if seq is not None and (type(seq) is not int or not 0 <= seq < 2**53):
        return [_error(f'"seq" must be a whole number from 0 to 2**53 - 1, not {seq!r}')]
    session.submit(kind, *(() if seq is None else (seq,)))
    return []


def _same_origin(headers) -> bool:
    """A browser's Origin must be this server: no other web site may drive a local session."""
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser (scripts, tests): nothing to forge
    host = headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def _session_or_404(request: Request) -> Session:
    sid = request.path_params["sid"]
    session = request.app.state.playground.sessions.get(sid)
    if session is None:
        raise HTTPException(404, f"no open session {sid!r}: the tab was closed or timed out")
    return session


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def api_options(request: Request) -> Response:
    return JSONResponse(request.app.state.playground.options())


async def api_health(request: Request) -> Response:
    pg = request.app.state.playground
    return JSONResponse(
        {"status": "ok", "sessions": len(pg.sessions), "max_sessions": pg.max_sessions}
    )


async def upload_csv(request: Request) -> Response:
    """Validate an uploaded CSV and switch the session to it."""
    session = _session_or_404(request)
    pg = request.app.state.playground
    if not _same_origin(request.headers):
        raise HTTPException(403, "uploads are accepted from the playground page only")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(411, "send the CSV with a Content-Length header")
    # Multipart framing adds a few hundred bytes around the file itself.
    if int(length) > pg.max_csv_bytes + 16_384:
        raise HTTPException(
            413, f"the upload is {int(length):,} bytes; the CSV limit is {pg.max_csv_bytes:,} bytes"
        )
    try:
        # A client that stops sending mid-upload must not hold the connection forever.
        data = await asyncio.wait_for(_read_upload(request, pg), pg.upload_timeout)
    except asyncio.TimeoutError:
        raise HTTPException(
            408, f"the upload did not arrive within {pg.upload_timeout:g} s; send it again"
        ) from None
    session.last_activity = time.monotonic()
    try:
        table = await anyio.to_thread.run_sync(
            lambda: parse_csv(data, pg.max_csv_bytes, pg.max_csv_rows, MAX_CSV_CLASSES)
        )
        config = validate_update({"dataset": "csv"}, session.config, len(table.y))
    except ValidationError as e:
        status = 413 if len(data) > pg.max_csv_bytes else 400
        raise HTTPException(status, str(e)) from None
    except Exception as e:  # noqa: BLE001 - any other failure is still the file's fault: 400
        raise HTTPException(400, f"the CSV could not be read ({type(e).__name__}: {e})") from None
    session.load_csv(table, config)
    return JSONResponse(
        {
            "ok": True,
            "rows": len(table.y),
            "task": table.task,
            "classes": table.class_names,
            "header": table.header,
            "config": config.to_json(),
        }
    )


async def _read_upload(request: Request, pg: Playground) -> bytes:
    """The CSV bytes of an upload (a multipart field "file", or the body), at most the limit
    plus one byte, so an oversized file is refused without reading all of it."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise HTTPException(400, 'send the CSV file in the form field "file"')
                return await upload.read(pg.max_csv_bytes + 1)
        except (ValueError, KeyError) as e:  # malformed multipart framing
            raise HTTPException(400, f"the upload is not a valid multipart form ({e})") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > pg.max_csv_bytes:
            break
    return b"".join(chunks)


async def _export_state(request: Request) -> dict:
    session = _session_or_404(request)
    session.last_activity = time.monotonic()
    try:
        return await anyio.to_thread.run_sync(session.export_state)
    except Exception as e:  # noqa: BLE001 - a 4xx with the reason, never a 500
        raise HTTPException(409, f"the session cannot be exported now ({e})") from None


def _download(body, media_type: str, filename: str) -> Response:
    """A response the browser saves as ``filename`` instead of showing it."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def export_script(request: Request) -> Response:
    text = export.render_script(await _export_state(request))
    return _download(text, "text/x-python; charset=utf-8", export.SCRIPT_NAME)


async def export_weights(request: Request) -> Response:
    data = export.weights_bytes(await _export_state(request))
    return _download(data, "application/octet-stream", export.WEIGHTS_NAME)


async def export_onnx(request: Request) -> Response:
    from deepgrad.playground.onnx_export import ONNX_NAME, onnx_bytes

    state = await _export_state(request)
    try:
        data = await anyio.to_thread.run_sync(onnx_bytes, state)
    except ImportError as e:  # the onnx package is an optional extra
        raise HTTPException(501, f"ONNX export needs: pip install deepgrad[onnx] ({e})") from None
    return _download(data, "application/octet-stream", ONNX_NAME)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _pump(websocket: WebSocket, session: Session, send, interval: float) -> None:
    """Forward the session's notices, data and frames to the page as they appear."""
    frame_seen = data_seen = 0
    while True:
        events, points, data_version, frame, frame_version = session.poll(frame_seen, data_seen)
        for event in events:
            await send(json.dumps({"fatal": False, **event}))
        if points is not None:
            await send(points)
            data_seen = data_version
        if frame is not None:
            await send(frame)
            frame_seen = frame_version
        await asyncio.sleep(interval / 2)


async def websocket_endpoint(websocket: WebSocket) -> None:
    pg: Playground = websocket.app.state.playground
    if not _same_origin(websocket.headers):
        await websocket.close(code=CLOSE_ORIGIN)
        return
    await websocket.accept()
    if len(pg.sessions) >= pg.max_sessions:
        await websocket.send_json(
            _error(
                f"the playground is full: {len(pg.sessions)} sessions are open (limit "
                f"{pg.max_sessions}). Close another playground tab and reload this page.",
                fatal=True,
            )
        )
        await websocket.close(code=CLOSE_FULL)
        return
    session = Session(DEFAULTS, frame_interval=pg.frame_interval, grid_size=pg.grid_size)
    pg.sessions[session.id] = session
    session.start()
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:
            await websocket.send_text(text)

    pump = receive = None
    try:
        await send(
            json.dumps(
                {
                    "type": "hello",
                    "session_id": session.id,
                    "config": session.config.to_json(),
                    "options": pg.options(),
                }
            )
        )
        pump = asyncio.create_task(_pump(websocket, session, send, pg.frame_interval))
        while True:
            # One receive at a time, kept across idle checks so no message is ever lost; HTTP
            # uploads and exports also count as activity.
            if receive is None:
                receive = asyncio.ensure_future(websocket.receive())
            idle = time.monotonic() - session.last_activity
            done, _ = await asyncio.wait(
                {receive, pump},
                timeout=max(pg.idle_timeout - idle, 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if pump in done:
                # The frame pump died (it only ends by an error): close the connection, so the
                # page says so instead of showing a view that never changes again.
                await websocket.close(code=CLOSE_ERROR)
                break
            if not done:
                if time.monotonic() - session.last_activity < pg.idle_timeout:
                    continue
                receive.cancel()
                minutes = pg.idle_timeout / 60
                await send(
                    json.dumps(
                        _error(
                            f"this session was closed after {minutes:g} minutes without input; "
                            "reload the page to start a new one",
                            fatal=True,
                        )
                    )
                )
                await websocket.close(code=CLOSE_IDLE)
                break
            message = receive.result()
            receive = None
            if message["type"] == "websocket.disconnect":
                break
            session.last_activity = time.monotonic()
            text = message.get("text")
            for reply in handle_message(session, text if text is not None else b""):
                await send(json.dumps(reply))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the tab went away mid-send; clean up below
    finally:
        # First the steps that cannot be interrupted, in case this task is being cancelled.
        pg.sessions.pop(session.id, None)
        session.stop()
        if receive is not None:
            receive.cancel()
        if pump is not None:
            pump.cancel()
        with anyio.CancelScope(shield=True):
            if pump is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
            await anyio.to_thread.run_sync(session.close)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette):
    yield
    # Shutting down: stop every worker thread still training.
    sessions = list(app.state.playground.sessions.values())
    app.state.playground.sessions.clear()
    for session in sessions:
        await anyio.to_thread.run_sync(session.close)


def create_app(
    *,
    max_sessions: int = 32,
    idle_timeout: float = 600.0,
    max_csv_bytes: int = MAX_CSV_BYTES,
    max_csv_rows: int = MAX_CSV_ROWS,
    frame_interval: float = 0.2,
    grid_size: int = 64,
    upload_timeout: float = UPLOAD_TIMEOUT,
    allowed_hosts=LOOPBACK_HOSTS,
) -> Starlette:
    """The playground as an ASGI app; the limits are configurable for tests and deployments.

    ``allowed_hosts`` guards against DNS rebinding: a page on another site cannot reach the
    loopback server through a name that resolves to 127.0.0.1. Pass ``["*"]`` when serving on
    a network interface on purpose.
    """
    routes = [
        Route("/", index),
        Route("/api/options", api_options),
        Route("/api/health", api_health),
        Route("/api/sessions/{sid}/csv", upload_csv, methods=["POST"]),
        Route("/api/sessions/{sid}/export/script.py", export_script),
        Route("/api/sessions/{sid}/export/model.safetensors", export_weights),
        Route("/api/sessions/{sid}/export/model.onnx", export_onnx),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
        exception_handlers={HTTPException: _http_error},
        lifespan=_lifespan,
    )
    app.state.playground = Playground(
        max_sessions=max_sessions,
        idle_timeout=idle_timeout,
        max_csv_bytes=max_csv_bytes,
        max_csv_rows=max_csv_rows,
        frame_interval=frame_interval,
        grid_size=grid_size,
        upload_timeout=upload_timeout,
    )
    return app
