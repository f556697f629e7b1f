"""A host plug-in's upscale on the backend, written once for Krita and GIMP: submit the image, follow the job's pushed
progress (``Client.wait``), cancel it on the backend when the user stops, fetch the four layers a host shows and check
that they fit the input. No host calls here; each plug-in maps the errors to its own and converts the pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .client import Client
from .errors import ClientError, ProtocolError
from .layers import LayerName
from .options import SubmitOptions
from .raw_image import RawImage
from .records import JobInfo, JobState

# The layers a host adds: the faithful upscale, the detail (with the mask as its layer mask) and the map.
HOST_LAYER_FETCH: tuple[LayerName, ...] = ("reference", "detail", "map", "mask")
# How long a cancelled job may take to reach a final state before the plug-in stops waiting for it.
CANCEL_WAIT_SECONDS = 15.0
_VERSION_HINT = "the backend and the plug-in may be different versions; reinstall LDL Studio"


class JobEnded(ClientError):  # noqa: N818 - reads as what happened, like ConnectionFailed
    """The job ended without layers: ``job`` is its final record (failed with ``job.error``, cancelled on the
    backend, or interrupted); ``code`` is the backend's error code, or the final state."""

    def __init__(self, job: JobInfo) -> None:
        if job.error is not None:
            message, hint, code = job.error.message, job.error.hint, job.error.code
        elif job.state is JobState.CANCELLED:
            message, hint, code = "the upscale was cancelled on the backend", "nothing was changed", "cancelled"
        else:
            message, hint, code = (
                f"the upscale ended {job.state.value}",
                "see the LDL Studio server log",
                job.state.value,
            )
        super().__init__(message, hint)
        self.job = job
        self.code = code


class JobStopped(ClientError):  # noqa: N818
    """The caller's ``stop`` turned true: the job was cancelled on the backend (or had already ended)."""


@dataclass(frozen=True)
class HostLayers:
    """A succeeded job's layers as the backend sent them, each ``scale`` times the input's size."""

    job_id: str
    scale: int
    reference: RawImage
    detail: RawImage
    artifact_map: RawImage
    mask: RawImage


def upscale_for_host(
    client: Client,
    image: RawImage,
    options: SubmitOptions,
    *,
    on_submitted: Callable[[JobInfo], None] | None = None,
    on_progress: Callable[[JobInfo], None] | None = None,
    on_download: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> HostLayers:
    """Upscale ``image`` with ``options`` and fetch the layers a host shows.

    ``on_submitted(job)`` once the backend accepted the job; ``on_progress(job)`` after each change the event stream
    pushes; ``on_download(done, total)`` before each layer is fetched. ``stop`` (e.g. a Cancel button's
    ``threading.Event.is_set``) is checked between the stream's lines and before each download.

    Raises ``JobStopped`` after ``stop`` (the backend job is cancelled and waited for, up to
    ``CANCEL_WAIT_SECONDS``), ``JobEnded`` when the job fails or is cancelled on the backend, ``ProtocolError``
    when the layers do not fit the input, and the client's ``ServerError``/``ClientError`` when the backend refuses
    the job or cannot be reached.
    """
    stopped = stop or _never
    if stopped():
        raise JobStopped("the upscale was cancelled", "nothing was changed")
    job = client.submit(image, options)
    if on_submitted is not None:
        on_submitted(job)
    job = client.wait(job.id, on_progress=on_progress, stop=stopped)
    if not job.state.is_final:
        _cancel_on_backend(client, job)
        raise JobStopped("the upscale was cancelled", "nothing was changed")
    if job.state is not JobState.SUCCEEDED:
        raise JobEnded(job)
    layers: dict[str, RawImage] = {}
    for done, name in enumerate(HOST_LAYER_FETCH):
        if stopped():
            raise JobStopped("the upscale was cancelled", "nothing was changed")
        if on_download is not None:
            on_download(done, len(HOST_LAYER_FETCH))
        layers[name] = client.layer(job.id, name, "raw")
    if on_download is not None:
        on_download(len(HOST_LAYER_FETCH), len(HOST_LAYER_FETCH))
    return HostLayers(
        job_id=job.id,
        scale=_scale_of(image, layers),
        reference=layers["reference"],
        detail=layers["detail"],
        artifact_map=layers["map"],
        mask=layers["mask"],
    )


def _scale_of(image: RawImage, layers: dict[str, RawImage]) -> int:
    """The whole factor every layer has over ``image``; raises ``ProtocolError`` when they disagree."""
    scale = layers["reference"].width // image.width
    for name, layer in layers.items():
        if scale < 1 or (layer.width, layer.height) != (image.width * scale, image.height * scale):
            raise ProtocolError(
                f"the backend's {name} layer is {layer.width}x{layer.height}, not a whole multiple of the "
                f"{image.width}x{image.height} input",
                _VERSION_HINT,
            )
    return scale


def _cancel_on_backend(client: Client, job: JobInfo) -> None:
    try:
        if not client.cancel(job.id).state.is_final:
            client.wait(job.id, timeout=CANCEL_WAIT_SECONDS)
    except ClientError:
        # Already final (409), the backend went away, or the job did not stop in time: nothing is left to stop.
        pass


def _never() -> bool:
    return False
