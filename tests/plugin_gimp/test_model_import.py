"""The dialog's "Add model file…" without GIMP: a small RRDBNet file imported through a real backend on a worker
thread, the outcome delivered through the scheduler (GLib.idle_add in GIMP), and the catalog updated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from ldl_gimp.model_choice import model_rows
from ldl_gimp.model_import import ModelImporter, with_model

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_client import Client, ConnectSettings, Locations, ModelInfo, connect
from tests.server.conftest import Server, start_server


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("gimp-import"))


@pytest.fixture(scope="module")
def client(backend: Server, tmp_path_factory: pytest.TempPathFactory) -> Client:
    locations = Locations((backend.home / "run" / "server.json",), tmp_path_factory.mktemp("log") / "server.log")
    return connect(settings=ConnectSettings(start_server=False, locations=locations))


class Outcomes:
    def __init__(self) -> None:
        self.queued: list[Callable[[], object]] = []
        self.done: list[ModelInfo] = []
        self.errors: list[tuple[str, str]] = []

    def importer(self, client: Client) -> ModelImporter:
        return ModelImporter(
            client.import_model, self.queued.append, self.done.append, lambda m, h: self.errors.append((m, h))
        )

    def run_queued(self) -> None:  # what GTK's main loop does with idle callbacks
        while self.queued:
            self.queued.pop(0)()


def test_a_model_file_is_imported_off_the_gui_thread_and_selectable(
    client: Client, tmp_path: Path, tiny_rrdbnet: RRDBNet
) -> None:
    picked = tmp_path / "Gimp Tiny RRDB.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, picked)
    outcomes = Outcomes()
    importer = outcomes.importer(client)
    assert importer.start(picked)
    importer.join(60)
    assert not outcomes.done  # nothing reaches the dialog until GTK runs the scheduled call
    outcomes.run_queued()
    assert [model.name for model in outcomes.done] == ["gimp-tiny-rrdb"] and not outcomes.errors
    catalog = with_model(client.models(), outcomes.done[0])
    rows, chosen, usable = model_rows(catalog, "gimp-tiny-rrdb")
    assert chosen == "gimp-tiny-rrdb" and "gimp-tiny-rrdb" in usable
    assert ("gimp-tiny-rrdb", "gimp-tiny-rrdb (×4, RRDBNet)") in rows


def test_a_file_that_is_no_model_comes_back_as_message_and_hint(client: Client, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    outcomes = Outcomes()
    importer = outcomes.importer(client)
    assert importer.start(junk)
    importer.join(60)
    outcomes.run_queued()
    assert not outcomes.done and len(outcomes.errors) == 1
    message, hint = outcomes.errors[0]
    assert message and hint
    missing = outcomes.importer(client)
    assert missing.start(tmp_path / "gone.safetensors")
    missing.join(60)
    outcomes.run_queued()
    assert len(outcomes.errors) == 2  # a file that cannot be read: the client's error, not a lost thread
