"""A restarted server (new port, new token, discovery file rewritten) is found again without the caller noticing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldl_client import Client, ConnectionFailed, JobState, SubmitOptions

from .fake_server import Backend, FakeServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def test_restart_on_a_new_port_with_a_new_token(client: Client, server: FakeServer, discovery_file: Path) -> None:
    job = client.submit(PNG, SubmitOptions(model="tiny-x2"))
    old_port = client.endpoint.port
    server.stop()
    # The jobs survive (SQLite on the real server); the token and the port do not.
    restarted = FakeServer(Backend(token="token-two", jobs=server.backend.jobs))
    try:
        restarted.write_discovery(discovery_file)
        assert client.job(job.id).id == job.id
        assert client.endpoint.port == restarted.port != old_port
        assert restarted.backend.requests[-1].headers["Authorization"] == "Bearer token-two"
        # Not idempotent, but a refused connection means the old server never saw it: it is sent again.
        assert client.submit(PNG, SubmitOptions(model="tiny-x2")).state is JobState.QUEUED
    finally:
        restarted.stop()


def test_refused_post_is_repeated_on_the_new_server(client: Client, server: FakeServer, discovery_file: Path) -> None:
    server.stop()
    restarted = FakeServer(Backend(token="token-two"))
    try:
        restarted.write_discovery(discovery_file)
        job = client.submit(PNG, SubmitOptions(model="tiny-x2"))
        assert [r.method for r in restarted.backend.requests] == ["POST", "GET"]
        assert job.id == "job1"
    finally:
        restarted.stop()


def test_token_rotated_on_the_same_port(client: Client, server: FakeServer, discovery_file: Path) -> None:
    server.backend.token = "token-three"
    server.write_discovery(discovery_file)
    assert client.health().ok
    statuses = [r.headers["Authorization"] for r in server.backend.requests[-2:]]
    assert statuses == ["Bearer token-one", "Bearer token-three"]


def test_a_post_answered_401_is_repeated_with_the_new_token(
    client: Client, server: FakeServer, discovery_file: Path
) -> None:
    # A 401 comes before any route runs: the server did nothing, so even a POST is safe to send again.
    server.backend.token = "token-three"
    server.write_discovery(discovery_file)
    assert client.submit(PNG, SubmitOptions(model="tiny-x2")).state is JobState.QUEUED
    posts = [r.headers["Authorization"] for r in server.backend.requests if r.method == "POST"]
    assert posts == ["Bearer token-one", "Bearer token-three"]


def test_a_server_gone_for_good_is_a_connection_failure(client: Client, server: FakeServer) -> None:
    server.stop()
    with pytest.raises(ConnectionFailed, match="refused") as caught:
        client.health()
    assert "ldl serve" in caught.value.hint


def test_the_file_is_read_again_only_once(client: Client, server: FakeServer, discovery_file: Path) -> None:
    server.stop()
    other = FakeServer(Backend(token="token-two"))
    other.write_discovery(discovery_file)
    other.stop()  # the file now names a second dead server: give up after it
    with pytest.raises(ConnectionFailed):
        client.health()
