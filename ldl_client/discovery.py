"""The server's discovery file ``server.json``: the one definition of its content, written by the server with
``write_discovery_file`` and read by every client with ``read_discovery_file`` (port, token and pid, if it can be
trusted and is fresh). Mode 0600 in a 0700 folder, written atomically; a clean exit removes it."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DiscoveryError
from .liveness import pid_alive
from .version import API_VERSION

_FIELDS = ("port", "pid", "token", "version", "api")


@dataclass(frozen=True)
class ServerEndpoint:
    """A server as its discovery file at ``path`` describes it; the token is a secret, so it is kept out of repr."""

    port: int
    pid: int
    token: str = field(repr=False)
    version: str
    api: int
    path: Path


def write_discovery_file(path: Path, *, port: int, pid: int, token: str, version: str) -> ServerEndpoint:
    """Write the file a server at ``port`` (process ``pid``) is found by, replacing any older one in one step.

    The folder is created private (0700) and the file is private (0600) from its first byte: the token is a secret.
    Raises ``OSError`` when the folder cannot be written.
    """
    endpoint = ServerEndpoint(port=port, pid=pid, version=version, api=API_VERSION, path=path, token=token)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file 0600 before anything is written; os.replace swaps it in whole.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(json.dumps({name: getattr(endpoint, name) for name in _FIELDS}).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    return endpoint


def remove_discovery_file(path: Path, pid: int) -> None:
    """Remove the file if it still names process ``pid`` (a newer server may have replaced it)."""
    try:
        with path.open("rb") as handle:
            owner = json.loads(handle.read(64 * 1024).decode("utf-8")).get("pid")
        if owner == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


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
    port, pid, token, version, api = (data.get(key) for key in _FIELDS)
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
