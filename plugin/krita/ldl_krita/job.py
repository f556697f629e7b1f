"""One upscale job on the backend: submit, follow with progress and cancellation, fetch and convert the layers.

No Krita and no Qt here: this is the part that runs on the worker thread while Krita stays responsive. The job is
followed through the backend's event stream (``Client.wait``), which pushes every change: nothing polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .client_import import Client, ClientError, JobInfo, JobState, LayerName, RawImage, ServerError, SubmitOptions
from .errors import BackendFailed, Cancelled
from .mask_pixels import map_pixels, mask_bytes
from .pixels import PixelFormat, from_raw

ProgressCallback = Callable[[int, int, str], None]
"""``on_progress(done, total, stage)``: the backend's work done of total over the whole job, and its current stage
(``upload``, ``download`` and ``convert`` are the plugin's own stages); ``total`` is 0 while unknown."""

# How long a cancelled job may take to reach a final state before the plugin stops waiting for it.
CANCEL_WAIT_SECONDS = 15.0
LAYERS: tuple[LayerName, ...] = ("reference", "detail", "map", "mask")
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
    _check_cancel(cancel)
    report(0, 0, "upload")
    try:
        job = client.submit(image, options)
        job = _follow(client, job, report, cancel)
        if job.state is not JobState.SUCCEEDED:
            raise _failure(job)
        layers: dict[str, RawImage] = {}
        for done, name in enumerate(LAYERS):
            _check_cancel(cancel)
            report(done, len(LAYERS), "download")
            layers[name] = client.layer(job.id, name, "raw")
    except ServerError as e:
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ClientError as e:
        raise BackendFailed(e.message, e.hint or "check that the LDL Studio backend is running") from e
    report(len(LAYERS), len(LAYERS), "download")
    scale = _scale_of(image, layers)
    _check_cancel(cancel)
    report(0, 1, "convert")
    try:
        converted = JobLayers(
            job_id=job.id,
            width=image.width * scale,
            height=image.height * scale,
            scale=scale,
            reference=from_raw(fmt, layers["reference"]),
            detail=from_raw(fmt, layers["detail"]),
            artifact_map=map_pixels(fmt, layers["map"]),
            mask=mask_bytes(layers["mask"]),
        )
    except ValueError as e:
        raise BackendFailed(f"the backend sent layers the plugin cannot use: {e}", _VERSION_HINT, "protocol") from e
    report(1, 1, "convert")
    return converted


def describe_progress(done: int, total: int, stage: str) -> str:
    """The progress dialog's text for an ``on_progress`` report."""
    label = _STAGES.get(stage, f"Upscaling ({stage})" if stage else "Waiting for the backend")
    return f"{label}: {done} / {total}" if total > 0 else f"{label}…"


def _follow(client: Client, job: JobInfo, report: ProgressCallback, cancel: threading.Event) -> JobInfo:
    def progress(info: JobInfo) -> None:
        report(info.progress.done, info.progress.total, info.progress.stage)

    progress(job)
    # The wait checks the event between the stream's lines (the backend sends one at least every half second), so a
    # Cancel is seen within about that long.
    job = client.wait(job.id, on_progress=progress, stop=cancel.is_set)
    if not job.state.is_final:
        _cancel_on_backend(client, job)
        raise Cancelled("the upscale was cancelled", "nothing in the document changed")
    return job


def _cancel_on_backend(client: Client, job: JobInfo) -> None:
    try:
        if not client.cancel(job.id).state.is_final:
            client.wait(job.id, timeout=CANCEL_WAIT_SECONDS)
    except ClientError:
        # Already final (409), the backend went away, or the job did not stop in time: either way nothing is left
        # that the plugin can stop.
        pass


def _failure(job: JobInfo) -> Exception:
    if job.state is JobState.CANCELLED:
        return Cancelled("the upscale was cancelled on the backend", "nothing in the document changed")
    if job.error is not None:
        return BackendFailed(job.error.message, job.error.hint, job.error.code)
    return BackendFailed(f"the upscale ended {job.state.value}", "see the LDL Studio server log", job.state.value)


def _scale_of(image: RawImage, layers: dict[str, RawImage]) -> int:
    reference = layers["reference"]
    scale = reference.width // image.width
    for name, layer in layers.items():
        if (layer.width, layer.height) != (image.width * scale, image.height * scale) or scale < 1:
            raise BackendFailed(
                f"the backend's {name} layer is {layer.width}x{layer.height}, not a whole multiple of the "
                f"{image.width}x{image.height} input",
                _VERSION_HINT,
                "protocol",
            )
    return scale


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled("the upscale was cancelled", "nothing in the document changed")


def _ignore(done: int, total: int, stage: str) -> None:
    pass


_VERSION_HINT = "the backend and the plugin may be different versions; reinstall LDL Studio"
