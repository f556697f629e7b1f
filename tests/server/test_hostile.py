"""Hostile and malformed requests: each gets its honest JSON error, and the server stays healthy afterwards."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ldl_backend.cli import main
from ldl_backend.server import ServerConfig
from tests.server.conftest import COMPACT, MAX_BODY, Reply, Server

JOB = "0" * 32
ROUTES = [
    ("GET", "/health"),
    ("GET", "/models"),
    ("GET", "/openapi.json"),
    ("GET", "/jobs"),
    ("POST", f"/jobs?model={COMPACT}"),
    ("GET", f"/jobs/{JOB}"),
    ("DELETE", f"/jobs/{JOB}"),
    ("GET", f"/jobs/{JOB}/events"),
    ("GET", f"/jobs/{JOB}/layers/detail"),
    ("POST", f"/jobs/{JOB}/cancel"),
    ("POST", f"/jobs/{JOB}/reblend"),
    ("GET", "/no-such-route"),
]
PATH_LIKE = ["../x", "/etc/passwd", "C:\\x", "..%2F..%2Fetc%2Fpasswd", "%00"]


@pytest.fixture(autouse=True)
def still_healthy(server: Server) -> Iterator[None]:
    yield
    server.healthy()


def error_of(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    document = reply.json()
    assert set(document) == {"code", "message", "hint"} and document["code"] == code, document
    assert "access-control-allow-origin" not in reply.headers


def test_non_loopback_bind_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="allow-remote"):
        ServerConfig(Path("d"), Path("c"), Path("r"), host="0.0.0.0")
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "allow-remote" in capsys.readouterr().err


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("token", [None, "wrong", "query"])
def test_token_required_everywhere(server: Server, method: str, path: str, token: str | None) -> None:
    if token == "query":  # a valid header does not excuse a token in the URL
        separator = "&" if "?" in path else "?"
        for query in (f"token={server.token}", f"x={server.token}", "access_token=abc"):
            error_of(server.request(method, f"{path}{separator}{query}"), 401, "unauthorized")
        return
    reply = server.request(method, path, token=token)
    error_of(reply, 401, "unauthorized")


@pytest.mark.parametrize("host", ["evil.example:80", "127.0.0.1:1", "", "127.0.0.1", "localhost.evil.example"])
def test_bad_host(server: Server, host: str) -> None:
    reply = server.request("GET", "/health", host=host)
    if host == "" and reply.status == 400 and not reply.body.startswith(b"{"):
        return  # refused by the HTTP parser itself, before the app
    error_of(reply, 403, "bad_host")
    error_of(server.request("GET", "/health", host=host, token=None), 403, "bad_host")  # Host is checked first


@pytest.mark.parametrize(
    "header",
    [
        ("Origin", "http://localhost:3000"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "cors"),
    ],
)
def test_browser_requests_refused(server: Server, header: tuple[str, str]) -> None:
    error_of(server.request("GET", "/health", headers=dict([header])), 403, "browser_request")
    error_of(server.request("GET", "/health", headers=dict([header]), token=None), 403, "browser_request")


def test_oversize_body_with_content_length(server: Server) -> None:
    reply = server.request("POST", f"/jobs?model={COMPACT}", b"\0" * (MAX_BODY + 1), {"Content-Type": "image/png"})
    error_of(reply, 413, "body_too_large")


def test_oversize_body_streamed_without_content_length(server: Server) -> None:
    chunks = (b"\x89PNG\r\n\x1a\n" + b"\0" * 65528 for _ in range(MAX_BODY // 65536 + 2))
    reply = server.request("POST", f"/jobs?model={COMPACT}", chunks, {"Content-Type": "image/png"})
    error_of(reply, 413, "body_too_large")


@pytest.mark.parametrize("value", PATH_LIKE)
def test_path_like_values(server: Server, value: str, photo_png: bytes) -> None:
    png = {"Content-Type": "image/png"}
    error_of(server.request("POST", f"/jobs?model={value}", photo_png, png), 404, "unknown_model")
    error_of(
        server.request("POST", f"/jobs?model={COMPACT}&reference=model:{value}", photo_png, png), 404, "unknown_model"
    )
    for field in ("reference", "alpha", "threshold", "softness", "scale", value):
        reply = server.request("POST", f"/jobs?model={COMPACT}&{field}={value}", photo_png, png)
        error_of(reply, 400, "bad_request")
    assert server.request("GET", f"/jobs/{value}").status == 404
    assert server.request("GET", f"/jobs/{JOB}/layers/{value}").status == 404
    raw = {"Content-Type": "application/x-ldl-raw", "X-Ldl-Width": "2", "X-Ldl-Height": "2", "X-Ldl-Channels": "1"}
    error_of(
        server.request("POST", f"/jobs?model={COMPACT}", b"\0" * 4, dict(raw, **{"X-Ldl-Dtype": value})),
        400,
        "bad_request",
    )


def test_path_like_layer_format(server: Server, photo_png: bytes) -> None:
    job_id = server.submit(photo_png)
    assert server.wait(job_id)["state"] == "succeeded"
    for value in PATH_LIKE:
        error_of(server.request("GET", f"/jobs/{job_id}/layers/detail?format={value}"), 400, "bad_request")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def test_decompression_bomb_header(server: Server) -> None:
    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    bomb += _png_chunk(b"IDAT", zlib.compress(b"\0" * 200_000, 9)) + _png_chunk(b"IEND", b"")
    error_of(
        server.request("POST", f"/jobs?model={COMPACT}", bomb, {"Content-Type": "image/png"}), 422, "image_too_large"
    )
    raw = {"Content-Type": "application/x-ldl-raw", "X-Ldl-Width": "40000", "X-Ldl-Height": "40000"}
    raw |= {"X-Ldl-Channels": "3", "X-Ldl-Dtype": "uint8"}
    error_of(server.request("POST", f"/jobs?model={COMPACT}", b"\0" * 12, raw), 422, "image_too_large")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "image/png", 422, "bad_image"),
        (b"GIF89a" + b"\0" * 40, "image/png", 415, "unsupported_image"),
        (b"%PDF-1.4 hello", "image/tiff", 415, "unsupported_image"),
        (b"<html>not an image</html>", "image/jpeg", 415, "unsupported_image"),
        (b"hello", "text/plain", 415, "unsupported_image"),
        (b"", "image/png", 400, "bad_request"),
    ],
)
def test_bad_images(server: Server, body: bytes, content_type: str, status: int, code: str) -> None:
    error_of(server.request("POST", f"/jobs?model={COMPACT}", body, {"Content-Type": content_type}), status, code)


def test_truncated_image(server: Server, photo_png: bytes) -> None:
    reply = server.request(
        "POST", f"/jobs?model={COMPACT}", photo_png[: len(photo_png) // 2], {"Content-Type": "image/png"}
    )
    error_of(reply, 422, "bad_image")


def test_raw_body_of_wrong_length(server: Server) -> None:
    raw = {"Content-Type": "application/x-ldl-raw", "X-Ldl-Width": "8", "X-Ldl-Height": "8", "X-Ldl-Channels": "3"}
    raw["X-Ldl-Dtype"] = "uint16"
    error_of(server.request("POST", f"/jobs?model={COMPACT}", b"\0" * 100, raw), 400, "bad_request")
    nan = np.full((8, 8, 3), np.nan, "<f4").tobytes()
    error_of(
        server.request("POST", f"/jobs?model={COMPACT}", nan, dict(raw, **{"X-Ldl-Dtype": "float32"})),
        400,
        "bad_request",
    )


def test_malformed_reblend_and_unknown_routes(server: Server, photo_png: bytes) -> None:
    job_id = server.submit(photo_png)
    assert server.wait(job_id)["state"] == "succeeded"
    json_type = {"Content-Type": "application/json"}
    for body in (b"{", b"[]", b'{"threshold": 2, "softness": 0.1}', b'{"threshold": "0.1", "softness": 0.1}', b"\xff"):
        error_of(server.request("POST", f"/jobs/{job_id}/reblend", body, json_type), 400, "bad_request")
    error_of(server.request("GET", "/nope"), 404, "not_found")
    error_of(server.request("PUT", "/jobs"), 405, "method_not_allowed")
    error_of(server.request("GET", f"/jobs/{job_id}?extra=1"), 400, "bad_request")
