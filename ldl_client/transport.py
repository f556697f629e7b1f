"""One HTTP exchange with the server over ``http.client``: auth, Host, error mapping, and finding a restarted server.

Every request carries ``Authorization: Bearer`` and ``Host: 127.0.0.1:PORT``, and never ``Origin`` (the server
refuses anything that looks like a browser). The token never goes into a URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .discovery import ServerEndpoint
from .errors import ConnectionFailed, ProtocolError, ServerError

LOOPBACK = "127.0.0.1"
# Methods the HTTP spec calls idempotent: safe to send twice when a connection dropped after the request went out.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NOT_RUNNING_HINT = "start LDL Studio (or run 'ldl serve') and try again"


@dataclass(frozen=True)
class Response:
    """A 2xx answer; ``headers`` keys are lower-case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ProtocolError(
                "the server's answer is not JSON", "another program may be listening on the server's port"
            ) from e


class _RetryableError(Exception):
    """A failure after which the request may be sent again to a rediscovered server."""

    def __init__(self, error: Exception, nothing_sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        # True when the server cannot have acted on the request (connection refused, 401 before routing).
        self.nothing_sent = nothing_sent


class Transport:
    """Sends requests to the server at ``endpoint``.

    When the connection is refused or the server answers 401 (it restarted with a new port or token), the
    discovery file is read again once through ``rediscover`` and the request is repeated against the new endpoint.
    Those two failures mean the server never acted on the request, so any method is repeated; a connection that
    drops after the request went out is repeated only for idempotent methods.
    """

    def __init__(
        self,
        endpoint: ServerEndpoint,
        rediscover: Callable[[], ServerEndpoint | None] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._endpoint = endpoint
        self._rediscover = rediscover
        self._timeout = timeout
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> ServerEndpoint:
        return self._endpoint

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send and read the whole answer; raises ``ServerError`` (non-2xx) or ``ConnectionFailed``."""
        with self._open(method, target, body, headers, timeout) as response:
            try:
                data = response.read()
            except (OSError, http.client.HTTPException) as e:
                raise ConnectionFailed(f"the connection to the server broke while reading {target}: {e}", "") from e
            return Response(response.status, _lower(response), data)

    @contextlib.contextmanager
    def stream(
        self, method: str, target: str, headers: Mapping[str, str] | None = None, timeout: float | None = None
    ) -> Iterator[http.client.HTTPResponse]:
        """An open 2xx response to read incrementally (event streams); closed when the block ends."""
        with self._open(method, target, None, headers, timeout) as response:
            yield response

    @contextlib.contextmanager
    def _open(
        self,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        timeout: float | None,
    ) -> Iterator[http.client.HTTPResponse]:
        endpoint = self._endpoint
        try:
            connection, response = self._exchange(endpoint, method, target, body, headers, timeout)
        except _RetryableError as failure:
            if not (failure.nothing_sent or method in IDEMPOTENT_METHODS):
                raise failure.error from failure.__cause__
            renewed = self._renew(endpoint)
            if renewed is None:
                raise failure.error from failure.__cause__
            try:
                connection, response = self._exchange(renewed, method, target, body, headers, timeout)
            except _RetryableError as second:
                raise second.error from second.__cause__
        try:
            yield response
        finally:
            connection.close()

    def _renew(self, failed: ServerEndpoint) -> ServerEndpoint | None:
        """The endpoint the discovery file names now, if it differs from the one that failed."""
        if self._rediscover is None:
            return None
        with self._lock:
            # Another thread may have renewed already.
            if self._endpoint is not failed:
                return self._endpoint
            try:
                renewed = self._rediscover()
            except Exception:
                # The original failure is the one worth reporting, not a problem reading the file again.
                return None
            if renewed is None or (renewed.port, renewed.token) == (failed.port, failed.token):
                return None
            self._endpoint = renewed
            return renewed

    def _exchange(
        self,
        endpoint: ServerEndpoint,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        timeout: float | None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        connection = http.client.HTTPConnection(LOOPBACK, endpoint.port, timeout=timeout or self._timeout)
        where = f"the LDL Studio server at {LOOPBACK}:{endpoint.port} (pid {endpoint.pid})"
        try:
            connection.connect()
        except ConnectionRefusedError as e:
            connection.close()
            raise _RetryableError(ConnectionFailed(f"{where} refused the connection", _NOT_RUNNING_HINT), True) from e
        except OSError as e:
            connection.close()
            raise ConnectionFailed(f"cannot connect to {where}: {e}", _NOT_RUNNING_HINT) from e
        # http.client sends a body over ~3 KB in a second write: without NODELAY its last segment may wait for the
        # server's delayed ACK of the headers (up to 200 ms on Windows; Linux's quick-ACK start hides it here).
        with contextlib.suppress(OSError):
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sent = {
            # The server accepts only a loopback Host with the port; http.client would drop the port on 80.
            "Host": f"{LOOPBACK}:{endpoint.port}",
            "Authorization": f"Bearer {endpoint.token}",
            "Accept": "application/json",
            **(headers or {}),
        }
        if body is not None:
            sent["Content-Length"] = str(len(body))
        try:
            connection.request(method, target, body=body, headers=sent)
            response = connection.getresponse()
        except TimeoutError as e:
            connection.close()
            raise ConnectionFailed(
                f"{where} did not answer {method} {_path(target)} in time",
                "the server may be busy; try again, or restart LDL Studio",
            ) from e
        except (OSError, http.client.HTTPException) as e:
            connection.close()
            error = ConnectionFailed(f"the connection to {where} broke during {method} {_path(target)}: {e}", "")
            raise _RetryableError(error, False) from e
        if 200 <= response.status < 300:
            return connection, response
        try:
            error = _server_error(response)
        finally:
            connection.close()
        if response.status == 401:
            raise _RetryableError(error, True)
        raise error


def _path(target: str) -> str:
    return target.split("?", 1)[0]


def _lower(response: http.client.HTTPResponse) -> dict[str, str]:
    return {key.lower(): value for key, value in response.getheaders()}


def _server_error(response: http.client.HTTPResponse) -> ServerError:
    try:
        raw = response.read()
    except (OSError, http.client.HTTPException):
        raw = b""
    retry_after: float | None = None
    with contextlib.suppress(TypeError, ValueError):
        retry_after = float(response.getheader("Retry-After") or "")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("code"), str) and isinstance(data.get("message"), str):
        hint = data.get("hint")
        return ServerError(
            data["code"], data["message"], hint if isinstance(hint, str) else "", response.status, retry_after
        )
    # Not the documented error body: keep what there is rather than hide the status.
    text = raw[:200].decode("utf-8", "replace").strip()
    return ServerError(
        f"http_{response.status}",
        f"the server answered {response.status} {response.reason}" + (f": {text}" if text else ""),
        "another program may be listening on the server's port, or the server is a different version",
        response.status,
        retry_after,
    )
