"""The real client library against the real server: the path the app and the plug-ins take."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ldl_client import (
    ConnectSettings,
    JobState,
    Precision,
    RawImage,
    ReferenceSource,
    ServerError,
    SubmitOptions,
    connect,
)
from ldl_client.locations import Locations
from tests.server.conftest import COMPACT, Server


def test_client_submits_follows_fetches_and_reblends(server: Server, photo_png: bytes, tmp_path: Path) -> None:
    locations = Locations((server.home / "run" / "server.json",), tmp_path / "server.log")
    client = connect(settings=ConnectSettings(start_server=False, locations=locations))
    assert client.health().status == "ok"
    assert any(model.name == COMPACT for model in client.models())
    submitted = client.submit(photo_png, SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos")))
    seen: list[int] = []
    done = client.wait(submitted.id, on_progress=lambda job: seen.append(job.progress.done), timeout=120)
    assert done.state is JobState.SUCCEEDED and seen
    with Image.open(io.BytesIO(client.layer(done.id, "blend", "png"))) as blend:
        assert blend.size == (done.width, done.height)
    mask = client.layer(done.id, "mask", "raw")
    assert isinstance(mask, RawImage) and (mask.width, mask.height, mask.channels) == (done.width, done.height, 1)
    keep_all = RawImage.from_buffer(
        mask.width, mask.height, 1, "float32", np.ones(mask.width * mask.height, "<f4").tobytes()
    )
    client.reblend(done.id, mask=keep_all)
    assert client.layer(done.id, "blend", "raw").data == client.layer(done.id, "detail", "raw").data
    try:
        client.submit(photo_png, SubmitOptions(model="no-such-model"))
    except ServerError as error:
        assert error.status == 404 and error.code == "unknown_model" and error.hint
    else:
        raise AssertionError("an unknown model was accepted")
    client.delete(done.id)


def test_client_chooses_device_precision_and_tile(server: Server, photo_png: bytes, tmp_path: Path) -> None:
    locations = Locations((server.home / "run" / "server.json",), tmp_path / "server.log")
    client = connect(settings=ConnectSettings(start_server=False, locations=locations))
    devices = client.health().devices
    assert devices[0] == "cpu"
    options = SubmitOptions(
        model=COMPACT, reference=ReferenceSource.parse("lanczos"), device="cpu", precision=Precision.FP32, tile=64
    )
    done = client.wait(client.submit(photo_png, options).id, timeout=120)
    assert done.state is JobState.SUCCEEDED, done
    refused = SubmitOptions(
        model=COMPACT, reference=ReferenceSource.parse("lanczos"), device="cpu", precision=Precision.FP16
    )
    failed = client.wait(client.submit(photo_png, refused).id, timeout=120)
    assert failed.state is JobState.FAILED and failed.error is not None
    assert failed.error.code == "unsupported_device" and "fp16" in failed.error.message and failed.error.hint
    if "cuda:0" not in devices:
        try:
            client.submit(photo_png, SubmitOptions(model=COMPACT, device="cuda"))
        except ServerError as error:
            assert error.status == 400 and "not available" in error.message and "cpu" in error.hint
        else:
            raise AssertionError("a device this machine lacks was accepted")
