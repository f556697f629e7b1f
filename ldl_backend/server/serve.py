"""Run the server: bind the socket first (so the port is known), then uvicorn on it with the app's lifespan."""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from ldl_backend.server.app import build_context, create_app
from ldl_backend.server.config import ServerConfig
from ldl_backend.server.discovery import check_not_running, discovery_path
from ldl_backend.server.http_protocol import protocol_class
from ldl_backend.server.idle_exit import IdleExitServer
from ldl_backend.server.private_folders import ensure_private_folder, tighten_files
from ldl_backend.server.supervisor import Supervisor
from ldl_client.records import JobState

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedServer:
    """A bound, listening server that has not started serving: ``run()`` blocks until ``stop()``."""

    port: int
    token: str
    server: uvicorn.Server
    listener: socket.socket
    supervisor: Supervisor

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.listener])
        finally:
            self.listener.close()

    def stop(self) -> None:
        self.server.should_exit = True

    @property
    def started(self) -> bool:
        return self.server.started

    @property
    def worker_pid(self) -> int | None:
        return self.supervisor.worker_pid


def prepare_server(config: ServerConfig, models_dir: Path, version: str) -> PreparedServer:
    """Refuses (``LdlError``) when another live server owns the discovery file or a folder is not private
    (``InsecureFolderError``); ``OSError`` when the port is taken."""
    for folder in (config.runtime_dir, config.data_dir, config.cache_dir):
        ensure_private_folder(folder)
    for folder in (config.data_dir, config.cache_dir):
        tighten_files(folder)
    check_not_running(discovery_path(config.runtime_dir))
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections whose listener says TCP (else each request
    # on a kept-alive connection waits ~40 ms for a delayed ACK). The protocol sets it too, whatever the listener.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.bind((config.host.strip("[]"), config.port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    port = int(listener.getsockname()[1])
    token = secrets.token_urlsafe(32)
    context = build_context(config, models_dir, version)
    app = create_app(context, port=port, token=token)
    # No access log: a client that wrongly puts its token in a URL must not get it written anywhere.
    uvicorn_config = uvicorn.Config(
        app,
        http=protocol_class(config.connections),
        ws="none",  # the API has no websockets: an upgrade request stays plain HTTP, under the same limits
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    jobs = context.jobs

    def has_jobs() -> bool:
        return jobs.count(JobState.QUEUED) + jobs.count(JobState.RUNNING) > 0

    server = IdleExitServer(uvicorn_config, config.idle_exit, has_jobs)
    return PreparedServer(port, token, server, listener, context.supervisor)
