"""``run_job`` follows the backend's event stream (pushed progress, no polling) and a Cancel from another thread
stops the backend job promptly; against a real backend on 127.0.0.1 (the compact model)."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import numpy as np
import pytest
from ldl_krita.errors import Cancelled
from ldl_krita.job import run_job
from ldl_krita.pixels import PixelFormat, to_raw

from ldl_client import Client, JobState, RawImage, ReferenceSource, SubmitOptions
from tests.server.conftest import COMPACT

FMT = PixelFormat("RGBA", "U8")


def raw_photo(height: int, width: int) -> RawImage:
    from skimage import data

    photo = data.chelsea()[:height, :width]
    bgra = np.concatenate([photo[..., ::-1], np.full((height, width, 1), 255, np.uint8)], axis=-1)
    return to_raw(FMT, np.ascontiguousarray(bgra).tobytes(), width, height)


def counting(monkeypatch: pytest.MonkeyPatch, client: Client, name: str) -> list[float]:
    """Times of every call of ``client.<name>`` during the test."""
    calls: list[float] = []
    real = getattr(client, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(client, name, counted)
    return calls


def test_progress_comes_from_the_event_stream(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    job_reads = counting(monkeypatch, client, "job")
    seen: list[tuple[int, int, str]] = []
    options = SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("tta:2"))
    layers = run_job(client, raw_photo(24, 32), options, FMT, on_progress=lambda *p: seen.append(p))
    assert layers.width == 32 * 4
    # submit() reads the new job's record once; after that every change is pushed, none polled.
    assert len(job_reads) <= 1
    backend = [(done, total, stage) for done, total, stage in seen if stage not in ("upload", "download", "convert")]
    # Changes close together may reach the plugin as one (the stream sends the job as it is when it wakes).
    stages = [stage for _, _, stage in backend]
    known = r"|starting|detail( alpha)?|reference( alpha| 2/2(, tile \d+/\d+)?)?|map|blend|done"
    assert all(re.fullmatch(known, stage) for stage in stages), stages
    assert stages[-1] == "done" and len(set(stages)) >= 4
    totals = {total for _, total, _ in backend if total > 0}
    assert len(totals) == 1
    fractions = [done / total for done, total, _ in backend if total > 0]
    assert fractions == sorted(fractions)


def test_cancel_from_another_thread_cancels_the_backend_job_promptly(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancels = counting(monkeypatch, client, "cancel")
    job_reads = counting(monkeypatch, client, "job")
    cancel = threading.Event()
    pressed: list[float] = []

    def press_cancel_once_referencing(done: int, total: int, stage: str) -> None:
        if stage.startswith("reference") and not pressed:
            pressed.append(time.monotonic())
            threading.Thread(target=cancel.set).start()  # as the dialog's Cancel does, from the GUI thread

    slow = SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("tta:8"))
    with pytest.raises(Cancelled, match="cancelled"):
        run_job(client, raw_photo(256, 320), slow, FMT, on_progress=press_cancel_once_referencing, cancel=cancel)
    ended = time.monotonic()
    assert pressed and len(cancels) == 1
    assert cancels[0] - pressed[0] < 1.0, "the plugin took too long to pass the Cancel on"
    latest = client.jobs()[0]
    assert latest.state is JobState.CANCELLED and latest.progress.done < latest.progress.total
    assert ended - pressed[0] < 10.0
    assert len(job_reads) <= 1  # the wait for the cancelled job to end is the event stream too
