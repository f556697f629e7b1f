"""The Krita plugin's package lives in plugin/krita (Krita's pykrita layout): make it importable, and share a real
backend on 127.0.0.1 for the tests that upscale through it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "plugin" / "krita"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from ldl_client import Client, ConnectSettings, connect  # noqa: E402
from ldl_client.locations import Locations  # noqa: E402
from tests.server.conftest import Server, start_server  # noqa: E402


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("backend"))


@pytest.fixture(scope="module")
def client(backend: Server, tmp_path_factory: pytest.TempPathFactory) -> Client:
    locations = Locations((backend.home / "run" / "server.json",), tmp_path_factory.mktemp("log") / "server.log")
    return connect(settings=ConnectSettings(start_server=False, locations=locations))
