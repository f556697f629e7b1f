"""The discovery file: fresh, stale (dead pid), untrusted (mode, owner), malformed, and the pid check itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ldl_client import ConnectionFailed, ConnectSettings, DiscoveryError, connect, find_server
from ldl_client import read_discovery_file as read
from ldl_client.liveness import pid_alive

from .fake_server import Backend, FakeServer

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture(scope="module")
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: the pid names no process now
    return process.pid


def write(path: Path, data: object, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(mode)
    return path


def entry(pid: int, port: int = 4321, api: int = 1) -> dict[str, object]:
    return {"port": port, "pid": pid, "token": "secret", "version": "0.1.0", "api": api}


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(0) and not pid_alive(-1)


def test_dead_pid(dead_pid: int) -> None:
    assert not pid_alive(dead_pid)


def test_a_fresh_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "server.json", entry(os.getpid()))
    endpoint = read(path)
    assert endpoint is not None and (endpoint.port, endpoint.token, endpoint.api) == (4321, "secret", 1)
    assert "secret" not in repr(endpoint)
    assert read(tmp_path / "missing.json") is None


def test_a_stale_file_is_skipped_for_a_fresh_one(tmp_path: Path, dead_pid: int) -> None:
    stale = write(tmp_path / "a" / "server.json", entry(dead_pid, port=1111))
    fresh = write(tmp_path / "b" / "server.json", entry(os.getpid(), port=2222))
    endpoint, skipped = find_server([tmp_path / "none.json", stale, fresh])
    assert endpoint is not None and endpoint.port == 2222
    assert [s.port for s in skipped] == [1111]
    assert find_server([stale]) == (None, skipped)


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o606, 0o660])
def test_a_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path / "server.json", entry(os.getpid()), mode)
    with pytest.raises(DiscoveryError, match=f"mode {mode:04o}") as caught:
        read(path)
    assert "delete the file" in caught.value.hint


@posix_only
def test_a_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "server.json", entry(os.getpid()))
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(DiscoveryError, match="not to you"):
        read(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"port": "80", "pid": 1, "token": "t", "version": "v", "api": 1}).encode(), "lacks"),
        (json.dumps({"port": 80, "pid": 1, "token": "", "version": "v", "api": 1}).encode(), "lacks"),
        (json.dumps(entry(1, api=2)).encode(), "speaks API 2"),
    ],
)
def test_malformed_files_are_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "server.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(DiscoveryError, match=message):
        read(path)


def test_connect_without_a_server_and_without_starting_one(
    settings: ConnectSettings, discovery_file: Path, dead_pid: int
) -> None:
    write(discovery_file, entry(dead_pid))
    with pytest.raises(ConnectionFailed, match="no LDL Studio server is running") as caught:
        connect(timeout=1, settings=settings)
    assert str(discovery_file) in caught.value.hint


def test_connect_treats_a_live_pid_that_does_not_answer_as_no_server(
    settings: ConnectSettings, discovery_file: Path
) -> None:
    server = FakeServer(Backend(token="t"))
    server.write_discovery(discovery_file)  # our own pid: alive, but nothing listens on the port once stopped
    server.stop()
    with pytest.raises(ConnectionFailed, match="no LDL Studio server"):
        connect(timeout=1, settings=settings)
