"""Reading the server's discovery file ``server.json``: its port, token and pid, if it can be trusted and is fresh."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DiscoveryError
from .liveness import pid_alive

API_VERSION = 1


@dataclass(frozen=True)
class ServerEndpoint:
    """A server as its discovery file at ``path`` describes it; the token is a secret, so it is kept out of repr."""

    port: int
    pid: int
    token: str = field(repr=False)
    version: str
    api: int
    path: Path


def read_discovery_file(path: Path) -> ServerEndpoint | None:
    """The endpoint in ``path``, or None when there is no such file.

    Raises ``DiscoveryError`` when the file is not the current user's, is readable or writable by others (on POSIX;
    someone else's file could send our images to their server), is malformed, or describes another API version.
    """
    try:
        # Opened once and checked through the descriptor, so the file checked is the file read.
        with path.open("rb") as handle:
            if sys.platform != "win32":
                _check_private(path, os.fstat(handle.fileno()))
            raw = handle.read(64 * 1024)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise DiscoveryError(f"cannot read the discovery file {path}: {e.strerror}", _DELETE_HINT) from e
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DiscoveryError(f"the discovery file {path} is not valid JSON", _DELETE_HINT) from e
    if not isinstance(data, dict):
        raise DiscoveryError(f"the discovery file {path} is not a JSON object", _DELETE_HINT)
    port, pid, token, version, api = (data.get(key) for key in ("port", "pid", "token", "version", "api"))
    if not (
        isinstance(port, int)
        and 0 < port < 65536
        and isinstance(pid, int)
        and isinstance(token, str)
        and token
        and isinstance(version, str)
        and isinstance(api, int)
    ):
        raise DiscoveryError(f"the discovery file {path} lacks a valid port, pid, token, version or api", _DELETE_HINT)
    if api != API_VERSION:
        raise DiscoveryError(
            f"the running server (version {version}, pid {pid}) speaks API {api}; this client speaks API {API_VERSION}",
            "update LDL Studio and its plugins together, then restart the server",
        )
    return ServerEndpoint(port=port, pid=pid, version=version, api=api, path=path, token=token)


def find_server(
    paths: Iterable[Path], is_alive: Callable[[int], bool] = pid_alive
) -> tuple[ServerEndpoint | None, list[ServerEndpoint]]:
    """The first fresh endpoint among ``paths`` (None if none), and the stale ones seen on the way (dead pid).

    Stale files are reported, not deleted: they belong to the server, which replaces them when it starts.
    """
    stale: list[ServerEndpoint] = []
    for path in paths:
        endpoint = read_discovery_file(path)
        if endpoint is None:
            continue
        if is_alive(endpoint.pid):
            return endpoint, stale
        stale.append(endpoint)
    return None, stale


def _check_private(path: Path, info: os.stat_result) -> None:
    uid = os.getuid()
    if info.st_uid != uid:
        raise DiscoveryError(
            f"the discovery file {path} belongs to user id {info.st_uid}, not to you ({uid}); it is not trusted",
            _DELETE_HINT,
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise DiscoveryError(
            f"the discovery file {path} has mode {stat.S_IMODE(info.st_mode):04o}; it must be 0600 (the token in it "
            "is a secret)",
            _DELETE_HINT,
        )


_DELETE_HINT = "stop any running 'ldl serve', delete the file and start the server again"
