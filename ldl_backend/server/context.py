"""What the route handlers share: built once per server in ``app.create_app`` and passed in (no globals)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ldl_backend.models.store import ModelStore
from ldl_backend.server.config import ServerConfig
from ldl_backend.server.devices import DeviceList
from ldl_backend.server.job_events import JobEvents
from ldl_backend.server.jobs import JobStore
from ldl_backend.server.layer_cache import LayerCache
from ldl_backend.server.supervisor import Supervisor


@dataclass(frozen=True)
class ServerContext:
    config: ServerConfig
    version: str
    jobs: JobStore
    cache: LayerCache
    models: ModelStore
    supervisor: Supervisor
    # Wakes the /events streams of a job when it changes; shared with the supervisor.
    job_events: JobEvents
    # Re-blends of one server run one at a time, so a job's mask and blend files always belong together.
    reblend_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Submissions take their room in the cache one at a time, so two cannot both count the same free bytes.
    submit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    devices: DeviceList = field(default_factory=DeviceList)
