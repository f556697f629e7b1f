"""The transport against a scripted TCP peer: the exact request bytes it sends, and what it makes of answers the
fake server never gives (a redirect, a dropped or silent connection, a body cut short, a reply that is not JSON)."""

from __future__ import annotations

import contextlib
import errno
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldl_client.discovery import ServerEndpoint
from ldl_client.errors import ConnectionFailed, ProtocolError, ServerError
from ldl_client.transport import Response, Transport

# What a connection gets: these bytes then a close, DROP (a close as soon as the request is read) or SILENT (no
# answer until the test ends, or at most SILENT_CAP seconds, so a transport that waits forever fails, not hangs).
DROP = b""
SILENT = None
SILENT_CAP = 3.0


class Peer:
    """A TCP server on 127.0.0.1 that answers connection n with ``replies[n]`` and records each raw request."""

    def __init__(self, *replies: bytes | None) -> None:
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self._done = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def endpoint(self, token: str = "token-one") -> ServerEndpoint:
        return ServerEndpoint(self.port, 4242, token, "0.1.0", 1, Path("server.json"))

    def stop(self) -> None:
        self._done.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a pending accept(), which close() alone does not
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        for reply in self.replies:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # stopped
            with connection:
                self.requests.append(_read_request(connection))
                if reply is None:  # SILENT
                    self._done.wait(SILENT_CAP)
                else:
                    connection.sendall(reply)


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), 0)
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def _header_lines(request: bytes) -> list[tuple[str, str]]:
    lines = request.partition(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
    return [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.stop()


def start(peers: list[Peer], *replies: bytes | None) -> Peer:
    peer = Peer(*replies)
    peers.append(peer)
    return peer


def test_the_request_on_the_wire_has_exactly_the_api_headers(peers: list[Peer]) -> None:
    peer = start(peers, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Ldl-Width: 5\r\n\r\n{}")
    body = b"\x89PNG....."
    response = Transport(peer.endpoint()).request("POST", "/jobs", body=body, headers={"Content-Type": "image/png"})
    # The status and headers come back as sent, the header names lower-case as documented.
    assert (response.status, response.headers["x-ldl-width"], response.body) == (201, "5", b"{}")
    assert peer.requests[0].startswith(b"POST /jobs HTTP/1.1\r\n") and peer.requests[0].endswith(b"\r\n\r\n" + body)
    # Exactly these, each once: no stray or doubled header the server would have to make sense of.
    assert sorted(_header_lines(peer.requests[0])) == [
        ("Accept", "application/json"),
        ("Accept-Encoding", "identity"),
        ("Authorization", "Bearer token-one"),
        ("Content-Length", str(len(body))),
        ("Content-Type", "image/png"),
        ("Host", f"127.0.0.1:{peer.port}"),
    ]


def test_a_callers_accept_replaces_the_default_one(peers: list[Peer]) -> None:
    peer = start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    Transport(peer.endpoint()).request("GET", "/jobs/job1/layers/detail", headers={"Accept": "*/*"})
    accepts = [value for name, value in _header_lines(peer.requests[0]) if name.lower() == "accept"]
    assert accepts == ["*/*"]


def test_a_redirect_is_not_a_success(peers: list[Peer]) -> None:
    peer = start(peers, b"HTTP/1.1 300 Multiple Choices\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(ServerError) as caught:
        Transport(peer.endpoint()).request("GET", "/health")
    assert (caught.value.status, caught.value.code) == (300, "http_300")


def test_retry_after_is_kept_when_the_body_is_not_the_documented_one(peers: list[Peer]) -> None:
    peer = start(peers, b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 4\r\nContent-Length: 4\r\n\r\nbusy")
    with pytest.raises(ServerError) as caught:
        Transport(peer.endpoint()).request("GET", "/health")
    assert (caught.value.code, caught.value.retry_after) == ("http_503", 4.0)


def test_a_body_cut_short_is_a_connection_failure_naming_the_target(peers: list[Peer]) -> None:
    peer = start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    with pytest.raises(ConnectionFailed) as caught:
        Transport(peer.endpoint()).request("GET", "/jobs/job1")
    assert "broke while reading /jobs/job1" in caught.value.message and caught.value.hint == ""


def test_an_answer_that_is_not_json_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        Response(200, {}, b"<html>not the API</html>").json()
    assert caught.value.message == "the server's answer is not JSON"
    assert "another program" in caught.value.hint


def test_a_dropped_post_is_not_sent_again(peers: list[Peer]) -> None:
    # The request went out: the server may have acted on it, so a new server is not asked to do it a second time.
    gone, renewed = start(peers, DROP), start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    transport = Transport(gone.endpoint(), rediscover=lambda: renewed.endpoint("token-two"))
    with pytest.raises(ConnectionFailed) as caught:
        transport.request("POST", "/jobs?model=a?b", body=b"x")
    # The path without its query (it may carry a file name), the server named, no hint but the message.
    assert caught.value.message.startswith(f"the connection to the LDL Studio server at 127.0.0.1:{gone.port} (pid")
    assert "broke during POST /jobs:" in caught.value.message and caught.value.hint == ""
    assert renewed.requests == []


def test_a_dropped_get_is_sent_again_to_the_renewed_server(peers: list[Peer]) -> None:
    gone, renewed = start(peers, DROP), start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    transport = Transport(gone.endpoint(), rediscover=lambda: renewed.endpoint("token-two"))
    assert transport.request("GET", "/jobs").json() == {}
    assert len(renewed.requests) == 1 and b"Bearer token-two" in renewed.requests[0]


def test_a_silent_server_times_out_with_the_calls_timeout(peers: list[Peer]) -> None:
    peer = start(peers, SILENT)
    started = time.monotonic()
    with pytest.raises(ConnectionFailed) as caught:
        Transport(peer.endpoint(), timeout=SILENT_CAP * 2).request("GET", "/jobs?x=1", timeout=0.2)
    assert time.monotonic() - started < SILENT_CAP / 2
    assert caught.value.message.endswith(f"127.0.0.1:{peer.port} (pid 4242) did not answer GET /jobs in time")
    assert "busy" in caught.value.hint


def test_a_silent_server_times_out_with_the_transports_timeout(peers: list[Peer]) -> None:
    peer = start(peers, SILENT)
    started = time.monotonic()
    with pytest.raises(ConnectionFailed, match="did not answer"):
        Transport(peer.endpoint(), timeout=0.2).request("GET", "/health")
    assert time.monotonic() - started < SILENT_CAP / 2


def test_the_default_timeout_is_a_minute(monkeypatch: pytest.MonkeyPatch, peers: list[Peer]) -> None:
    # Waiting a minute in a test is out of the question: the timeout the connection is opened with is read instead.
    peer = start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    timeouts: list[float | None] = []

    class Recording(http.client.HTTPConnection):
        def __init__(self, host: str, port: int, timeout: float | None = None) -> None:
            timeouts.append(timeout)
            super().__init__(host, port, timeout=timeout)

    monkeypatch.setattr(http.client, "HTTPConnection", Recording)
    Transport(peer.endpoint()).request("GET", "/health")
    assert timeouts == [60.0]


def test_a_failure_to_connect_other_than_a_refusal_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(self: http.client.HTTPConnection) -> None:
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(http.client.HTTPConnection, "connect", unreachable)
    asked: list[bool] = []
    endpoint = ServerEndpoint(9, 4242, "token-one", "0.1.0", 1, Path("server.json"))
    with pytest.raises(ConnectionFailed) as caught:
        Transport(endpoint, rediscover=lambda: asked.append(True) or None).request("GET", "/health")
    assert caught.value.message == "cannot connect to the LDL Studio server at 127.0.0.1:9 (pid 4242): " + str(
        OSError(errno.ENETUNREACH, "Network is unreachable")
    )
    assert "ldl serve" in caught.value.hint and asked == []


def test_a_refusal_with_no_server_to_find_again_is_reported(peers: list[Peer]) -> None:
    port = start(peers).port  # no reply scripted: the listener closes, so the port refuses
    peers[0].stop()
    endpoint = ServerEndpoint(port, 4242, "token-one", "0.1.0", 1, Path("server.json"))
    with pytest.raises(ConnectionFailed) as caught:
        Transport(endpoint, rediscover=lambda: None).request("GET", "/health")
    assert caught.value.message == f"the LDL Studio server at 127.0.0.1:{port} (pid 4242) refused the connection"


def test_a_socket_that_refuses_nodelay_still_carries_the_request(
    monkeypatch: pytest.MonkeyPatch, peers: list[Peer]
) -> None:
    peer = start(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    original = socket.socket.setsockopt

    # What a system without TCP_NODELAY answers; http.client's own connect() ignores this one error too.
    def refusing(self: socket.socket, level: int, option: int, value: object) -> None:
        if option == socket.TCP_NODELAY:
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")
        original(self, level, option, value)  # type: ignore[call-overload]

    monkeypatch.setattr(socket.socket, "setsockopt", refusing)
    assert Transport(peer.endpoint()).request("GET", "/health").json() == {}
