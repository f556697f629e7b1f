"""The checks every request passes before routing, in this order: Host allow-list (403 ``bad_host``), no browser
headers (403 ``browser_request``), the bearer token (401 ``unauthorized``; never from the query string), and the body
size limit (413 ``body_too_large``, counted while the body streams in, with or without Content-Length).

A pure ASGI middleware: nothing is buffered, and a refused request never reaches a handler.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from ldl_backend.errors import LdlError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# Query parameters that look like an attempt to pass a credential; refused whatever their value.
_CREDENTIAL_NAMES = frozenset({"token", "access_token", "auth", "authorization", "bearer", "api_key", "apikey", "key"})


class BodyTooLargeError(LdlError):
    code = "body_too_large"


def allowed_hosts(port: int, extra_host: str | None = None) -> frozenset[str]:
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if extra_host:
        hosts.add(f"[{extra_host}]:{port}" if ":" in extra_host else f"{extra_host}:{port}")
    return frozenset(hosts)


class SecurityMiddleware:
    def __init__(self, app: App, *, hosts: frozenset[str], token: str, max_body: int) -> None:
        self._app = app
        self._hosts = hosts
        self._token = token.encode("ascii")
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._app(scope, receive, send)
            return
        if scope["type"] != "http":  # websockets: not part of the API
            await send({"type": "websocket.close", "code": 1008})
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _send_error(send, *refusal)
            return
        length = _single(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                await _send_error(
                    send, 400, "bad_request", "Content-Length is not a number", "send the body's size in bytes"
                )
                return
            if int(length) > self._max_body:
                await _send_error(send, *self._too_large())
                return
        await self._guarded(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, str] | None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        hosts = [value for name, value in headers if name == b"host"]
        if len(hosts) != 1 or hosts[0].decode("latin-1").lower() not in self._hosts:
            return 403, "bad_host", "the Host header is not this server's loopback address", "connect to 127.0.0.1"
        if any(name == b"origin" or name.startswith(b"sec-fetch-") for name, _ in headers):
            return (
                403,
                "browser_request",
                "requests from web browsers are refused",
                "use the LDL Studio client library or a plain HTTP client",
            )
        unauthorized = (
            401,
            "unauthorized",
            "a valid bearer token is required",
            "send Authorization: Bearer TOKEN with the token from the discovery file (never in the URL)",
        )
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name.lower() in _CREDENTIAL_NAMES or hmac.compare_digest(value.encode("utf-8"), self._token):
                return unauthorized
        authorization = [value for name, value in headers if name == b"authorization"]
        if len(authorization) != 1:
            return unauthorized
        scheme, _, credential = authorization[0].partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(credential.strip(), self._token):
            return unauthorized
        return None

    def _too_large(self) -> tuple[int, str, str, str]:
        return (
            413,
            "body_too_large",
            f"the request body is larger than the limit of {self._max_body:,} bytes",
            "send a smaller image, or start the server with a larger --max-body",
        )

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_body:
                    raise BodyTooLargeError(*self._too_large()[2:])
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, counted_receive, tracked_send)
        except BodyTooLargeError:
            if not started:
                await _send_error(send, *self._too_large())


async def _send_error(send: Send, status: int, code: str, message: str, hint: str) -> None:
    body = json.dumps({"code": code, "message": message, "hint": hint}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _single(scope: Scope, header: bytes) -> str | None:
    values = [value for name, value in scope["headers"] if name == header]
    return values[-1].decode("latin-1").strip() if values else None
