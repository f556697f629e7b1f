"""Connections to a real server on 127.0.0.1, made byte by byte: no Nagle delay on kept-alive connections, deadlines
for stalled headers and bodies, idle connections that cannot starve new clients, and HTTP-level refusals in the
API's JSON error shape."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from ldl_backend.server.connection_limits import ConnectionLimits
from ldl_client.discovery import read_discovery_file
from ldl_client.transport import Transport
from tests.server.conftest import Server, start_server

LIMITS = ConnectionLimits(header_timeout=1.0, body_timeout=1.0, keep_alive_timeout=1.0, max_connections=32)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("home"), connections=LIMITS)


@dataclass(frozen=True)
class RawReply:
    status: int
    head: str
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def open_socket(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_until_closed(connection: socket.socket, started: float) -> RawReply:
    """Everything the server sends until it closes the connection; status 0 when it closed without a word."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    seconds = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return RawReply(status, head.decode("latin-1"), body, seconds)


def exchange(server: Server, data: bytes) -> RawReply:
    with open_socket(server) as connection:
        started = time.monotonic()
        connection.sendall(data)
        return read_until_closed(connection, started)


def request_head(server: Server, method: str = "GET", path: str = "/health", extra: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\n{extra}\r\n"
    ).encode("ascii")


def assert_json_error(reply: RawReply, status: int, code: str) -> dict[str, str]:
    assert reply.status == status, reply.head
    assert "content-type: application/json" in reply.head.lower()
    error = reply.json()
    assert set(error) == {"code", "message", "hint"} and error["code"] == code, error
    return error


def test_kept_alive_requests_are_not_delayed(server: Server) -> None:
    # Without TCP_NODELAY each of these waited ~44 ms: the body write sat behind the client's delayed ACK.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Host": f"127.0.0.1:{server.port}", "Authorization": f"Bearer {server.token}"}
    times = []
    try:
        for _ in range(50):
            started = time.perf_counter()
            connection.request("GET", "/health", headers=headers)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            assert response.status == 200
    finally:
        connection.close()
    assert statistics.median(times) < 0.005, f"median {statistics.median(times) * 1000:.1f} ms"


def test_a_bad_request_line_gets_a_json_error(server: Server) -> None:
    error = assert_json_error(exchange(server, b"GARBAGE\r\n\r\n"), 400, "bad_request")
    assert "request line" in error["message"] and error["hint"]


def test_a_request_without_host_gets_a_json_error(server: Server) -> None:
    error = assert_json_error(exchange(server, b"GET /health HTTP/1.1\r\n\r\n"), 400, "bad_request")
    assert "Host" in error["message"]


@pytest.mark.parametrize("split", [False, True], ids=["one read", "many reads"])
def test_oversize_headers_get_a_json_error(server: Server, split: bool) -> None:
    head = request_head(server, extra="X-Padding: " + "a" * LIMITS.max_header_bytes + "\r\n")
    if not split:
        reply = exchange(server, head)
    else:
        with open_socket(server) as connection:
            started = time.monotonic()
            for start in range(0, len(head), 4096):
                connection.sendall(head[start : start + 4096])
                time.sleep(0.01)
            reply = read_until_closed(connection, started)
    assert_json_error(reply, 431, "headers_too_large")


def test_stalled_headers_lose_the_connection(server: Server) -> None:
    with open_socket(server) as connection:
        started = time.monotonic()
        connection.sendall(b"GET /health HTTP/1.1\r\n")
        # Slowloris: a byte now and then never restarts the deadline.
        for byte in b"X-Slow: 1234567890":
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
        reply = read_until_closed(connection, started)
    assert_json_error(reply, 408, "request_timeout")
    assert LIMITS.header_timeout - 0.1 < reply.seconds < LIMITS.header_timeout + 1.5


