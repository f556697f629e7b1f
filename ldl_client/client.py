"""``Client``: typed calls for every route of docs/server-api.md, over one ``Transport``."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Literal, overload

from .content_type import sniff_content_type
from .discovery import ServerEndpoint
from .errors import ClientError, ConnectionFailed, ProtocolError, WaitTimeoutError
from .event_stream import parse_events
from .layers import LAYER_NAMES, LayerName
from .model_upload import model_upload
from .options import SubmitOptions
from .raw_image import RawImage
from .records import Health, JobInfo, ModelInfo, parse_health, parse_job, parse_jobs, parse_model, parse_models
from .transport import Transport

LAYER_FORMATS: tuple[str, ...] = ("png", "tiff", "raw")
MASK_DTYPES: tuple[str, ...] = ("uint8", "uint16", "float32")
# How long an event stream may stay silent before ``wait`` stops trusting it and polls instead.
STREAM_SILENCE_SECONDS = 300.0


class Client:
    """A connection to one LDL Studio server; get one from ``connect()``. Safe to share between threads.

    Every method raises ``ServerError`` for an error answer (``.code``, ``.message``, ``.hint``, ``.status``),
    ``ConnectionFailed`` when no server answers, and ``ProtocolError`` for an answer it cannot read.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @property
    def endpoint(self) -> ServerEndpoint:
        """The server in use now; it changes when a restarted server is found again."""
        return self._transport.endpoint

    def health(self) -> Health:
        return parse_health(self._transport.request("GET", "/health").json())

    def models(self) -> list[ModelInfo]:
        return parse_models(self._transport.request("GET", "/models").json())

    def import_model(self, path: Path, name: str | None = None) -> ModelInfo:
        """Add the model file at ``path`` (``.pth``, ``.safetensors``, or an ncnn ``.param`` with its ``.bin``
        beside it) to the backend's catalog under ``name`` (default: from the file's name) and return its entry,
        ready to select. The backend checks it as ``ldl models import`` does: ``ServerError`` (with the reason and a
        hint) for a file that is not a model it can use or a name that is taken; ``ClientError`` when the file
        cannot be read here."""
        upload = model_upload(path, name)
        headers = {"Content-Type": upload.content_type}
        answer = self._transport.request("POST", f"/models/import?{upload.query()}", body=upload.body, headers=headers)
        return parse_model(answer.json())

    def submit(self, image: bytes | bytearray | memoryview | RawImage, options: SubmitOptions) -> JobInfo:
        """Queue an upscale of ``image``: PNG/TIFF/JPEG/WebP file bytes (the type is read from the first bytes;
        raises ``UnsupportedImageError`` for anything else) or uncompressed pixels as a ``RawImage``.
        """
        if isinstance(image, RawImage):
            body, headers = image.data, image.headers()
        else:
            body = bytes(image)
            headers = {"Content-Type": sniff_content_type(body)}
        answer = self._transport.request("POST", f"/jobs?{options.query()}", body=body, headers=headers).json()
        if isinstance(answer, dict) and "progress" in answer:
            return parse_job(answer)
        # The documented answer is only {"id", "state"}; the full record is one GET away.
        job_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(job_id, str):
            raise ProtocolError("the server accepted the job but sent no job id", "update LDL Studio")
        return self.job(job_id)

    def job(self, job_id: str) -> JobInfo:
        return parse_job(self._transport.request("GET", _job_path(job_id)).json())

    def jobs(self) -> list[JobInfo]:
        """All jobs the server knows, newest first."""
        return parse_jobs(self._transport.request("GET", "/jobs").json())

    def events(self, job_id: str, silence_timeout: float = STREAM_SILENCE_SECONDS) -> Generator[JobInfo, None, None]:
        """The job after each change, as the server streams it; ends when the job is final.

        Raises ``ConnectionFailed`` when the stream breaks or stays silent for ``silence_timeout`` seconds.
        """
        yield from self._follow(job_id, silence_timeout, None)

    def _follow(
        self, job_id: str, silence_timeout: float, interrupt: Callable[[], bool] | None
    ) -> Generator[JobInfo, None, None]:
        """``events``, ending early (without an error) once ``interrupt()`` is true, checked between lines."""
        target = _job_path(job_id, "events")
        headers = {"Accept": "text/event-stream"}
        with self._transport.stream("GET", target, headers=headers, timeout=silence_timeout) as response:
            last: JobInfo | None = None
            lines: Iterable[bytes] = response if interrupt is None else _until(response, interrupt)
            try:
                for event in parse_events(lines):
                    if event.event == "progress":
                        last = parse_job(_event_json(event.data))
                        yield last
                    elif event.event == "end":
                        # The API does not say what "end" carries; a final job there is reported, anything else not.
                        final = _optional_job(event.data)
                        if final is not None and final != last:
                            yield final
                        return
            except (OSError, ValueError) as e:
                # http.client raises ValueError when the socket was closed under it.
                raise ConnectionFailed(f"the event stream of job {job_id} broke: {e}", "") from e

    def wait(
        self,
        job_id: str,
        on_progress: Callable[[JobInfo], None] | None = None,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        stop: Callable[[], bool] | None = None,
    ) -> JobInfo:
        """Block until the job is final and return it; ``on_progress`` gets the job after each change seen.

        Follows the event stream and falls back to polling every ``poll_interval`` seconds when the stream is
        unavailable, breaks or ends early (e.g. the server restarted). Raises ``WaitTimeoutError`` after ``timeout``
        seconds (the job keeps running; cancel it if it is no longer wanted).

        ``stop`` (e.g. ``threading.Event.is_set``, for a cancel from another thread) is checked between the stream's
        lines (the server sends a keep-alive line every half second while nothing changes) and between polls; once
        it is true, ``wait`` returns the job as last seen, not final (the job keeps running: cancel it if need be).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        reported: list[JobInfo] = []

        def stopped() -> bool:
            return stop is not None and stop()

        def interrupt() -> bool:
            return stopped() or (deadline is not None and time.monotonic() >= deadline)

        def last_seen() -> JobInfo:
            return reported[-1] if reported else self.job(job_id)

        def report(job: JobInfo) -> None:
            if on_progress is not None and (not reported or reported[-1] != job):
                on_progress(job)
            reported[:] = [job]

        silence = STREAM_SILENCE_SECONDS if timeout is None else max(0.05, min(STREAM_SILENCE_SECONDS, timeout))
        stream = self._follow(job_id, silence, interrupt)
        try:
            for job in stream:
                report(job)
                if job.state.is_final:
                    return job
                _check_deadline(job_id, deadline)
        except WaitTimeoutError:
            raise
        except (ClientError, OSError):
            # Polling below reports the real problem (an unknown job, a server gone) if there is one.
            pass
        finally:
            stream.close()
        while True:
            if stopped():
                return last_seen()
            job = self.job(job_id)
            report(job)
            if job.state.is_final:
                return job
            _check_deadline(job_id, deadline)
            pause = poll_interval if deadline is None else min(poll_interval, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)

    def cancel(self, job_id: str) -> JobInfo:
        """Ask the job to stop (409 ``conflict`` when it is already final); it ends ``cancelled``."""
        return parse_job(self._transport.request("POST", _job_path(job_id, "cancel")).json())

    @overload
    def layer(self, job_id: str, name: LayerName, format: Literal["png", "tiff"] = "png") -> bytes: ...
    @overload
    def layer(self, job_id: str, name: LayerName, format: Literal["raw"]) -> RawImage: ...
    def layer(self, job_id: str, name: LayerName, format: Literal["png", "tiff", "raw"] = "png") -> bytes | RawImage:
        """One layer of a succeeded job (409 before): PNG/TIFF file bytes at the job's bit depth (map and mask:
        16-bit gray), or ``format="raw"`` pixels (map and mask: 1 channel float32 in [0, 1]).
        """
        if name not in LAYER_NAMES:
            raise ValueError(f"layer {name!r} is not one of {', '.join(LAYER_NAMES)}")
        if format not in LAYER_FORMATS:
            raise ValueError(f"layer format {format!r} is not one of {', '.join(LAYER_FORMATS)}")
        target = f"{_job_path(job_id, 'layers', name)}?{urllib.parse.urlencode({'format': format})}"
        response = self._transport.request("GET", target, headers={"Accept": "*/*"})
        if format == "raw":
            return RawImage.from_headers(response.headers, response.body)
        return response.body

    def reblend(
        self,
        job_id: str,
        *,
        threshold: float | None = None,
        softness: float | None = None,
        mask: RawImage | None = None,
    ) -> JobInfo:
        """Recompute ``mask`` and ``blend`` of a succeeded job without re-running the model.

        Give both ``threshold`` and ``softness`` (in [0, 1]), or a painted ``mask`` (1 channel, the output's size,
        1 = keep detail). Raises ``ValueError`` for any other combination.
        """
        target = _job_path(job_id, "reblend")
        if mask is not None:
            if threshold is not None or softness is not None:
                raise ValueError("give either a mask or threshold and softness, not both")
            if mask.channels != 1 or mask.dtype not in MASK_DTYPES:
                raise ValueError(
                    f"a mask has 1 channel of uint8, uint16 or float32; got {mask.channels} of {mask.dtype}"
                )
            response = self._transport.request("POST", target, body=mask.data, headers=mask.headers())
            return parse_job(response.json())
        if threshold is None or softness is None:
            # Sending a default for the missing one would silently undo the user's earlier choice.
            raise ValueError("give both threshold and softness (or a mask)")
        body = json.dumps({"threshold": float(threshold), "softness": float(softness)}).encode("utf-8")
        response = self._transport.request("POST", target, body=body, headers={"Content-Type": "application/json"})
        return parse_job(response.json())

    def delete(self, job_id: str) -> None:
        """Forget the job and its layers (409 ``conflict`` while it runs: cancel first)."""
        self._transport.request("DELETE", _job_path(job_id))


def _job_path(job_id: str, *rest: str) -> str:
    # Quoted whole, so an id can never reach another route.
    return "/".join(["/jobs", urllib.parse.quote(job_id, safe=""), *rest])


def _event_json(data: str) -> object:
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise ProtocolError("the server sent an event that is not JSON", "update LDL Studio") from e


def _optional_job(data: str) -> JobInfo | None:
    try:
        return parse_job(json.loads(data))
    except (json.JSONDecodeError, ProtocolError):
        return None


def _until(lines: Iterable[bytes], interrupt: Callable[[], bool]) -> Iterator[bytes]:
    for line in lines:
        if interrupt():
            return
        yield line


def _check_deadline(job_id: str, deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise WaitTimeoutError(
            f"job {job_id} is not finished yet",
            "it keeps running on the server; wait again, or cancel it",
        )
