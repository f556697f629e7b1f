"""Fixtures: a fake server on 127.0.0.1 with its discovery file in a private ``$LDL_STUDIO_HOME``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ldl_client import Client, ConnectSettings, connect

from .fake_server import Backend, FakeServer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def discovery_file(home: Path) -> Path:
    return home / "run" / "server.json"


@pytest.fixture
def settings(home: Path) -> ConnectSettings:
    return ConnectSettings(start_server=False, environment={"LDL_STUDIO_HOME": str(home)}, request_timeout=5.0)


@pytest.fixture
def backend() -> Backend:
    return Backend(token="token-one")


@pytest.fixture
def server(backend: Backend, discovery_file: Path) -> Iterator[FakeServer]:
    fake = FakeServer(backend)
    fake.write_discovery(discovery_file)
    yield fake
    fake.stop()


@pytest.fixture
def client(server: FakeServer, settings: ConnectSettings) -> Client:
    return connect(timeout=5.0, settings=settings)
