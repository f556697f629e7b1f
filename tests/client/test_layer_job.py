"""A host plug-in's job, written once in the client: progress and downloads reported in order, a stop that cancels
the backend job, a failed job with the backend's words, and layers that do not fit the input refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldl_client import (
    Client,
    ConnectSettings,
    JobEnded,
    JobInfo,
    JobState,
    JobStopped,
    ProtocolError,
    RawImage,
    SubmitOptions,
    connect,
    upscale_for_host,
)

from .fake_server import Backend, FakeServer

IMAGE = RawImage(3, 2, 3, "uint8", bytes(range(18)))  # the fake backend's layers are 3×2: a factor of 1


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeServer, Client]]:
    server = FakeServer(Backend(token="token"))
    server.write_discovery(tmp_path / "run" / "server.json")
    settings = ConnectSettings(start_server=False, environment={"LDL_STUDIO_HOME": str(tmp_path)})
    yield server, connect(timeout=5.0, settings=settings)
    server.stop()


def test_the_job_reports_then_downloads_the_host_layers(fake: tuple[FakeServer, Client]) -> None:
    server, client = fake
    events: list[str] = []
    layers = upscale_for_host(
        client,
        IMAGE,
        SubmitOptions(),
        on_submitted=lambda job: events.append(f"submitted {job.id}"),
        on_progress=lambda job: events.append(job.state.value),
        on_download=lambda done, total: events.append(f"download {done}/{total}"),
    )
    assert events[0] == f"submitted {layers.job_id}" and "running" in events
    assert events[-5:] == ["download 0/4", "download 1/4", "download 2/4", "download 3/4", "download 4/4"]
    assert events.index("succeeded") < events.index("download 0/4")
    assert layers.scale == 1 and (layers.mask.channels, layers.artifact_map.dtype) == (1, "float32")
    layer_requests = [request.target for request in server.backend.requests if "/layers/" in request.target]
    fetched = [target.split("/layers/")[1].split("?")[0] for target in layer_requests]
    assert fetched == ["reference", "detail", "map", "mask"]


def test_a_stop_cancels_the_backend_job(fake: tuple[FakeServer, Client]) -> None:
    server, client = fake
    server.backend.hold = True  # the job runs until cancelled
    stop = threading.Event()
    submitted: list[JobInfo] = []

    def on_submitted(job: JobInfo) -> None:
        submitted.append(job)
        threading.Timer(0.2, stop.set).start()

    with pytest.raises(JobStopped):
        upscale_for_host(client, IMAGE, SubmitOptions(), on_submitted=on_submitted, stop=stop.is_set)
    assert server.backend.jobs[submitted[0].id]["state"] == "cancelled"
    stop.clear()
    stop.set()
    with pytest.raises(JobStopped):  # stopped before anything was sent: no job at all
        upscale_for_host(client, IMAGE, SubmitOptions(), stop=stop.is_set)
    assert len(server.backend.jobs) == 1


def test_a_failed_job_carries_the_backends_error(fake: tuple[FakeServer, Client]) -> None:
    server, client = fake
    server.backend.hold = True

    def fail(job: JobInfo) -> None:
        record = server.backend.jobs[job.id]
        record["error"] = {"code": "out_of_memory", "message": "the tile did not fit", "hint": "use a smaller tile"}
        record["state"] = "failed"

    with pytest.raises(JobEnded) as caught:
        upscale_for_host(client, IMAGE, SubmitOptions(), on_submitted=fail)
    assert caught.value.job.state is JobState.FAILED
    assert (caught.value.code, caught.value.message, caught.value.hint) == (
        "out_of_memory",
        "the tile did not fit",
        "use a smaller tile",
    )


def test_layers_that_are_no_whole_multiple_of_the_input_are_refused(fake: tuple[FakeServer, Client]) -> None:
    _, client = fake
    with pytest.raises(ProtocolError, match="not a whole multiple of the 2x2 input"):
        upscale_for_host(client, RawImage(2, 2, 3, "uint8", bytes(12)), SubmitOptions())
