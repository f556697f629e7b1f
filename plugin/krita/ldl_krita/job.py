"""One upscale job on the backend: submit, follow with progress and cancellation, fetch and convert the layers.

No Krita and no Qt here: this is the part that runs on the worker thread while Krita stays responsive. The job is
followed through the backend's event stream (``Client.wait``), which pushes every change: nothing polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .client_import import (
    Client,
    ClientError,
    JobEnded,
    JobState,
    JobStopped,
    ProtocolError,
    RawImage,
    ServerError,
    SubmitOptions,
    upscale_for_host,
)
from .errors import BackendFailed, Cancelled
from .mask_pixels import map_pixels, mask_bytes
from .pixels import PixelFormat, from_raw

ProgressCallback = Callable[[int, int, str], None]
"""``on_progress(done, total, stage)``: the backend's work done of total over the whole job, and its current stage
(``upload``, ``download`` and ``convert`` are the plugin's own stages); ``total`` is 0 while unknown."""

_STAGES = {"upload": "Sending the image", "download": "Fetching the layers", "convert": "Preparing the layers"}


@dataclass(frozen=True)
class JobLayers:
    """A succeeded job's layers, ready to write into Krita: ``width``×``height`` pixels, ``scale`` times the input.

    ``reference``/``detail``/``artifact_map``: pixel bytes of the format they were converted to (the artifact map as
    opaque gray); ``mask``: one byte per pixel, 255 = keep detail.
    """

    job_id: str
    width: int
    height: int
    scale: int
    reference: bytes
    detail: bytes
    artifact_map: bytes
    mask: bytes


def run_job(
    client: Client,
    image: RawImage,
    options: SubmitOptions,
    fmt: PixelFormat,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> JobLayers:
    """Upscale ``image`` with ``options`` and return its layers converted to ``fmt``.

    Raises ``Cancelled`` when ``cancel`` is set (the job is cancelled on the backend too), ``BackendFailed`` with
    the backend's message, hint and code when it refuses the job or the job fails, or when it cannot be reached.
    """
    cancel = cancel or threading.Event()
    report = on_progress or _ignore
    report(0, 0, "upload")
    try:
        layers = upscale_for_host(
            client,
            image,
            options,
            on_submitted=lambda job: report(job.progress.done, job.progress.total, job.progress.stage),
            on_progress=lambda job: report(job.progress.done, job.progress.total, job.progress.stage),
            on_download=lambda done, total: report(done, total, "download"),
            stop=cancel.is_set,
        )
    except JobStopped as e:
        raise Cancelled("the upscale was cancelled", "nothing in the document changed") from e
    except JobEnded as e:
        if e.job.state is JobState.CANCELLED:
            raise Cancelled("the upscale was cancelled on the backend", "nothing in the document changed") from e
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ProtocolError as e:
        raise BackendFailed(e.message, e.hint, "protocol") from e
    except ServerError as e:
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ClientError as e:
        raise BackendFailed(e.message, e.hint or "check that the LDL Studio backend is running") from e
    _check_cancel(cancel)
    report(0, 1, "convert")
    try:
        converted = JobLayers(
            job_id=layers.job_id,
            width=image.width * layers.scale,
            height=image.height * layers.scale,
            scale=layers.scale,
            reference=from_raw(fmt, layers.reference),
            detail=from_raw(fmt, layers.detail),
            artifact_map=map_pixels(fmt, layers.artifact_map),
            mask=mask_bytes(layers.mask),
        )
    except ValueError as e:
        raise BackendFailed(f"the backend sent layers the plugin cannot use: {e}", _VERSION_HINT, "protocol") from e
    report(1, 1, "convert")
    return converted


def describe_progress(done: int, total: int, stage: str) -> str:
    """The progress dialog's text for an ``on_progress`` report."""
    label = _STAGES.get(stage, f"Upscaling ({stage})" if stage else "Waiting for the backend")
    return f"{label}: {done} / {total}" if total > 0 else f"{label}…"


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled("the upscale was cancelled", "nothing in the document changed")


def _ignore(done: int, total: int, stage: str) -> None:
    pass


_VERSION_HINT = "the backend and the plugin may be different versions; reinstall LDL Studio"
