"""The client's error tree. Every error carries a ``message`` and a ``hint`` a front end can show as they are."""

from __future__ import annotations


class ClientError(Exception):
    """Base class of every error the client library raises on purpose."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ServerError(ClientError):
    """The server answered with a non-2xx status and a JSON ``{code, message, hint}`` body.

    ``retry_after`` is the ``Retry-After`` header in seconds (``queue_full``, ``worker_unavailable``), else None.
    """

    def __init__(self, code: str, message: str, hint: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {super().__str__()}"


class ConnectionFailed(ClientError):  # noqa: N818 - the name docs/server-api.md and the front ends use
    """No server could be reached: none running, a refused or dropped connection, a timeout."""


class ServerStartFailed(ConnectionFailed):
    """``ldl serve`` was started but did not answer ``/health`` in time, or exited; its output is in ``log_file``."""

    def __init__(self, message: str, hint: str, log_file: str) -> None:
        super().__init__(message, hint)
        self.log_file = log_file


class DiscoveryError(ClientError):
    """The discovery file exists but cannot be trusted or read (wrong owner or mode, malformed, other API)."""


class ProtocolError(ClientError):
    """The server answered something this client cannot read (not the documented JSON, an unknown state)."""


class UnsupportedImageError(ClientError, ValueError):
    """The bytes given to ``submit`` are not a PNG, TIFF, JPEG or WebP file."""


class WaitTimeoutError(ClientError, TimeoutError):
    """``Client.wait`` ran out of time before the job reached a final state; the job keeps running."""
