"""uvicorn's h11 protocol with what a server on a user's machine needs and uvicorn (0.29 to 0.55) lacks:

- TCP_NODELAY on every connection, whoever made the listening socket (without it each request on a kept-alive
  connection waits about 40 ms: Nagle holds the response body until the client's delayed ACK of its headers);
- a deadline for a request's headers and for each read of its body, so a client that stalls (slowloris) loses its
  connection; uvicorn has only the keep-alive timeout between requests;
- a bounded connection count that closes idle connections first, so idle clients cannot starve new ones;
- HTTP-level refusals (malformed request, missing Host, oversize headers, timeouts, too many connections) in the
  API's JSON error shape, where uvicorn answers plain text.

Pass ``protocol_class(limits)`` as ``uvicorn.Config(http=...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ldl_backend.server.connection_limits import ConnectionLimits

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CLIENT_HINT = "send a well-formed HTTP/1.1 request with a Host header (the LDL Studio client library does)"


class _RecordingConnection(h11.Connection):
    """uvicorn turns every parse error into one fixed message; this keeps h11's, with its status (400, 431, 501)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.last_error = error
            raise


class GuardedH11Protocol(H11Protocol):
    """One connection. ``limits`` is set per server by ``protocol_class`` (uvicorn builds protocols itself)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn = _RecordingConnection(h11.SERVER, self.limits.max_header_bytes)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # uvicorn says int; call_later takes float
        # Our own count replaces uvicorn's, which answers plain text and counts idle connections as busy.
        self.limit_concurrency = None
        self._app = self.app
        self.app = self._admit
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for = ""  # "headers" or "body" while a deadline runs
        self._idle_since = time.monotonic()

    # -- the connection's life ---------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        _set_nodelay(transport)
        self._make_room()
        self._expect("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        self._idle_since = time.monotonic()
        super().on_response_complete()
        self._follow()

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for any request h11 cannot parse; ``msg`` is always the same, h11's error is better."""
        error = self.conn.last_error if isinstance(self.conn, _RecordingConnection) else None
        status = error.error_status_hint if error is not None else 400
        detail = str(error) if error is not None else msg
        if status == 431:
            self._refuse(431, *self._headers_too_large())
        elif status == 501:
            self._refuse(501, "not_implemented", f"the request uses what this server does not support: {detail}", "")
        else:
            self._refuse(status, "bad_request", f"the request is not valid HTTP/1.1: {detail}", _CLIENT_HINT)

    @property
    def idle(self) -> bool:
        """No request in progress and no byte of the next one received: safe to close."""
        in_request = self.cycle is not None and not self.cycle.response_complete
        return (
            not in_request
            and self.conn.their_state is h11.IDLE
            and not self.conn.trailing_data[0]
            and not self.transport.is_closing()
        )

    # -- deadlines ---------------------------------------------------------------------------------------------
    def _follow(self) -> None:
        """Choose the deadline for the state the connection is in now."""
        if self.transport.is_closing():
            self._cancel_deadline()
        elif self.cycle is not None and not self.cycle.response_complete:
            if self.conn.their_state is h11.SEND_BODY:
                self._expect("body")  # restarted by every read: a slow upload is fine, a stalled one is not
            else:
                self._cancel_deadline()  # the request is in: the handler (an event stream) may take its time
        elif self.conn.trailing_data[0]:
            if self._waiting_for != "headers":
                self._expect("headers")  # from the first byte of the request, never restarted
        elif self.cycle is not None:
            self._cancel_deadline()  # between requests uvicorn's keep-alive timer runs

    def _expect(self, what: str) -> None:
        self._cancel_deadline()
        timeout = self.limits.header_timeout if what == "headers" else self.limits.body_timeout
        self._waiting_for = what
        self._deadline = self.loop.call_later(timeout, self._expired)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = ""

    def _expired(self) -> None:
        what = self._waiting_for
        self._deadline = None
        self._waiting_for = ""
        if self.transport.is_closing():
            return
        if what == "body" and self.flow.read_paused:
            self._expect("body")  # the server is not reading (its buffer is full): not the client's delay
            return
        if what == "headers" and self.idle:
            self.timeout_keep_alive_handler()  # sent nothing at all: close quietly, as keep-alive does
            return
        timeout = self.limits.header_timeout if what == "headers" else self.limits.body_timeout
        self._refuse(
            408,
            "request_timeout",
            f"the request's {what} did not arrive within {timeout:g} s",
            "send the whole request without pausing; a client that stalls loses its connection",
        )

    # -- connection count --------------------------------------------------------------------------------------
    def _peers(self) -> list[GuardedH11Protocol]:
        return [c for c in self.connections if c is not self and isinstance(c, GuardedH11Protocol)]

    def _make_room(self) -> None:
        """Past the limit, close the connection that has been idle longest (the newcomer may be a real client)."""
        if len(self.connections) <= self.limits.max_connections:
            return
        idle = [peer for peer in self._peers() if peer.idle]
        if idle:
            min(idle, key=lambda peer: peer._idle_since).timeout_keep_alive_handler()

    def _headers_too_large(self) -> tuple[str, str, str]:
        return (
            "headers_too_large",
            f"the request line and headers are larger than {self.limits.max_header_bytes:,} bytes",
            "send fewer or shorter headers",
        )

    async def _admit(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Refusals that need the parsed request, then the app."""
        # h11 limits only a request that is still incomplete; one that arrived whole in a single read is checked here.
        size = len(scope["raw_path"]) + len(scope["query_string"]) + sum(len(n) + len(v) for n, v in scope["headers"])
        if size > self.limits.max_header_bytes:
            await _send_error(send, 431, *self._headers_too_large())
            return
        busy = sum(1 for peer in self._peers() if not peer.idle)
        if busy >= self.limits.max_connections:
            await _send_error(
                send,
                503,
                "too_many_connections",
                f"the server is busy with {busy} connections (the limit is {self.limits.max_connections})",
                "try again in a moment",
            )
            return
        await self._app(scope, receive, send)

    # -- refusals ----------------------------------------------------------------------------------------------
    def _refuse(self, status: int, code: str, message: str, hint: str) -> None:
        """Answer ``status`` with the JSON error and close, whatever state h11 is in (it refuses to send a response
        before a whole request arrived, so the bytes are written directly)."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # A handler is running: from now on it reads a disconnect and its answer goes nowhere.
            started = cycle.response_started
            cycle.disconnected = True
            cycle.message_event.set()
            if started:
                self.transport.close()
                return
        body = _error_body(code, message, hint)
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def protocol_class(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The class to pass as ``uvicorn.Config(http=...)``, bound to ``limits`` (uvicorn constructs protocols with
    fixed arguments, so the limits travel as a class attribute of a subclass made per server)."""

    class BoundProtocol(GuardedH11Protocol):
        pass

    BoundProtocol.limits = limits
    return BoundProtocol


def _error_body(code: str, message: str, hint: str) -> bytes:
    return json.dumps({"code": code, "message": message, "hint": hint}).encode("utf-8")


async def _send_error(send: _Send, status: int, code: str, message: str, hint: str) -> None:
    body = _error_body(code, message, hint)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),
    ]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
