"""The server's settings, fixed at start."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from ldl_backend.engine.files import DEFAULT_MAX_OUTPUT_PIXELS
from ldl_backend.server.connection_limits import ConnectionLimits
from ldl_backend.server.host_memory import default_job_memory

DEFAULT_MAX_BODY = 512 * 1024 * 1024
DEFAULT_QUEUE_LIMIT = 32
DEFAULT_CACHE_BYTES = 8 * 1024 * 1024 * 1024
# Weights kept loaded between jobs (x4plus is 67 MB in fp32): several models, never a surprise on a laptop.
DEFAULT_MODEL_MEMORY = 1 << 30


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """``data_dir``: the job database. ``cache_dir``: uploaded inputs and result layers (``cache_bytes`` at most).
    ``runtime_dir``: the discovery file. ``max_body``: request body limit in bytes. ``queue_limit``: queued jobs
    beyond which submissions get 429. ``max_pixels``: input pixel budget, checked before decoding.
    ``max_output_pixels``: output pixel budget (``ldl upscale --max-pixels``'s). ``max_job_memory``: bytes one job
    may take at its peak, estimated from the image's header (default: 3/4 of this machine's RAM). ``connections``:
    timeouts and the connection count. ``idle_exit``: seconds with no request and no job after which the server stops
    (None: it runs until stopped; ``ldl_client.connect`` starts servers with a value)."""

    data_dir: Path
    cache_dir: Path
    runtime_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    max_body: int = DEFAULT_MAX_BODY
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    cache_bytes: int = DEFAULT_CACHE_BYTES
    max_pixels: int = 178_956_970
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS
    max_job_memory: int = field(default_factory=default_job_memory)
    model_memory: int = DEFAULT_MODEL_MEMORY
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    idle_exit: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"{self.host} is not a loopback address; the server accepts local connections only "
                "(pass --allow-remote to bind it anyway, at your own risk)"
            )
        if self.idle_exit is not None and not self.idle_exit > 0:
            raise ValueError(f"idle_exit must be a positive number of seconds, not {self.idle_exit}")
        for name in (
            "max_body",
            "queue_limit",
            "cache_bytes",
            "max_pixels",
            "max_output_pixels",
            "max_job_memory",
            "model_memory",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
