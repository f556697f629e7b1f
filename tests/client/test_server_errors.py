"""How the client reads a refusal: the documented JSON body, and whatever else a server (or another program on the
port) may send instead. Parsed from raw response bytes, so each case is exactly what went over the wire."""

from __future__ import annotations

import http.client
import io
import json
import socket

import pytest

from ldl_client.errors import ServerError
from ldl_client.transport import _server_error


class _Wire(socket.socket):
    """Just enough of a socket for ``http.client.HTTPResponse``: its bytes come from memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, *args: object, **kwargs: object) -> io.BytesIO:  # type: ignore[override]
        return io.BytesIO(self._data)


def refusal(status_line: str, body: bytes, *headers: str, length: int | None = None) -> ServerError:
    head = [status_line, f"Content-Length: {len(body) if length is None else length}", *headers]
    response = http.client.HTTPResponse(_Wire(("\r\n".join(head) + "\r\n\r\n").encode() + body))
    response.begin()
    return _server_error(response)


def test_the_documented_body_gives_code_message_and_hint() -> None:
    body = json.dumps({"code": "queue_full", "message": "the queue is full", "hint": "wait"}).encode()
    error = refusal("HTTP/1.1 503 Service Unavailable", body, "Retry-After: 2.5")
    assert (error.code, error.message, error.hint, error.status, error.retry_after) == (
        "queue_full",
        "the queue is full",
        "wait",
        503,
        2.5,
    )


def test_a_hint_that_is_not_text_is_dropped_and_an_unreadable_retry_after_ignored() -> None:
    body = json.dumps({"code": "busy", "message": "busy", "hint": 5}).encode()
    error = refusal("HTTP/1.1 503 Service Unavailable", body, "Retry-After: soon")
    assert (error.code, error.hint, error.retry_after) == ("busy", "", None)


def test_another_programs_answer_keeps_its_status_and_first_200_bytes() -> None:
    # Not JSON and not UTF-8: the first 200 bytes, undecodable ones replaced, after the status.
    body = b"\xff" + b"x" * 198 + b"Y" + b"Z" * 100
    error = refusal("HTTP/1.1 502 Bad Gateway", body)
    assert error.code == "http_502" and error.status == 502 and error.retry_after is None
    assert error.message == "the server answered 502 Bad Gateway: \ufffd" + "x" * 198 + "Y"
    assert "different version" in error.hint


def test_a_body_cut_short_still_gives_the_status() -> None:
    error = refusal("HTTP/1.1 500 Internal Server Error", b"partial", length=1000)
    assert error.message == "the server answered 500 Internal Server Error"


@pytest.mark.parametrize("body", [b"", b"   ", b'{"code": 5, "message": "m"}', b'["code", "message"]'])
def test_an_empty_or_undocumented_body_names_the_status(body: bytes) -> None:
    error = refusal("HTTP/1.1 500 Internal Server Error", body)
    assert error.code == "http_500" and error.message.startswith("the server answered 500 Internal Server Error")
