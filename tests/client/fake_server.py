"""An in-memory stand-in for ``ldl serve`` that follows docs/server-api.md closely enough to test the client.

Standard library only, so the launch test can run it as a separate process. It checks Host, browser headers and
the token in the documented order, records every request for the tests to inspect, and scripts job progress.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

IMAGE_TYPES = ("image/png", "image/tiff", "image/jpeg", "image/webp", "application/x-ldl-raw")
MODELS = ("realesrgan-x4plus", "tiny-x2")
LAYERS = ("detail", "reference", "map", "mask", "blend")
PNG_LAYER = b"\x89PNG\r\n\x1a\nfake layer"
FINAL_STATES = ("succeeded", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class Recorded:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Backend:
    """The server's state, shared by all request threads (and by a "restarted" server when a test wants it)."""

    token: str
    steps: int = 3
    events_enabled: bool = True
    # True: an event stream sends the job once, then only keep-alive lines until the job is final (cancelled).
    hold: bool = False
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_job(self, model: str, width: int, height: int) -> dict[str, Any]:
        with self.lock:
            job_id = f"job{len(self.jobs) + 1}"
            job: dict[str, Any] = {
                "id": job_id,
                "state": "queued",
                "model": model,
                "created": 1_700_000_000.0 + len(self.jobs),
                "updated": "2023-11-14T22:13:20Z",
                "progress": {"done": 0, "total": self.steps, "stage": "queued", "eta_seconds": None},
                "error": None,
                "width": width * 4,
                "height": height * 4,
            }
            self.jobs[job_id] = job
            return job

    def advance(self, job: dict[str, Any]) -> None:
        """One step of the scripted run: queued → running 1..steps → succeeded."""
        with self.lock:
            if job["state"] in FINAL_STATES:
                return
            done = job["progress"]["done"] + 1
            if done > self.steps:
                job["state"] = "succeeded"
                job["progress"] = {"done": self.steps, "total": self.steps, "stage": "done", "eta_seconds": 0.0}
            else:
                job["state"] = "running"
                eta = float(self.steps - done)
                job["progress"] = {"done": done, "total": self.steps, "stage": "upscale", "eta_seconds": eta}

    def finish(self, job_id: str) -> None:
        while self.jobs[job_id]["state"] not in FINAL_STATES:
            self.advance(self.jobs[job_id])


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 (``port`` 0: any free port) serving ``backend``."""

    def __init__(self, backend: Backend, port: int = 0) -> None:
        self.backend = backend
        self.httpd = _QuietServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def write_discovery(self, path: Path, pid: int | None = None, mode: int = 0o600) -> None:
        """Write ``server.json`` as the real server does: atomically, with ``mode``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"port": self.port, "pid": os.getpid() if pid is None else pid, "token": self.backend.token}
        data |= {"version": "0.1.0-fake", "api": 1}
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        temporary.chmod(mode)
        temporary.replace(path)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # a client that stopped listening (a cancelled wait): expected, no traceback in the test output
        super().handle_error(request, client_address)


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing -------------------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        backend = self.fake.backend
        with backend.lock:
            backend.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        port = self.fake.port
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            return self._error(403, "bad_host", "bad Host header")
        if self.headers.get("Origin") is not None or any(k.lower().startswith("sec-fetch-") for k in self.headers):
            return self._error(403, "browser_request", "browsers may not call this server")
        if "token" in query or self.headers.get("Authorization") != f"Bearer {backend.token}":
            return self._error(401, "unauthorized", "missing or wrong token")
        parts = [urllib.parse.unquote(part) for part in url.path.split("/")[1:]]
        self._route(method, parts, query, body)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"code": code, "message": message, "hint": f"hint for {code}"}, headers)

    # --- routes ---------------------------------------------------------------------------------------------

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> None:
        backend = self.fake.backend
        match method, parts:
            case "GET", ["health"]:
                running = sum(job["state"] == "running" for job in backend.jobs.values())
                health = {"status": "ok", "version": "0.1.0-fake", "api": 1, "worker": "ready"}
                return self._json(200, health | {"queued": 0, "running": running})
            case "GET", ["models"]:
                models = [
                    {"name": name, "architecture": "RRDBNet", "scale": 4, "installed": True, "role": "generator"}
                    | {"description": f"{name} model"}
                    for name in MODELS
                ]
                return self._json(200, {"models": models})
            case "POST", ["jobs"]:
                return self._submit(query, body)
            case "GET", ["jobs"]:
                return self._json(200, {"jobs": list(reversed(backend.jobs.values()))})
            case "GET", ["jobs", "plain-500"]:
                return self._send(500, b"Internal Server Error", "text/plain")
        job = backend.jobs.get(parts[1]) if len(parts) >= 2 and parts[0] == "jobs" else None
        if job is None:
            return self._error(404, "not_found", "no such route or job")
        match method, parts[2:]:
            case "GET", []:
                if not backend.events_enabled:
                    backend.advance(job)  # polled jobs progress one step per look
                return self._json(200, job)
            case "GET", ["events"]:
                return self._events(job)
            case "GET", ["layers", name]:
                return self._layer(job, name, query.get("format", ["png"])[0])
            case "POST", ["cancel"]:
                if job["state"] in FINAL_STATES:
                    return self._error(409, "conflict", "the job is already final")
                job["state"] = "cancelled"
                return self._json(202, job)
            case "POST", ["reblend"]:
                if job["state"] != "succeeded":
                    return self._error(409, "conflict", "the job has not succeeded")
                return self._json(200, job)
            case "DELETE", []:
                if job["state"] == "running":
                    return self._error(409, "conflict", "cancel first")
                del backend.jobs[job["id"]]
                self.send_response(204)
                self.send_header("Content-Length", "0")
                return self.end_headers()
        return self._error(404, "not_found", "no such route")

    def _submit(self, query: dict[str, list[str]], body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        if content_type not in IMAGE_TYPES:
            return self._error(415, "unsupported_image", f"cannot read {content_type}")
        model = query.get("model", [""])[0]
        if model == "busy":
            return self._error(429, "queue_full", "the queue is full", {"Retry-After": "3"})
        if model not in MODELS:
            return self._error(404, "unknown_model", f"no model {model}")
        width = int(self.headers.get("X-Ldl-Width") or 2)
        height = int(self.headers.get("X-Ldl-Height") or 2)
        job = self.fake.backend.new_job(model, width, height)
        return self._json(202, {"id": job["id"], "state": job["state"]})

    def _events(self, job: dict[str, Any]) -> None:
        if not self.fake.backend.events_enabled:
            return self._error(404, "not_found", "events are switched off in this test")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        # No Content-Length: the stream ends when the connection closes, as an event stream does.
        self.close_connection = True
        self.wfile.write(b": keep-alive comment\n\n")
        if self.fake.backend.hold:
            return self._hold(job)
        while True:
            self.fake.backend.advance(job)
            payload = json.dumps(job).encode()
            self.wfile.write(b"event: progress\r\ndata: " + payload + b"\r\n\r\n")
            self.wfile.flush()
            if job["state"] in FINAL_STATES:
                break
        self.wfile.write(b"event: end\ndata: " + json.dumps(job).encode() + b"\n\n")
        self.wfile.flush()

    def _hold(self, job: dict[str, Any]) -> None:
        self.wfile.write(b"event: progress\ndata: " + json.dumps(job).encode() + b"\n\n")
        self.wfile.flush()
        while job["state"] not in FINAL_STATES:
            time.sleep(0.05)
            try:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client stopped following
        self.wfile.write(b"event: progress\ndata: " + json.dumps(job).encode() + b"\n\n")
        self.wfile.write(b"event: end\ndata: " + json.dumps(job).encode() + b"\n\n")
        self.wfile.flush()

    def _layer(self, job: dict[str, Any], name: str, format: str) -> None:
        if name not in LAYERS:
            return self._error(404, "not_found", f"no layer {name}")
        if job["state"] != "succeeded":
            return self._error(409, "conflict", "the job has not succeeded")
        if format != "raw":
            return self._send(200, PNG_LAYER, f"image/{format}")
        channels, dtype = (1, "float32") if name in ("map", "mask") else (3, "uint16")
        width, height = 3, 2
        count = width * height * channels
        if dtype == "float32":
            data = struct.pack(f"<{count}f", *(i / count for i in range(count)))
        else:
            data = struct.pack(f"<{count}H", *(i * 1000 for i in range(count)))
        headers = {"X-Ldl-Width": str(width), "X-Ldl-Height": str(height), "X-Ldl-Channels": str(channels)}
        return self._send(200, data, "application/x-ldl-raw", headers | {"X-Ldl-Dtype": dtype})
