"""What ``/models`` says of each model on a fresh home is true, the CLI says the same, and a job for a model that
cannot run is refused with the step that makes it available."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ldl_backend.cli import main
from ldl_client import DEFAULT_MODEL, Availability
from ldl_client.records import parse_models
from tests.server.conftest import Server

PACKAGED = DEFAULT_MODEL
DOWNLOADABLE = "realesrnet-x4plus"
MANUAL = "ldl-realworld-rrdb-x4"


def _listed(server: Server) -> dict[str, dict[str, object]]:
    reply = server.request("GET", "/models")
    assert reply.status == 200, reply.body
    return {model["name"]: model for model in reply.json()["models"]}


def test_a_fresh_home_lists_packaged_downloadable_and_manual_models_truthfully(server: Server) -> None:
    models = _listed(server)
    packaged, downloadable, manual = models[PACKAGED], models[DOWNLOADABLE], models[MANUAL]
    assert (packaged["installed"], packaged["availability"]) == (False, "packaged")
    assert packaged["note"] == "packaged: converted on first use (no download)"
    assert (downloadable["availability"], downloadable["note"]) == (
        "download",
        f"run `ldl models fetch {DOWNLOADABLE}` to download it (checked by sha256, 67 MB)",
    )
    assert manual["availability"] == "manual"
    note = str(manual["note"])
    assert "net_g_RealESRGAN+LDL.pth" in note and "drive.google.com" in note
    assert f"ldl models import FILE --name {MANUAL}" in note and "Add model file…" in note
    parsed = {model.name: model for model in parse_models(server.request("GET", "/models").json())}
    assert parsed[PACKAGED].usable and parsed[PACKAGED].availability is Availability.PACKAGED
    assert not parsed[DOWNLOADABLE].usable and not parsed[MANUAL].usable


@pytest.mark.parametrize(
    ("model", "step"),
    [(DOWNLOADABLE, f"`ldl models fetch {DOWNLOADABLE}`"), (MANUAL, f"`ldl models import FILE --name {MANUAL}`")],
)
def test_a_job_for_a_model_that_cannot_run_names_the_step_that_installs_it(
    server: Server, photo_png: bytes, model: str, step: str
) -> None:
    reply = server.request("POST", f"/jobs?model={model}", photo_png, {"Content-Type": "image/png"})
    assert reply.status == 404
    error = reply.json()
    assert error["code"] == "unknown_model" and step in error["hint"]
    assert "install it with `ldl models`" not in error["hint"]


def test_the_cli_lists_the_same_availability(
    server: Server, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out) if row["kind"] == "model"}
    served = _listed(server)
    assert set(listed) == set(served)
    for name, row in listed.items():
        assert (row["availability"], row["note"]) == (served[name]["availability"], served[name]["note"]), name
    assert main(["models", "list"]) == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if line.startswith(f"{DOWNLOADABLE} "))
    assert "downloadable" in line
    assert f"run `ldl models fetch {DOWNLOADABLE}`" in text
    assert main(["models", "info", MANUAL]) == 0
    assert "to use it:    download net_g_RealESRGAN+LDL.pth by hand" in capsys.readouterr().out
