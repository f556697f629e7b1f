"""How long the server waits for a client and how many connections it keeps: the settings, without the machinery
(``http_protocol.py`` applies them), so ``ServerConfig`` can hold them without importing uvicorn."""

from __future__ import annotations

from dataclasses import dataclass

# h11's own default: a request line and headers larger than this are refused with 431 before they are parsed.
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """``header_timeout``: seconds from a connection's opening (or the first byte of a later request) to the end of
    the request's headers; a connection that sends nothing in that time is closed, one that sent part of a request
    is answered 408 ``request_timeout``. ``body_timeout``: most seconds between two reads of a request body (the clock
    stops while the server itself is not reading). ``keep_alive_timeout``: seconds an idle connection stays open
    between requests. ``max_connections``: connections kept at once; idle ones are closed, oldest first, to make room,
    and while that many are busy a new request is answered 503 ``too_many_connections``."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 256
    max_header_bytes: int = MAX_HEADER_BYTES

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {getattr(self, name)}")
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {self.max_connections}")
        if self.max_header_bytes < 1024:
            raise ValueError(f"max_header_bytes must be at least 1024, not {self.max_header_bytes}")
