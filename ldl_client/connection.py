"""``connect()``: find the running server through its discovery file, or start one and wait until it is healthy."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .client import Client
from .discovery import ServerEndpoint, find_server
from .errors import ClientError, ConnectionFailed, ServerStartFailed
from .launcher import log_tail, start_server
from .locations import Locations, default_locations
from .transport import Transport

_POLL_SECONDS = 0.1
# A server connect() starts stops after this long without requests or jobs: it does not outlive the front ends by
# more, and starting one again costs a few seconds (the next request does it, see ``_client``).
DEFAULT_IDLE_EXIT = 600.0


@dataclass(frozen=True)
class ConnectSettings:
    """How to find or start a server.

    ``python``: the interpreter that has ``ldl_backend`` installed (inside Krita or GIMP ``sys.executable`` is
    the host, not a Python, so plugins pass the installer's interpreter here); None means ``sys.executable``.
    ``start_server``: start one when none is running. ``locations``: where to look and log (None: this user's,
    honouring ``$LDL_STUDIO_HOME``). ``environment``: for the lookup and the started server (None: ``os.environ``).
    ``request_timeout``: seconds any one socket operation may take. ``idle_exit``: seconds without requests or
    jobs after which a server started here stops (None: it runs until stopped); a client whose server stopped starts
    a new one on its next request, and finished jobs are still there.
    """

    python: str | None = None
    start_server: bool = True
    locations: Locations | None = None
    environment: Mapping[str, str] | None = None
    request_timeout: float = 60.0
    idle_exit: float | None = DEFAULT_IDLE_EXIT


def connect(timeout: float = 30.0, settings: ConnectSettings | None = None) -> Client:
    """A ``Client`` for the running server, starting one when none is (and ``settings.start_server``).

    ``timeout``: seconds a started server has to answer ``/health``. Raises ``ConnectionFailed`` when there is no
    server and none may be started, ``ServerStartFailed`` (naming the log file) when a started one exits or stays
    silent, ``DiscoveryError`` when the discovery file cannot be trusted.
    """
    settings = settings or ConnectSettings()
    locations = settings.locations or default_locations(settings.environment)
    client = _healthy_client(locations, settings, timeout)
    if client is not None:
        return client
    if not settings.start_server:
        raise ConnectionFailed(
            "no LDL Studio server is running",
            f"start LDL Studio or run 'ldl serve' (looked for {', '.join(map(str, locations.discovery_files))})",
        )
    python = settings.python or sys.executable
    log_file = locations.log_file
    try:
        process = start_server(python, log_file, settings.environment, settings.idle_exit)
    except OSError as e:
        raise ServerStartFailed(
            f"cannot start the LDL Studio server with {python}: {e}",
            "set the Python interpreter of your LDL Studio installation in the plugin's settings",
            str(log_file),
        ) from e
    return _wait_for_server(process, locations, settings, timeout)


def _healthy_client(locations: Locations, settings: ConnectSettings, timeout: float) -> Client | None:
    endpoint, _stale = find_server(locations.discovery_files)
    if endpoint is None:
        return None
    client = _client(endpoint, locations, settings, timeout)
    try:
        healthy = client.health().ok
    except ClientError:
        # A live pid that does not answer as our server (e.g. the pid was reused): treat as no server.
        return None
    return client if healthy else None


def _client(endpoint: ServerEndpoint, locations: Locations, settings: ConnectSettings, timeout: float) -> Client:
    def rediscover() -> ServerEndpoint | None:
        found = find_server(locations.discovery_files)[0]
        if found is not None or not settings.start_server:
            return found
        # The server went away (its idle exit, a crash): start another, as connect() did for the first one.
        return connect(timeout, settings).endpoint

    return Client(Transport(endpoint, rediscover, settings.request_timeout))


def _wait_for_server(
    process: subprocess.Popen[bytes], locations: Locations, settings: ConnectSettings, timeout: float
) -> Client:
    log_file = locations.log_file
    deadline = time.monotonic() + timeout
    while True:
        # Any healthy server will do: the interpreter may run the server as a child (Windows venv launchers), and
        # another front end may have started one at the same moment.
        client = _healthy_client(locations, settings, timeout)
        if client is not None:
            return client
        code = process.poll()
        if code is not None:
            raise ServerStartFailed(
                f"the LDL Studio server exited with code {code} while starting{_tail(log_file)}",
                f"see {log_file} for details",
                str(log_file),
            )
        if time.monotonic() >= deadline:
            raise ServerStartFailed(
                f"the LDL Studio server (pid {process.pid}) did not answer within {timeout:g} s{_tail(log_file)}",
                f"it may still be loading; see {log_file}, then try again",
                str(log_file),
            )
        time.sleep(_POLL_SECONDS)


def _tail(log_file: Path) -> str:
    lines = log_tail(log_file)
    return ":\n  " + "\n  ".join(lines) if lines else ""
