"""The advanced job options (device, precision, tile) from the query to the engine, and ``/health``'s devices."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest

from ldl_backend.engine.device import available_devices
from ldl_backend.engine.upscale import EngineOptions
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.server import submission
from ldl_backend.server.errors import ApiError
from ldl_backend.server.jobs import Job, JobStore
from ldl_backend.server.openapi import openapi_document
from ldl_client import MIN_TILE, JobState, Precision, ReferenceSource, SubmitOptions
from tests.server.conftest import COMPACT, Server, png_bytes
from tests.server.test_end_to_end import raw_array

LANCZOS = f"model={COMPACT}&reference=lanczos"


@pytest.fixture(scope="module")
def crop_png() -> bytes:
    """Larger than a 64-pixel tile in both directions, so ``tile=64`` really cuts it into tiles."""
    from skimage import data

    return png_bytes(np.ascontiguousarray(data.chelsea()[100:196, 200:312]))


LANCZOS_REFERENCE = ReferenceSource.parse("lanczos")


def parse(query: str) -> SubmitOptions:
    return submission.parse_options(parse_qsl(query, keep_blank_values=True), builtin_catalog())


def test_the_server_parses_the_client_query_into_the_same_options() -> None:
    sent = SubmitOptions(model=COMPACT, reference=LANCZOS_REFERENCE, device="cuda:1", precision=Precision.FP32, tile=64)
    assert parse(sent.query()) == sent
    assert parse(SubmitOptions(model=COMPACT).query()) == SubmitOptions(model=COMPACT)
    assert parse("device=auto&precision=auto&tile=auto") == parse("") == SubmitOptions()


@pytest.mark.parametrize(
    ("query", "status"), [("model=no-such-model", 404), ("model=X4", 404), ("reference=model%3Anope", 404)]
)
def test_a_model_outside_the_catalog_is_a_404(query: str, status: int) -> None:
    with pytest.raises(ApiError) as raised:
        parse(query)
    assert raised.value.status == status and raised.value.code == "unknown_model"


def test_the_job_store_keeps_the_options_and_loads_older_records(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    options = SubmitOptions(COMPACT, 2, LANCZOS_REFERENCE, device="cpu", precision=Precision.BF16, tile=128)
    store.add(Job("a" * 32, JobState.QUEUED, options, 1.0, 1.0))
    assert store.get("a" * 32) == Job("a" * 32, JobState.QUEUED, options, 1.0, 1.0)
    store.close()
    # Records older versions wrote: options as a JSON object, the oldest without device, precision and tile.
    older = {"model": COMPACT, "reference": "tta:8", "threshold": 0.3, "softness": 0.4, "alpha": "resize"}
    newer = older | {"scale": 2.0, "device": "cpu", "precision": "bf16", "tile": 128, "reference": "lanczos"}
    database = sqlite3.connect(tmp_path / "jobs.sqlite3")
    database.execute(
        "INSERT INTO jobs (id, state, options, created, updated) VALUES (?, 'succeeded', ?, 2.0, 2.0)",
        ("b" * 32, json.dumps(older)),
    )
    database.execute(
        "INSERT INTO jobs (id, state, options, created, updated) VALUES (?, 'succeeded', ?, 3.0, 3.0)",
        ("c" * 32, json.dumps(newer)),
    )
    database.commit()
    database.close()
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.get("b" * 32)
    assert job is not None and job.state is JobState.SUCCEEDED
    assert job.options == SubmitOptions(COMPACT, reference=ReferenceSource.parse("tta:8"))
    newer_job = store.get("c" * 32)
    assert newer_job is not None and newer_job.options == options
    store.close()


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("device=gpu", "cuda:N"),
        ("device=CUDA", "cuda:N"),
        ("device=cuda:01", "cuda:N"),
        ("device=cuda:", "cuda:N"),
        ("device=", "cuda:N"),
        ("device=cpu%0A", "cuda:N"),
        ("precision=fp8", "bf16"),
        ("precision=FP16", "bf16"),
        ("precision=", "bf16"),
        ("tile=15", "16 to 8192"),
        ("tile=8193", "16 to 8192"),
        ("tile=0", "16 to 8192"),
        ("tile=-64", "16 to 8192"),
        ("tile=64.0", "16 to 8192"),
        ("tile=%2B64", "16 to 8192"),
        ("tile=%D9%A6%D9%A4", "16 to 8192"),  # Arabic-Indic 64: int() takes it, the API does not
        ("tile=", "16 to 8192"),
        ("tile=Auto", "16 to 8192"),
        ("tile=99999999999999999999", "16 to 8192"),
    ],
)
def test_a_bad_value_is_a_400_whose_hint_names_the_allowed_values(
    server: Server, photo_png: bytes, query: str, allowed: str
) -> None:
    reply = server.request("POST", f"/jobs?{LANCZOS}&{query}", photo_png, {"Content-Type": "image/png"})
    assert reply.status == 400, reply.body
    error = reply.json()
    assert error["code"] == "bad_request" and allowed in error["hint"], error


@pytest.mark.parametrize("name", ["device", "precision", "tile"])
def test_a_repeated_option_is_a_400(server: Server, photo_png: bytes, name: str) -> None:
    value = {"device": "cpu", "precision": "fp32", "tile": "64"}[name]
    query = f"{LANCZOS}&{name}={value}&{name}={value}"
    reply = server.request("POST", f"/jobs?{query}", photo_png, {"Content-Type": "image/png"})
    assert reply.status == 400 and reply.json()["code"] == "bad_request" and name in reply.json()["message"]


def test_a_device_this_machine_lacks_is_a_400(server: Server, photo_png: bytes) -> None:
    devices = available_devices()
    for device in ("cuda", "cuda:7", "mps"):
        if device in devices or (device == "cuda" and "cuda:0" in devices):
            continue
        reply = server.request("POST", f"/jobs?{LANCZOS}&device={device}", photo_png, {"Content-Type": "image/png"})
        assert reply.status == 400, reply.body
        assert "not available" in reply.json()["message"] and "cpu" in reply.json()["hint"]


def test_check_device_against_a_device_list() -> None:
    gpu = ("cpu", "cuda:0")
    for device in ("auto", "cpu", "cuda", "cuda:0"):
        submission.check_device(device, gpu)
    for device, devices in (("cuda:1", gpu), ("mps", gpu), ("cuda", ("cpu", "mps"))):
        with pytest.raises(ApiError, match="not available") as raised:
            submission.check_device(device, devices)
        assert raised.value.status == 400 and ", ".join(devices) in raised.value.hint


def test_health_lists_the_devices(server: Server) -> None:
    devices = server.healthy()["devices"]
    assert devices[0] == "cpu" and devices == list(available_devices())


def test_fp16_on_the_cpu_fails_the_job_and_the_worker_goes_on(server: Server, photo_png: bytes) -> None:
    pid = server.handle.worker_pid
    # With device auto, only where there is no GPU to run fp16 on.
    queries = ["device=cpu&precision=fp16"] + (["precision=fp16"] if available_devices() == ("cpu",) else [])
    for query in queries:
        job = server.wait(server.submit(photo_png, f"{LANCZOS}&{query}"))
        assert job["state"] == "failed", job
        error = job["error"]
        assert error["code"] == "unsupported_device" and "fp16" in error["message"] and "CPU" in error["message"]
        assert "fp32" in error["hint"], error
    after = server.submit(photo_png)
    assert server.wait(after)["state"] == "succeeded"
    assert server.handle.worker_pid == pid  # no crash, no restart
    assert server.healthy()["worker"] == "ready"


def test_a_tile_too_small_for_the_model_fails_the_job_with_the_smallest(server: Server, crop_png: bytes) -> None:
    job = server.wait(server.submit(crop_png, f"{LANCZOS}&tile=16"))
    assert job["state"] == "failed" and "too small" in job["error"]["message"], job
    assert job["error"]["hint"]
    assert server.healthy()["worker"] == "ready"


def test_tile_and_precision_reach_the_engine(server: Server, crop_png: bytes) -> None:
    """A fixed 64-pixel tile in fp32 gives the picture of the automatic tile (one tile here) in fp32, and of the
    default options: exactly fp32 where this CPU has no native bf16, else within bf16's few levels."""
    ids = {
        name: server.submit(crop_png, f"{LANCZOS}{query}")
        for name, query in (("default", ""), ("fp32", "&precision=fp32"), ("tiled", "&tile=64&precision=fp32"))
    }
    jobs = {name: server.wait(job_id) for name, job_id in ids.items()}
    assert all(job["state"] == "succeeded" for job in jobs.values()), jobs
    # Tiles over every pass: the automatic tile covers the crop at once, 64 pixels need several.
    assert jobs["tiled"]["progress"]["total"] > jobs["fp32"]["progress"]["total"]
    blends = {
        name: raw_array(server.request("GET", f"/jobs/{job_id}/layers/blend?format=raw")).astype(np.int16)
        for name, job_id in ids.items()
    }
    assert blends["tiled"].shape == (96 * 4, 112 * 4, 3)
    assert np.abs(blends["tiled"] - blends["fp32"]).max() <= 1
    assert np.abs(blends["tiled"] - blends["default"]).max() <= 3
    for job_id in ids.values():
        assert server.request("DELETE", f"/jobs/{job_id}").status == 204


def test_the_engine_takes_the_smallest_tile_a_job_may_ask_for() -> None:
    EngineOptions(tile=MIN_TILE)
    with pytest.raises(ValueError, match="at least"):
        EngineOptions(tile=MIN_TILE - 1)


def test_openapi_describes_the_options_and_the_devices() -> None:
    document = openapi_document("test")
    parameters = {p["name"]: p for p in document["paths"]["/jobs"]["post"]["parameters"]}
    assert parameters["precision"]["schema"]["enum"] == ["auto", "fp32", "fp16", "bf16"]
    assert parameters["device"]["schema"]["pattern"].startswith("^(auto|cpu")
    integer = next(s for s in parameters["tile"]["schema"]["oneOf"] if s["type"] == "integer")
    assert (integer["minimum"], integer["maximum"]) == (16, 8192)
    health = document["components"]["schemas"]["Health"]["properties"]["devices"]
    assert health["type"] == "array" and health["items"] == {"type": "string"}
