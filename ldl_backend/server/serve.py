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
from ldl_backend.server.supervisor import Supervisor

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
    """Refuses (``LdlError``) when another live server owns the discovery file; ``OSError`` when the port is taken."""
    check_not_running(discovery_path(config.runtime_dir))
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
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
        app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=3, server_header=False
    )
    return PreparedServer(port, token, uvicorn.Server(uvicorn_config), listener, context.supervisor)
