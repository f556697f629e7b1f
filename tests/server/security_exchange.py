"""Drives ``SecurityMiddleware`` with ASGI messages alone (no socket): a request in, what was sent back and what
the app behind it saw out."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from ldl_backend.server.security import SecurityMiddleware, allowed_hosts

PORT = 8765
TOKEN = "s3cret-Token_0123456789abcdef"
MAX_BODY = 100
HOST = f"127.0.0.1:{PORT}"


@dataclass
class Exchange:
    """What one request produced: the messages sent back, and what the app behind the middleware saw."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    app_called: bool = False
    scope_passed_on: bool = False  # the app saw the very scope the server gave the middleware
    app_body: bytes = b""

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def error(self) -> dict[str, str]:
        return json.loads(self.sent[1]["body"])


def exchange(
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    query: bytes = b"",
    chunks: list[bytes] | None = None,
    scope_type: str = "http",
    app_answers_first: bool = False,
    with_query: bool = True,
) -> Exchange:
    """One request through the middleware. ``headers`` default to a valid Host and bearer token; the app reads the
    whole body (``chunks``), then answers 200 (or answers first and reads after, with ``app_answers_first``)."""
    result = Exchange()
    pending = [*(chunks or [b""])]

    async def receive() -> dict[str, Any]:
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        result.sent.append(message)

    async def app(scope_: Any, receive_: Any, send_: Any) -> None:
        result.app_called = True
        result.scope_passed_on = scope_ is scope
        if app_answers_first:
            await send_({"type": "http.response.start", "status": 200, "headers": []})
        more = True
        while more:
            message = await receive_()
            result.app_body += message.get("body", b"")
            more = message.get("more_body", False)
        if not app_answers_first:
            await send_({"type": "http.response.start", "status": 200, "headers": []})
        await send_({"type": "http.response.body", "body": b"ok"})

    middleware = SecurityMiddleware(app, hosts=allowed_hosts(PORT), token=TOKEN, max_body=MAX_BODY)
    scope: dict[str, Any] = {
        "type": scope_type,
        "headers": valid_headers() if headers is None else headers,
    }
    if with_query:
        scope["query_string"] = query
    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return result


def valid_headers(authorization: bytes = b"Bearer " + TOKEN.encode()) -> list[tuple[bytes, bytes]]:
    return [(b"host", HOST.encode()), (b"authorization", authorization)]
