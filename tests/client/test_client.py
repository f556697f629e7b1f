"""Every client call against the fake server: requests as the API wants them, answers typed, errors mapped."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from ldl_client import (
    Client,
    JobInfo,
    JobState,
    RawImage,
    ReferenceSource,
    ServerError,
    SubmitOptions,
    UnsupportedImageError,
    WaitTimeoutError,
)

from .fake_server import PNG_LAYER, Backend, FakeServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OPTIONS = SubmitOptions(model="realesrgan-x4plus")


def finished_job(client: Client, backend: Backend) -> JobInfo:
    job = client.submit(PNG, OPTIONS)
    backend.finish(job.id)
    return client.job(job.id)


def test_health_and_models(client: Client) -> None:
    health = client.health()
    assert health.ok and health.api == 1 and health.worker == "ready"
    assert health.devices == ("cpu",)  # the fake server, like servers before the device option, does not say
    models = client.models()
    assert [model.name for model in models] == ["realesrgan-x4plus", "tiny-x2"]
    assert models[0].installed and models[0].scale == 4


def test_every_request_has_host_and_token_and_no_origin(client: Client, server: FakeServer) -> None:
    job = finished_job(client, server.backend)
    client.layer(job.id, "blend")
    client.jobs()
    client.health()
    assert server.backend.requests
    for request in server.backend.requests:
        assert request.headers["Host"] == f"127.0.0.1:{server.port}"
        assert request.headers["Authorization"] == "Bearer token-one"
        assert "Origin" not in request.headers
        assert not any(name.lower().startswith("sec-fetch-") for name in request.headers)
        assert "token-one" not in request.target


def test_submit_file_bytes_sends_sniffed_type_and_options_as_query(client: Client, server: FakeServer) -> None:
    options = SubmitOptions(
        model="tiny-x2", scale=2, reference=ReferenceSource.parse("model:tiny-x2"), threshold=0.5, softness=0.1
    )
    job = client.submit(PNG, options)
    assert job.state is JobState.QUEUED and job.model == "tiny-x2"
    assert job.created == 1_700_000_000.0 and job.updated == 1_700_000_000.0  # ISO "Z" time parsed
    request = next(r for r in server.backend.requests if r.method == "POST")
    assert request.headers["Content-Type"] == "image/png"
    assert request.body == PNG
    assert request.target == (
        "/jobs?model=tiny-x2&scale=2&reference=model%3Atiny-x2&threshold=0.5&softness=0.1&alpha=resize"
    )


def test_submit_raw_image_sends_its_headers(client: Client, server: FakeServer) -> None:
    image = RawImage(5, 3, 4, "uint16", bytes(5 * 3 * 4 * 2))
    job = client.submit(image, OPTIONS)
    assert (job.width, job.height) == (20, 12)
    request = next(r for r in server.backend.requests if r.method == "POST")
    assert request.headers["Content-Type"] == "application/x-ldl-raw"
    widths = (request.headers["X-Ldl-Width"], request.headers["X-Ldl-Height"], request.headers["X-Ldl-Channels"])
    assert widths == ("5", "3", "4") and request.headers["X-Ldl-Dtype"] == "uint16"
    assert request.body == image.data


def test_submit_refuses_unknown_bytes_before_sending(client: Client, server: FakeServer) -> None:
    with pytest.raises(UnsupportedImageError, match="not a PNG"):
        client.submit(b"GIF89a....", OPTIONS)
    assert not [r for r in server.backend.requests if r.method == "POST"]


def test_jobs_newest_first_and_job_by_id(client: Client) -> None:
    first = client.submit(PNG, OPTIONS)
    second = client.submit(PNG, OPTIONS)
    assert [job.id for job in client.jobs()] == [second.id, first.id]
    assert client.job(first.id) == first


def test_events_stream_every_change_until_final(client: Client) -> None:
    job = client.submit(PNG, OPTIONS)
    seen = list(client.events(job.id))
    assert [event.progress.done for event in seen] == [1, 2, 3, 3]
    assert seen[0].state is JobState.RUNNING and seen[-1].state is JobState.SUCCEEDED
    assert seen[1].progress.fraction == pytest.approx(2 / 3)


def test_wait_reports_progress_from_the_stream(client: Client) -> None:
    job = client.submit(PNG, OPTIONS)
    reported: list[JobInfo] = []
    final = client.wait(job.id, on_progress=reported.append, timeout=5)
    assert final.state is JobState.SUCCEEDED
    assert [j.progress.done for j in reported] == [1, 2, 3, 3]


def test_wait_polls_when_events_are_unavailable(client: Client, server: FakeServer) -> None:
    server.backend.events_enabled = False
    job = client.submit(PNG, OPTIONS)
    reported: list[JobInfo] = []
    final = client.wait(job.id, on_progress=reported.append, timeout=5, poll_interval=0.01)
    assert final.state is JobState.SUCCEEDED
    assert [j.state for j in reported][-1] is JobState.SUCCEEDED and len(reported) >= 3


def test_wait_times_out_and_leaves_the_job(client: Client, server: FakeServer) -> None:
    server.backend.events_enabled = False
    server.backend.steps = 10_000
    job = client.submit(PNG, OPTIONS)
    with pytest.raises(WaitTimeoutError, match=job.id):
        client.wait(job.id, timeout=0.2, poll_interval=0.01)


def test_cancel_then_conflict(client: Client) -> None:
    job = client.submit(PNG, OPTIONS)
    assert client.cancel(job.id).state is JobState.CANCELLED
    with pytest.raises(ServerError) as caught:
        client.cancel(job.id)
    assert (caught.value.status, caught.value.code) == (409, "conflict")


def test_layers_as_file_bytes_and_raw(client: Client, server: FakeServer) -> None:
    job = finished_job(client, server.backend)
    assert client.layer(job.id, "detail") == PNG_LAYER
    assert client.layer(job.id, "detail", format="tiff") == PNG_LAYER
    blend = client.layer(job.id, "blend", format="raw")
    assert (blend.width, blend.height, blend.channels, blend.dtype) == (3, 2, 3, "uint16")
    assert list(blend.samples()) == [i * 1000 for i in range(18)]
    artifact_map = client.layer(job.id, "map", format="raw")
    assert artifact_map.channels == 1 and artifact_map.dtype == "float32"
    assert list(artifact_map.samples()) == pytest.approx([i / 6 for i in range(6)])
    assert server.backend.requests[-1].target == f"/jobs/{job.id}/layers/map?format=raw"


def test_layer_before_success_is_a_conflict(client: Client) -> None:
    job = client.submit(PNG, OPTIONS)
    with pytest.raises(ServerError) as caught:
        client.layer(job.id, "mask")
    assert caught.value.code == "conflict" and caught.value.hint == "hint for conflict"


def test_reblend_with_numbers_or_a_mask(client: Client, server: FakeServer) -> None:
    job = finished_job(client, server.backend)
    assert client.reblend(job.id, threshold=0.2, softness=0.05).state is JobState.SUCCEEDED
    request = server.backend.requests[-1]
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"threshold": 0.2, "softness": 0.05}
    mask = RawImage(2, 2, 1, "float32", struct.pack("<4f", 1, 0, 0.5, 1))
    client.reblend(job.id, mask=mask)
    request = server.backend.requests[-1]
    assert request.headers["Content-Type"] == "application/x-ldl-raw" and request.body == mask.data


def test_reblend_rejects_unclear_arguments(client: Client) -> None:
    mask = RawImage(1, 1, 1, "uint8", b"\xff")
    with pytest.raises(ValueError, match="both"):
        client.reblend("job1", threshold=0.2)
    with pytest.raises(ValueError, match="not both"):
        client.reblend("job1", threshold=0.2, softness=0.1, mask=mask)
    with pytest.raises(ValueError, match="1 channel"):
        client.reblend("job1", mask=RawImage(1, 1, 3, "uint8", b"\xff\xff\xff"))


def test_delete_and_not_found(client: Client) -> None:
    job = client.submit(PNG, OPTIONS)
    client.delete(job.id)
    with pytest.raises(ServerError) as caught:
        client.job(job.id)
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_job_ids_cannot_reach_other_routes(client: Client, server: FakeServer) -> None:
    with pytest.raises(ServerError):
        client.job("../health")
    assert server.backend.requests[-1].target == "/jobs/..%2Fhealth"


def test_error_bodies_map_to_server_error(client: Client) -> None:
    with pytest.raises(ServerError) as unknown:
        client.submit(PNG, SubmitOptions(model="no-such-model"))
    assert (unknown.value.status, unknown.value.code, unknown.value.retry_after) == (404, "unknown_model", None)
    assert unknown.value.message == "no model no-such-model" and unknown.value.hint == "hint for unknown_model"
    with pytest.raises(ServerError) as busy:
        client.submit(PNG, SubmitOptions(model="busy"))
    assert (busy.value.status, busy.value.code, busy.value.retry_after) == (429, "queue_full", 3.0)
    with pytest.raises(ServerError) as plain:
        client.job("plain-500")
    assert (plain.value.status, plain.value.code) == (500, "http_500")
    assert "Internal Server Error" in plain.value.message


def test_a_wrong_token_is_401_when_the_file_names_no_other_server(client: Client, server: FakeServer) -> None:
    server.backend.token = "rotated-but-file-not-rewritten"
    before = len(server.backend.requests)
    with pytest.raises(ServerError) as caught:
        client.health()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    # The file still names the same server and token: there is nothing to send the request to again.
    assert len(server.backend.requests) == before + 1


def test_png_signature_of_a_real_png_is_sniffed(client: Client, server: FakeServer) -> None:
    # A real 1x1 PNG, not just its signature, to show nothing but the first bytes matter.
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    png = PNG[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    client.submit(png, OPTIONS)
    assert server.backend.requests[-2].headers["Content-Type"] == "image/png"
