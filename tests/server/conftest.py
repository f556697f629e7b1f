"""A real server on 127.0.0.1 (uvicorn in a thread, the worker in a spawned process) with an isolated home."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ldl_backend.server import PreparedServer, ServerConfig, prepare_server

COMPACT = "realesr-animevideov3"
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def error_of(reply: Reply, status: int, code: str) -> dict[str, str]:
    """The JSON error of ``reply``, checked: its status, code, and a hint the user can act on."""
    assert reply.status == status, (reply.status, reply.body[:300])
    document = reply.json()
    assert set(document) == {"code", "message", "hint"} and document["code"] == code, document
    assert document["hint"], document
    return document


@dataclass(frozen=True)
class Server:
    handle: PreparedServer
    home: Path

    @property
    def port(self) -> int:
        return self.handle.port

    @property
    def token(self) -> str:
        return self.handle.token

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        *,
        token: str | None = "valid",
        host: str | None = None,
        timeout: float = 60,
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
            if token is not None:
                connection.putheader("Authorization", f"Bearer {self.token if token == 'valid' else token}")
            chunked = body is not None and not isinstance(body, bytes)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if isinstance(body, bytes):
                connection.putheader("Content-Length", str(len(body)))
            elif chunked:
                connection.putheader("Transfer-Encoding", "chunked")
            elif method in ("POST", "PUT", "DELETE"):
                connection.putheader("Content-Length", "0")
            connection.endheaders()
            if isinstance(body, bytes):
                connection.send(body)
            elif body is not None:
                try:
                    for chunk in body:
                        connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    connection.send(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def submit(self, image: bytes, query: str = f"model={COMPACT}&reference=lanczos") -> str:
        reply = self.request("POST", f"/jobs?{query}", image, {"Content-Type": "image/png"})
        assert reply.status == 202, reply.body
        return reply.json()["id"]

    def job(self, job_id: str) -> dict[str, Any]:
        reply = self.request("GET", f"/jobs/{job_id}")
        assert reply.status == 200, reply.body
        return reply.json()

    def wait(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] not in ("queued", "running"):
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s")

    def wait_running(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] != "queued" and (job["state"] != "running" or job["progress"]["total"] > 0):
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} did not start in {timeout} s")

    def healthy(self) -> dict[str, Any]:
        reply = self.request("GET", "/health")
        assert reply.status == 200, reply.body
        assert reply.json()["status"] == "ok"
        return reply.json()


def start_server(home: Path, **settings: Any) -> Generator[Server, None, None]:
    config = ServerConfig(home / "data", home / "cache", home / "run", max_body=MAX_BODY, **settings)
    handle = prepare_server(config, home / "models", "test")
    thread = threading.Thread(target=handle.run, name="ldl-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not handle.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield Server(handle, home)
    finally:
        handle.stop()
        thread.join(20)
        assert not thread.is_alive()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("home"))


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[100:148, 200:256])


@pytest.fixture(scope="session")
def photo_png(photo: np.ndarray) -> bytes:
    return png_bytes(photo)


@pytest.fixture(scope="session")
def large_png() -> bytes:
    """Big enough that a tta:8 job runs for seconds on two cores (room to cancel or kill it mid-way)."""
    from skimage import data

    return png_bytes(np.ascontiguousarray(data.chelsea()[:256, :320]))
