"""The server's answers (docs/server-api.md) as typed records: the server writes them with ``to_json`` and the clients
read them with the ``parse_*`` functions, strictly enough to catch a wrong server."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ProtocolError


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


UNFINISHED_STATES = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class Progress:
    """Work units ``done`` of ``total`` over the whole job (one unit: a network pass over one tile; the reference's
    passes, the map and the blend count too), ``stage`` names what runs now (``detail``, ``reference 3/8``, ``map``,
    ``blend``); ``eta_seconds`` is None while unknown."""

    done: int
    total: int
    stage: str
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        """In [0, 1]; 0 while the total is not known yet."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


@dataclass(frozen=True)
class JobInfo:
    """One job as the server reports it. ``created``/``updated`` are Unix seconds; width/height are the output's."""

    id: str
    state: JobState
    model: str
    created: float
    updated: float
    progress: Progress
    error: JobError | None
    width: int | None
    height: int | None

    def to_json(self) -> dict[str, Any]:
        progress = self.progress
        return {
            "id": self.id,
            "state": self.state.value,
            "model": self.model,
            "created": self.created,
            "updated": self.updated,
            "progress": {
                "done": progress.done,
                "total": progress.total,
                "stage": progress.stage,
                "eta_seconds": progress.eta_seconds,
            },
            "error": None if self.error is None else self.error.to_json(),
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class Health:
    """``devices``: where jobs can run (``SubmitOptions.device``), ``cpu`` first, e.g. ``("cpu", "cuda:0")``;
    ``("cpu",)`` from an older server that does not say."""

    status: str
    version: str
    api: int
    worker: str
    queued: int
    running: int
    devices: tuple[str, ...] = ("cpu",)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "version": self.version,
            "api": self.api,
            "worker": self.worker,
            "queued": self.queued,
            "running": self.running,
            "devices": list(self.devices),
        }


class Availability(str, enum.Enum):
    """Whether a catalog model can run now, and if not, how the user gets it."""

    READY = "ready"  # installed
    PACKAGED = "packaged"  # shipped in an installed Python package, converted on the first job (no download)
    DOWNLOAD = "download"  # `ldl models fetch NAME` downloads it and checks its sha256; the server never downloads
    MANUAL = "manual"  # downloaded by hand (``ModelInfo.note`` says from where), then imported

    @property
    def usable(self) -> bool:
        """A job with this model runs without the user doing anything first."""
        return self in (Availability.READY, Availability.PACKAGED)


@dataclass(frozen=True)
class ModelInfo:
    """A catalog entry. ``seconds_per_megapixel``: the server's prior for one model pass per output megapixel on a
    two-core CPU (the time estimate starts there); None from an older server that does not say. ``availability``:
    whether it runs now (None from an older server: then ``installed`` decides); ``note``: for the user, how it
    becomes available (or that a packaged model is converted on first use)."""

    name: str
    architecture: str
    scale: int
    installed: bool
    role: str
    description: str
    seconds_per_megapixel: float | None = None
    availability: Availability | None = None
    note: str = ""

    @property
    def usable(self) -> bool:
        """A job with this model runs now (the server would accept it)."""
        return self.availability.usable if self.availability is not None else self.installed

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "architecture": self.architecture,
            "scale": self.scale,
            "installed": self.installed,
            "role": self.role,
            "description": self.description,
            "seconds_per_megapixel": self.seconds_per_megapixel,
            "availability": None if self.availability is None else self.availability.value,
            "note": self.note,
        }


def _field(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = data.get(name)
    # bool is an int in Python; a JSON true where a count belongs is still a wrong answer.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProtocolError(f"the server's {what} has no valid {name!r} field (got {value!r})", _UPGRADE_HINT)
    return value


def _optional(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    return None if data.get(name) is None else _field(data, name, kind, what)


def _timestamp(data: Mapping[str, Any], name: str) -> float:
    # The API leaves the time format open; accept Unix seconds or ISO 8601 (with "Z", which 3.10 cannot parse).
    value = data.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=datetime.timezone.utc)
            return parsed.timestamp()
    raise ProtocolError(f"the server's job has no valid {name!r} time (got {value!r})", _UPGRADE_HINT)


def mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"the server's {what} is not a JSON object", _UPGRADE_HINT)
    return value


