"""Submit a real photo crop, follow its progress, fetch every layer and re-blend: all equal to calling
``upscale_with_layers`` directly with the same options."""

from __future__ import annotations

import io
import json
import os
import stat

import numpy as np
import pytest
from PIL import Image

from ldl_backend.artifacts.layers import UpscaleLayers
from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_client.options import ReferenceSource
from tests.server.conftest import COMPACT, Reply, Server

THRESHOLD, SOFTNESS = 0.3, 0.4


def raw_array(reply: Reply) -> np.ndarray:
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/x-ldl-raw"
    dtype = {"uint8": "<u1", "uint16": "<u2", "float32": "<f4"}[reply.headers["x-ldl-dtype"]]
    shape = (
        int(reply.headers["x-ldl-height"]),
        int(reply.headers["x-ldl-width"]),
        int(reply.headers["x-ldl-channels"]),
    )
    return np.frombuffer(reply.body, dtype=dtype).reshape(shape)


def direct(server: Server, photo: np.ndarray, **options: object) -> UpscaleLayers:
    store = ModelStore(server.home / "models", builtin_catalog())
    engine = prepare_engine(store.load(COMPACT), EngineOptions())
    artifact = ArtifactOptions(ReferenceSource.parse("tta:2"), **options)  # type: ignore[arg-type]
    return upscale_with_layers(ImageData(photo), engine, artifact)


@pytest.fixture(scope="module")
def finished(server: Server, photo_png: bytes) -> tuple[str, list[str]]:
    """A succeeded job and the SSE stream that followed it."""
    job_id = server.submit(photo_png, f"model={COMPACT}&reference=tta:2&threshold={THRESHOLD}&softness={SOFTNESS}")
    reply = server.request("GET", f"/jobs/{job_id}/events")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    blocks = reply.body.decode().strip().split("\n\n")
    # Comment lines (": keep-alive") are the stream's heartbeat while nothing changes: not events.
    assert all(block == ": keep-alive" for block in blocks if block.startswith(":"))
    return job_id, [block for block in blocks if not block.startswith(":")]


def test_events_report_progress_and_end(finished: tuple[str, list[str]]) -> None:
    _, events = finished
    kinds = [event.split("\n")[0] for event in events]
    assert kinds[-1] == "event: end" and set(kinds[:-1]) == {"event: progress"}
    last = json.loads(events[-1].split("data: ", 1)[1])
    assert last["state"] == "succeeded" and last["error"] is None
    assert last["progress"]["done"] == last["progress"]["total"] > 0
    assert (last["width"], last["height"]) == (56 * 4, 48 * 4)
    states = [json.loads(event.split("data: ", 1)[1])["state"] for event in events]
    assert "running" in states or "queued" in states


def test_layers_equal_a_direct_call(server: Server, photo: np.ndarray, finished: tuple[str, list[str]]) -> None:
    job_id, _ = finished
    expected = direct(server, photo, threshold=THRESHOLD, softness=SOFTNESS)
    layers = {
        name: raw_array(server.request("GET", f"/jobs/{job_id}/layers/{name}?format=raw"))
        for name in ("detail", "reference", "map", "mask", "blend")
    }
    np.testing.assert_array_equal(layers["detail"], expected.detail.colour)
    np.testing.assert_array_equal(layers["reference"], expected.reference.colour)
    np.testing.assert_array_equal(layers["blend"], expected.blend.colour)
    np.testing.assert_array_equal(layers["map"][..., 0], expected.artifact_map)
    np.testing.assert_array_equal(layers["mask"][..., 0], expected.mask)


def test_png_and_tiff_layers(server: Server, finished: tuple[str, list[str]]) -> None:
    job_id, _ = finished
    detail = raw_array(server.request("GET", f"/jobs/{job_id}/layers/detail?format=raw"))
    png = server.request("GET", f"/jobs/{job_id}/layers/detail")
    assert png.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png.body))), detail)
    mask = server.request("GET", f"/jobs/{job_id}/layers/mask?format=png")
    assert np.asarray(Image.open(io.BytesIO(mask.body))).dtype.itemsize == 2  # 16-bit gray
    tiff = server.request("GET", f"/jobs/{job_id}/layers/map?format=tiff")
    assert tiff.status == 200 and tiff.headers["content-type"] == "image/tiff"


