"""One job through the client against the fake backend: progress in [0, 1] that only grows, the layers and their
factor, the submitted job's id handed over first, and the backend's errors as BackendFailed with message and hint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ldl_gimp.errors import BackendFailed
from ldl_gimp.job import describe, run_job

from ldl_client import Client, ConnectSettings, JobInfo, JobState, Progress, RawImage, SubmitOptions, connect
from tests.client.fake_server import Backend, FakeServer

IMAGE = RawImage(3, 2, 3, "uint8", bytes(range(18)))  # the fake backend's layers are 3×2: a factor of 1


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeServer, Client]]:
    server = FakeServer(Backend(token="token"))
    server.write_discovery(tmp_path / "run" / "server.json")
    settings = ConnectSettings(start_server=False, environment={"LDL_STUDIO_HOME": str(tmp_path)})
    yield server, connect(timeout=5.0, settings=settings)
    server.stop()


def test_a_job_reports_progress_and_returns_its_layers(fake: tuple[FakeServer, Client]) -> None:
    server, client = fake
    seen: list[tuple[float, str]] = []
    submitted: list[str] = []
    layers = run_job(
        client, IMAGE, SubmitOptions(), on_progress=lambda *report: seen.append(report), on_submitted=submitted.append
    )
    assert submitted == [layers.job_id]
    assert server.backend.jobs[layers.job_id]["state"] == "succeeded"
    assert layers.scale == 1
    assert (layers.reference.channels, layers.mask.channels, layers.artifact_map.dtype) == (3, 1, "float32")
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("Upscaling" in text for _, text in seen)


def test_a_refused_job_is_backend_failed_with_the_backends_words(fake: tuple[FakeServer, Client]) -> None:
    _, client = fake
    with pytest.raises(BackendFailed) as caught:
        run_job(client, IMAGE, SubmitOptions(model="no-such-model"))
    assert (caught.value.code, caught.value.message) == ("unknown_model", "no model no-such-model")


def job(state: JobState, done: int, total: int, eta: float | None) -> JobInfo:
    return JobInfo("j", state, "m", 0.0, 0.0, Progress(done, total, "detail", eta), None, None, None)


def test_progress_text_names_the_stage_and_the_time_left() -> None:
    assert describe(job(JobState.QUEUED, 0, 0, None)) == (0.0, "Waiting for the LDL Studio backend")
    fraction, text = describe(job(JobState.RUNNING, 5, 10, 12.0))
    assert fraction == pytest.approx(0.45)
    assert text == "Upscaling with LDL (detail), about 12 s left"
