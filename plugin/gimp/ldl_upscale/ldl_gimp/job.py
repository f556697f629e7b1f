"""One upscale job on the backend: submit, follow its pushed progress, fetch the layers. No GIMP here.

GIMP runs a plug-in's procedure synchronously and its progress calls are plain PDB calls, so the job is followed
on the calling thread: ``Client.wait`` reads the backend's event stream and hands every change to ``on_progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ldl_client import Client, ClientError, JobInfo, JobState, LayerName, RawImage, ServerError, SubmitOptions

from .errors import BackendFailed

Report = Callable[[float, str], None]
"""``on_progress(fraction, text)``: the share of the whole job done, in [0, 1], and what is happening."""

LAYERS: tuple[LayerName, ...] = ("reference", "detail", "map", "mask")
_VERSION_HINT = "the backend and the plug-in may be different versions; reinstall LDL Studio"
# The share of the progress bar the backend's own work gets; the upload and the layers' download share the rest.
_JOB_SHARE = 0.9


@dataclass(frozen=True)
class JobLayers:
    """A succeeded job's layers as the backend sent them (``scale`` times the input's size)."""

    job_id: str
    scale: int
    reference: RawImage
    detail: RawImage
    artifact_map: RawImage
    mask: RawImage


def run_job(
    client: Client,
    image: RawImage,
    options: SubmitOptions,
    *,
    on_progress: Report | None = None,
    on_submitted: Callable[[str], None] | None = None,
) -> JobLayers:
    """Upscale ``image`` with ``options``; ``on_submitted(job_id)`` is called once the backend accepted the job.

    Raises ``BackendFailed`` with the backend's message, hint and code when it refuses the job, the job fails or
    is cancelled on the backend, or the backend cannot be reached.
    """
    report = on_progress or _ignore
    report(0.0, "Sending the image to LDL Studio")
    try:
        job = client.submit(image, options)
        if on_submitted is not None:
            on_submitted(job.id)
        job = client.wait(job.id, on_progress=lambda seen: report(*describe(seen)))
        if job.state is not JobState.SUCCEEDED:
            raise _failure(job)
        layers: dict[str, RawImage] = {}
        for done, name in enumerate(LAYERS):
            report(_JOB_SHARE + (1 - _JOB_SHARE) * done / len(LAYERS), "Fetching the layers")
            layers[name] = client.layer(job.id, name, "raw")
    except ServerError as e:
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ClientError as e:
        raise BackendFailed(e.message, e.hint or "check that the LDL Studio backend is running") from e
    report(1.0, "Adding the layers")
    return JobLayers(
        job_id=job.id,
        scale=scale_of(image, layers),
        reference=layers["reference"],
        detail=layers["detail"],
        artifact_map=layers["map"],
        mask=layers["mask"],
    )


def describe(job: JobInfo) -> tuple[float, str]:
    """The progress bar's share and text for a job as the backend reports it."""
    progress = job.progress
    if job.state is JobState.QUEUED:
        return 0.0, "Waiting for the LDL Studio backend"
    stage = f"Upscaling with LDL ({progress.stage})" if progress.stage else "Upscaling with LDL"
    if progress.eta_seconds is not None and progress.total > 0:
        stage += f", about {progress.eta_seconds:.0f} s left"
    return _JOB_SHARE * progress.fraction, stage


def scale_of(image: RawImage, layers: dict[str, RawImage]) -> int:
    """The whole factor every layer has over ``image``; raises ``BackendFailed`` when they disagree."""
    scale = layers["reference"].width // image.width
    for name, layer in layers.items():
        if scale < 1 or (layer.width, layer.height) != (image.width * scale, image.height * scale):
            raise BackendFailed(
                f"the backend's {name} layer is {layer.width}x{layer.height}, not a whole multiple of the "
                f"{image.width}x{image.height} input",
                _VERSION_HINT,
                "protocol",
            )
    return scale


def _failure(job: JobInfo) -> BackendFailed:
    if job.error is not None:
        return BackendFailed(job.error.message, job.error.hint, job.error.code)
    if job.state is JobState.CANCELLED:
        return BackendFailed("the upscale was cancelled on the backend", "nothing in the image changed", "cancelled")
    return BackendFailed(f"the upscale ended {job.state.value}", "see the LDL Studio server log", job.state.value)


def _ignore(fraction: float, text: str) -> None:
    pass
