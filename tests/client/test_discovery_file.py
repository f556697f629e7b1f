"""The discovery file written, removed and read at its edges: private from its first byte, replaced in one step,
removed only by its own server, ports at their limits, a size cap, and a hint on every refusal. With
tests/client/test_discovery.py, the mutation run's test set for ``ldl_client/discovery.py``."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from ldl_client import DiscoveryError
from ldl_client import discovery as discovery_module
from ldl_client.discovery import read_discovery_file, remove_discovery_file, write_discovery_file
from ldl_client.version import API_VERSION

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
CAP = 64 * 1024  # bytes read from a discovery file at most


def write(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "server.json"
    path.write_text(
        json.dumps({"port": 4321, "pid": 7, "token": "t0k", "version": "1.2", "api": API_VERSION, **fields})
    )
    path.chmod(0o600)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_holds_exactly_the_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "server.json"  # missing parents are created
    endpoint = write_discovery_file(path, port=4321, pid=77, token="s3cret", version="0.9")
    assert (endpoint.port, endpoint.pid, endpoint.token, endpoint.version, endpoint.api, endpoint.path) == (
        4321,
        77,
        "s3cret",
        "0.9",
        API_VERSION,
        path,
    )
    assert json.loads(path.read_bytes().decode("utf-8")) == {
        "port": 4321,
        "pid": 77,
        "token": "s3cret",
        "version": "0.9",
        "api": API_VERSION,
    }
    assert read_discovery_file(path) == endpoint
    assert [p.name for p in path.parent.iterdir()] == ["server.json"]  # no temporary file left behind


@posix_only
def test_the_file_is_private_from_its_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "home" / "server.json"
    seen: list[tuple[str, int, bytes]] = []
    fsync = os.fsync

    def spy(descriptor: int) -> None:
        # While the content is being made durable: a hidden temporary beside the target, already 0600.
        (temporary,) = [p for p in path.parent.iterdir() if p.name != path.name]
        seen.append((temporary.name, mode(temporary), temporary.read_bytes()))
        fsync(descriptor)

    monkeypatch.setattr(discovery_module.os, "fsync", spy)
    write_discovery_file(path, port=1, pid=2, token="t", version="v")
    ((name, temporary_mode, content),) = seen
    assert name.startswith(".server.json.") and name.endswith(".tmp") and temporary_mode == 0o600
    assert json.loads(content)["token"] == "t"  # flushed before fsync
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_an_existing_file_is_replaced_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    write_discovery_file(path, port=1, pid=2, token="old", version="v")
    inode = path.stat().st_ino
    write_discovery_file(path, port=3, pid=4, token="new", version="v")
    endpoint = read_discovery_file(path)
    assert endpoint is not None and (endpoint.port, endpoint.token) == (3, "new")
    assert path.stat().st_ino != inode  # a new file renamed over the old one, never rewritten in place


def test_a_failed_write_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "server.json"

    def refuse(self: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_discovery_file(path, port=1, pid=2, token="t", version="v")
    assert list(tmp_path.iterdir()) == []


def test_only_the_owning_server_removes_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, pid=10)
    remove_discovery_file(path, 11)
    assert path.exists()
    remove_discovery_file(path, 10)
    assert not path.exists()
    remove_discovery_file(path, 10)  # already gone: nothing to do


@pytest.mark.parametrize("content", [b"{not json", b"[10]", b"\xff\xfe", b'"pid"'])
def test_a_file_that_names_no_pid_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "server.json"
    path.write_bytes(content)
    remove_discovery_file(path, 10)
    assert path.read_bytes() == content


def _padded(tmp_path: Path, size: int, **fields: object) -> Path:
    """A valid file of exactly ``size`` bytes, its padding inside the object (so a cut makes it invalid JSON)."""
    path = write(tmp_path, **fields)
    text = path.read_text()
    padded = text[:-1] + ', "pad": "' + "x" * (size - len(text) - 11) + '"}'
    assert len(padded) == size
    path.write_text(padded)
    return path


def test_only_the_first_64_kib_are_read(tmp_path: Path) -> None:
    assert read_discovery_file(_padded(tmp_path, CAP)) is not None
    with pytest.raises(DiscoveryError, match="is not valid JSON"):
        read_discovery_file(_padded(tmp_path, CAP + 1))
    path = _padded(tmp_path, CAP + 1, pid=10)
    remove_discovery_file(path, 10)  # unreadable as a whole: not known to be ours
    assert path.exists()
    remove_discovery_file(_padded(tmp_path, CAP, pid=10), 10)
    assert not (tmp_path / "server.json").exists()


@pytest.mark.parametrize("port", [1, 65535])
def test_the_extreme_ports_are_accepted(tmp_path: Path, port: int) -> None:
    endpoint = read_discovery_file(write(tmp_path, port=port))
    assert endpoint is not None and endpoint.port == port


@pytest.mark.parametrize(
    "fields",
    [
        {"port": 0},
        {"port": 65536},
        {"port": -1},
        {"port": 80.0},
        {"pid": "7"},
        {"token": 5},
        {"token": ""},
        {"version": 1.2},
        {"api": "1"},
        {"port": None},
    ],
)
def test_fields_outside_the_format_are_refused(tmp_path: Path, fields: dict[str, object]) -> None:
    path = write(tmp_path, **fields)
    with pytest.raises(DiscoveryError, match="lacks a valid port, pid, token, version or api") as caught:
        read_discovery_file(path)
    assert str(path) in str(caught.value) and "delete the file" in caught.value.hint


def test_every_refusal_names_the_file_and_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    for content, message in [(b"{", "is not valid JSON"), (b"\xff", "is not valid JSON"), (b"[]", "not a JSON object")]:
        path.write_bytes(content)
        path.chmod(0o600)
        with pytest.raises(DiscoveryError, match=message) as caught:
            read_discovery_file(path)
        assert str(path) in str(caught.value) and "delete the file" in caught.value.hint
    directory = tmp_path / "folder.json"
    directory.mkdir()
    with pytest.raises(DiscoveryError, match=f"cannot read the discovery file {directory}: ") as caught:
        read_discovery_file(directory)
    assert "delete the file" in caught.value.hint


def test_another_api_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match=f"speaks API {API_VERSION + 1}; this client speaks API") as caught:
        read_discovery_file(write(tmp_path, api=API_VERSION + 1))
    assert "version 1.2, pid 7" in str(caught.value) and "update LDL Studio" in caught.value.hint


@posix_only
def test_untrusted_files_are_named_with_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path)
    path.chmod(0o640)
    with pytest.raises(DiscoveryError, match="has mode 0640; it must be 0600") as caught:
        read_discovery_file(path)
    assert str(path) in str(caught.value) and "delete the file" in caught.value.hint
    path.chmod(0o600)
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    with pytest.raises(DiscoveryError, match=f"belongs to user id {owner}, not to you \\({owner + 1}\\)") as caught:
        read_discovery_file(path)
    assert str(path) in str(caught.value) and "delete the file" in caught.value.hint


def test_the_writes_own_error_is_reported_when_cleaning_up_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object) -> None:
        raise OSError(f"cannot {self.name}")

    monkeypatch.setattr(Path, "replace", refuse)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: refuse(self))
    with pytest.raises(OSError, match=r"^cannot \.server\.json\.") as caught:
        write_discovery_file(tmp_path / "server.json", port=1, pid=2, token="t", version="v")
    assert caught.value.__context__ is None  # the failed clean-up was suppressed, not chained