def test_a_silent_connection_is_closed_quietly(server: Server) -> None:
    with open_socket(server) as connection:
        reply = read_until_closed(connection, time.monotonic())
    assert reply.status == 0 and reply.body == b""
    assert reply.seconds < LIMITS.header_timeout + 1.5


def test_a_stalled_body_loses_the_connection(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    head = request_head(server, "POST", "/jobs", "Content-Type: image/png\r\nContent-Length: 1000\r\n")
    with caplog.at_level(logging.INFO), open_socket(server) as connection:
        started = time.monotonic()
        connection.sendall(head + b"\x89PNG")
        reply = read_until_closed(connection, started)
        time.sleep(0.3)  # the route sees the disconnect after the connection is closed
    assert_json_error(reply, 408, "request_timeout")
    assert reply.seconds < LIMITS.body_timeout + 1.5
    # A client cut off mid-upload is no failure of the server's: no error (nor traceback) in its log.
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_slow_but_steady_body_is_read(server: Server) -> None:
    # The body deadline is between two reads, not for the whole body: this upload takes twice the timeout.
    chunks = [b"not a png " * 10] * 8
    head = request_head(
        server,
        "POST",
        "/jobs",
        f"Content-Type: image/png\r\nContent-Length: {len(b''.join(chunks))}\r\nConnection: close\r\n",
    )
    with open_socket(server) as connection:
        started = time.monotonic()
        connection.sendall(head)
        for chunk in chunks:
            time.sleep(LIMITS.body_timeout / 4)
            connection.sendall(chunk)
        reply = read_until_closed(connection, started)
    assert reply.seconds > LIMITS.body_timeout * 2
    assert reply.status in (415, 422), reply.head  # the image's own error: the body was read to the end


def test_an_idle_kept_alive_connection_is_closed(server: Server) -> None:
    with open_socket(server) as connection:
        connection.sendall(request_head(server))
        started = time.monotonic()
        reply = read_until_closed(connection, started)
    assert reply.status == 200
    assert LIMITS.keep_alive_timeout - 0.1 < reply.seconds < LIMITS.keep_alive_timeout + 1.5


def test_idle_connections_do_not_block_new_clients(server: Server) -> None:
    with ExitStack() as stack:
        idle = [stack.enter_context(open_socket(server)) for _ in range(200)]
        time.sleep(0.2)
        started = time.monotonic()
        assert server.request("GET", "/health", timeout=5).status == 200
        assert time.monotonic() - started < 0.5
        # Past the limit the oldest idle connections were closed to make room.
        closed = 0
        for connection in idle[: 200 - LIMITS.max_connections]:
            connection.settimeout(2)
            closed += connection.recv(1) == b""
        assert closed == 200 - LIMITS.max_connections


def test_busy_connections_past_the_limit_get_a_json_error(server: Server) -> None:
    with ExitStack() as stack:
        # Half-sent requests are busy (not idle) until their header deadline: they hold their slots.
        for _ in range(LIMITS.max_connections):
            stack.enter_context(open_socket(server)).sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(0.1)
        refused = exchange(server, request_head(server))
        assert_json_error(refused, 503, "too_many_connections")
        assert "retry-after: 1" in refused.head.lower()
        time.sleep(LIMITS.header_timeout + 0.5)
        assert server.request("GET", "/health").status == 200


def test_the_client_library_sets_nodelay(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # http.client writes a body over ~3 KB apart from the headers; without NODELAY its last segment can wait for the
    # server's delayed ACK (Linux's quick-ACK start hides that on loopback, Windows does not), so check the option.
    seen: list[int] = []
    close = http.client.HTTPConnection.close

    def recording_close(connection: http.client.HTTPConnection) -> None:
        if connection.sock is not None:
            seen.append(connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        close(connection)

    monkeypatch.setattr(http.client.HTTPConnection, "close", recording_close)
    endpoint = read_discovery_file(server.home / "run" / "server.json")
    assert endpoint is not None
    Transport(endpoint).request("GET", "/health")
    assert seen and all(seen)
