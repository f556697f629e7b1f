"""``GET /models``: a catalog entry and its status as the client's ``ModelInfo``."""

from __future__ import annotations

from ldl_backend.models.architectures.registry import architecture_spec
from ldl_backend.models.store import ModelStatus
from ldl_client.records import ModelInfo


def model_info(status: ModelStatus) -> ModelInfo:
    entry = status.entry
    return ModelInfo(
        name=entry.name,
        architecture=entry.architecture,
        scale=entry.scale,
        installed=status.installed,
        role=entry.role.value,
        description=entry.description,
        # The architecture's prior; the clients' estimates learn this machine's own rate from finished jobs.
        seconds_per_megapixel=architecture_spec(entry.architecture).prior_seconds_per_megapixel,
        availability=status.availability,
        note=status.note,
    )