def test_reblend_with_new_threshold(server: Server, photo: np.ndarray, photo_png: bytes) -> None:
    job_id = server.submit(photo_png, f"model={COMPACT}&reference=tta:2")
    assert server.wait(job_id)["state"] == "succeeded"
    body = json.dumps({"threshold": 0.55, "softness": 0.1}).encode()
    reply = server.request("POST", f"/jobs/{job_id}/reblend", body, {"Content-Type": "application/json"})
    assert reply.status == 200 and reply.json()["state"] == "succeeded"
    expected = direct(server, photo, threshold=0.55, softness=0.1)
    blend = raw_array(server.request("GET", f"/jobs/{job_id}/layers/blend?format=raw"))
    mask = raw_array(server.request("GET", f"/jobs/{job_id}/layers/mask?format=raw"))
    np.testing.assert_array_equal(blend, expected.blend.colour)
    np.testing.assert_array_equal(mask[..., 0], expected.mask)

    rng = np.random.default_rng(0)
    user_mask = rng.random((48 * 4, 56 * 4), dtype=np.float32)
    headers = {
        "Content-Type": "application/x-ldl-raw",
        "X-Ldl-Width": str(56 * 4),
        "X-Ldl-Height": str(48 * 4),
        "X-Ldl-Channels": "1",
        "X-Ldl-Dtype": "float32",
    }
    reply = server.request("POST", f"/jobs/{job_id}/reblend", user_mask.astype("<f4").tobytes(), headers)
    assert reply.status == 200, reply.body
    expected = direct(server, photo, mask=user_mask)
    np.testing.assert_array_equal(
        raw_array(server.request("GET", f"/jobs/{job_id}/layers/blend?format=raw")), expected.blend.colour
    )

    wrong = dict(headers, **{"X-Ldl-Width": "10", "X-Ldl-Height": "10"})
    reply = server.request("POST", f"/jobs/{job_id}/reblend", np.zeros(100, "<f4").tobytes(), wrong)
    assert reply.status == 400 and reply.json()["code"] == "bad_blend_input"


def test_jobs_list_models_openapi_delete(server: Server, photo_png: bytes) -> None:
    job_id = server.submit(photo_png)
    assert server.wait(job_id)["state"] == "succeeded"
    jobs = server.request("GET", "/jobs").json()["jobs"]
    assert jobs[0]["id"] == job_id
    assert [job["created"] for job in jobs] == sorted((job["created"] for job in jobs), reverse=True)
    models = server.request("GET", "/models").json()["models"]
    compact = next(model for model in models if model["name"] == COMPACT)
    assert compact["installed"] and compact["scale"] == 4
    # The time estimate's prior: the compact network is far faster per megapixel than RRDBNet.
    rrdb = next(model for model in models if model["architecture"] == "RRDBNet")
    assert 0 < 5 * compact["seconds_per_megapixel"] < rrdb["seconds_per_megapixel"]
    spec = server.request("GET", "/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/jobs/{id}/reblend" in spec["paths"]
    assert server.request("DELETE", f"/jobs/{job_id}").status == 204
    assert not (server.home / "cache" / "layers" / job_id).exists()
    assert server.request("GET", f"/jobs/{job_id}").status == 404
    assert server.request("DELETE", f"/jobs/{job_id}").status == 404


def test_discovery_file(server: Server) -> None:
    path = server.home / "run" / "server.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document == {"port": server.port, "pid": os.getpid(), "token": server.token, "version": "test", "api": 1}


def test_raw_input_with_alpha(server: Server, photo: np.ndarray) -> None:
    rgba = np.concatenate([photo, np.full((*photo.shape[:2], 1), 200, np.uint8)], axis=2)
    headers = {
        "Content-Type": "application/x-ldl-raw",
        "X-Ldl-Width": "56",
        "X-Ldl-Height": "48",
        "X-Ldl-Channels": "4",
        "X-Ldl-Dtype": "uint8",
    }
    reply = server.request("POST", f"/jobs?model={COMPACT}&reference=lanczos", rgba.tobytes(), headers)
    assert reply.status == 202, reply.body
    assert server.wait(reply.json()["id"])["state"] == "succeeded"
    detail = raw_array(server.request("GET", f"/jobs/{reply.json()['id']}/layers/detail?format=raw"))
    assert detail.shape == (192, 224, 4)


def test_layer_files_keep_the_input_metadata(server: Server, photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x010F] = "LDL test camera"  # Make
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG", exif=exif.tobytes(), dpi=(300, 300))
    job = server.wait(server.submit(buffer.getvalue()))
    assert job["state"] == "succeeded", job
    png = server.request("GET", f"/jobs/{job['id']}/layers/blend?format=png")
    assert png.status == 200, png.body
    with Image.open(io.BytesIO(png.body)) as layer:
        assert layer.getexif().get(0x010F) == "LDL test camera"
        assert round(float(layer.info["dpi"][0])) > 0
    # Our TIFF writer keeps the resolution (and ICC) but writes no EXIF IFD yet.
    tiff = server.request("GET", f"/jobs/{job['id']}/layers/blend?format=tiff")
    with Image.open(io.BytesIO(tiff.body)) as layer:
        assert round(float(layer.info["dpi"][0])) > 0
