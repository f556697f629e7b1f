"""One upscale job on the backend: submit, follow its pushed progress, fetch the layers. No GIMP here.

GIMP runs a plug-in's procedure synchronously and its progress calls are plain PDB calls, so the job is followed
on the calling thread: ``Client.wait`` reads the backend's event stream and hands every change to ``on_progress``.
"""

from __future__ import annotations

from collections.abc import Callable

from ldl_client import (
    Client,
    ClientError,
    HostLayers,
    JobEnded,
    JobInfo,
    JobState,
    ProtocolError,
    RawImage,
    ServerError,
    SubmitOptions,
    upscale_for_host,
)

from .errors import BackendFailed

Report = Callable[[float, str], None]
"""``on_progress(fraction, text)``: the share of the whole job done, in [0, 1], and what is happening."""

# The share of the progress bar the backend's own work gets; the upload and the layers' download share the rest.
_JOB_SHARE = 0.9


def run_job(
    client: Client,
    image: RawImage,
    options: SubmitOptions,
    *,
    on_progress: Report | None = None,
    on_submitted: Callable[[str], None] | None = None,
) -> HostLayers:
    """Upscale ``image`` with ``options`` (the client's ``upscale_for_host``); ``on_submitted(job_id)`` is called once
    the backend accepted the job.

    Raises ``BackendFailed`` with the backend's message, hint and code when it refuses the job, the job fails or
    is cancelled on the backend, the layers do not fit the input, or the backend cannot be reached.
    """
    report = on_progress or _ignore
    report(0.0, "Sending the image to LDL Studio")
    try:
        layers = upscale_for_host(
            client,
            image,
            options,
            on_submitted=None if on_submitted is None else lambda job: on_submitted(job.id),
            on_progress=lambda seen: report(*describe(seen)),
            on_download=lambda done, total: report(_JOB_SHARE + (1 - _JOB_SHARE) * done / total, "Fetching the layers"),
        )
    except JobEnded as e:
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ProtocolError as e:
        raise BackendFailed(e.message, e.hint, "protocol") from e
    except ServerError as e:
        raise BackendFailed(e.message, e.hint, e.code) from e
    except ClientError as e:
        raise BackendFailed(e.message, e.hint or "check that the LDL Studio backend is running") from e
    report(1.0, "Adding the layers")
    return layers


def describe(job: JobInfo) -> tuple[float, str]:
    """The progress bar's share and text for a job as the backend reports it."""
    progress = job.progress
    if job.state is JobState.QUEUED:
        return 0.0, "Waiting for the LDL Studio backend"
    stage = f"Upscaling with LDL ({progress.stage})" if progress.stage else "Upscaling with LDL"
    if progress.eta_seconds is not None and progress.total > 0:
        stage += f", about {progress.eta_seconds:.0f} s left"
    return _JOB_SHARE * progress.fraction, stage


def _ignore(fraction: float, text: str) -> None:
    pass
