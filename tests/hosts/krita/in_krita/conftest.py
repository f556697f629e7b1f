"""Fixtures of the in-Krita tests: the run's configuration (written by tests/plugin/test_krita_host.py), Krita, its
main window, a client of the real backend, and the photo upscaled once per colour depth."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from krita import Krita  # pyright: ignore[reportMissingImports, reportAttributeAccessIssue]

from .dialogs import Dialogs
from .documents import COMPACT, Upscaled, Upscales, open_photo, settle

if TYPE_CHECKING:  # the installed copy of the client library is this code
    from ldl_client import Client


@pytest.fixture(scope="session")
def host_config() -> dict[str, Any]:
    return json.loads(Path(os.environ["LDL_KRITA_HOST_TEST"]).read_text("utf-8"))


@pytest.fixture(scope="session")
def krita() -> Any:
    return Krita.instance()


@pytest.fixture(scope="session")
def window(krita: Any) -> Any:
    window = krita.activeWindow()
    assert window is not None, "Krita has no main window"
    return window


@pytest.fixture(scope="session")
def dialogs() -> Iterator[Dialogs]:
    watcher = Dialogs()
    watcher.start()
    yield watcher
    watcher.stop()


@pytest.fixture(autouse=True)
def no_unexpected_dialogs(dialogs: Dialogs) -> Iterator[None]:
    """Every test fails when a modal dialog it did not expect came up (closed by the watcher, not left hanging)."""
    dialogs.take()
    yield
    dialogs.handlers.clear()
    seen = dialogs.take()
    assert not seen, f"unexpected modal dialogs: {seen}"


@pytest.fixture(scope="session")
def client(host_config: dict[str, Any]) -> Client:
    """The installer's copy of the client library inside the plugin, pointed at the backend the outer test started."""
    if TYPE_CHECKING:
        from ldl_client import ConnectSettings, Locations, connect
    else:
        from ldl_krita.ldl_client import ConnectSettings, Locations, connect

    home = Path(host_config["ldl_studio_home"])
    locations = Locations((home / "run" / "server.json",), home / "logs" / "server.log")
    return connect(settings=ConnectSettings(start_server=False, locations=locations))


@pytest.fixture(scope="session")
def upscaled(krita: Any, window: Any, client: Client, host_config: dict[str, Any]) -> Iterator[Upscales]:
    from ldl_krita.client_import import ReferenceSource, SubmitOptions
    from ldl_krita.upscale import UpscaleRequest, upscale_document

    def make(depth: str) -> Upscaled:
        document, view = open_photo(krita, window, host_config["photo"], depth)
        source = (document.width(), document.height())
        progress: list[tuple[Any, ...]] = []
        request = UpscaleRequest(
            SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos")), target="document"
        )
        outcome = upscale_document(document, request, client, on_progress=lambda *seen: progress.append(seen))
        document.waitForDone()
        settle()
        return Upscaled(depth, document, view, outcome, source, progress)

    upscales = Upscales(make)
    yield upscales
    for done in upscales.finished():
        done.document.setModified(False)