def parse_job(value: object) -> JobInfo:
    data = mapping(value, "job")
    progress = mapping(data.get("progress"), "job progress")
    error = data.get("error")
    state = _field(data, "state", str, "job")
    try:
        job_state = JobState(state)
    except ValueError as e:
        raise ProtocolError(f"the server reports an unknown job state {state!r}", _UPGRADE_HINT) from e
    job_error = None
    if error is not None:
        fields = mapping(error, "job error")
        job_error = JobError(
            code=_field(fields, "code", str, "job error"),
            message=_field(fields, "message", str, "job error"),
            hint=_field(fields, "hint", str, "job error"),
        )
    eta = _optional(progress, "eta_seconds", (int, float), "job progress")
    return JobInfo(
        id=_field(data, "id", str, "job"),
        state=job_state,
        model=_field(data, "model", str, "job"),
        created=_timestamp(data, "created"),
        updated=_timestamp(data, "updated"),
        progress=Progress(
            done=_field(progress, "done", int, "job progress"),
            total=_field(progress, "total", int, "job progress"),
            stage=_field(progress, "stage", str, "job progress"),
            eta_seconds=None if eta is None else float(eta),
        ),
        error=job_error,
        width=_optional(data, "width", int, "job"),
        height=_optional(data, "height", int, "job"),
    )


def parse_jobs(value: object) -> list[JobInfo]:
    jobs = mapping(value, "job list").get("jobs")
    if not isinstance(jobs, list):
        raise ProtocolError("the server's job list has no 'jobs' array", _UPGRADE_HINT)
    return [parse_job(job) for job in jobs]


def parse_health(value: object) -> Health:
    data = mapping(value, "health report")
    return Health(
        status=_field(data, "status", str, "health report"),
        version=_field(data, "version", str, "health report"),
        api=_field(data, "api", int, "health report"),
        worker=_field(data, "worker", str, "health report"),
        queued=_field(data, "queued", int, "health report"),
        running=_field(data, "running", int, "health report"),
        devices=_devices(data),
    )


def _devices(data: Mapping[str, Any]) -> tuple[str, ...]:
    if "devices" not in data:  # a server from before the device option: it ran everything on its own choice
        return ("cpu",)
    devices = data["devices"]
    if not isinstance(devices, list) or not devices or not all(isinstance(d, str) for d in devices):
        raise ProtocolError(f"the server's health report has no valid 'devices' list (got {devices!r})", _UPGRADE_HINT)
    return tuple(devices)


def parse_models(value: object) -> list[ModelInfo]:
    models = mapping(value, "model list").get("models")
    if not isinstance(models, list):
        raise ProtocolError("the server's model list has no 'models' array", _UPGRADE_HINT)
    return [parse_model(item) for item in models]


def parse_model(value: object) -> ModelInfo:
    data = mapping(value, "model")
    return ModelInfo(
        name=_field(data, "name", str, "model"),
        architecture=_field(data, "architecture", str, "model"),
        scale=_field(data, "scale", int, "model"),
        installed=_field(data, "installed", bool, "model"),
        # Descriptive text only: a missing one must not make the whole list unreadable.
        role=str(data.get("role") or ""),
        description=str(data.get("description") or ""),
        seconds_per_megapixel=_prior(data),
        availability=_availability(data),
        note=str(data.get("note") or ""),
    )


def _availability(data: Mapping[str, Any]) -> Availability | None:
    # Absent from an older server, unknown from a newer one: either way ``installed`` decides.
    try:
        return Availability(data.get("availability"))
    except ValueError:
        return None


def _prior(data: Mapping[str, Any]) -> float | None:
    value = data.get("seconds_per_megapixel")
    # A hint for the estimate only: an odd value falls back to the client's guess instead of failing the list.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


_UPGRADE_HINT = "the server and this client may be different versions; update LDL Studio so both match"
