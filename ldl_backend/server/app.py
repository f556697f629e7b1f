"""The Starlette application: routes, JSON errors for unknown routes, the security middleware, and a lifespan
that starts the worker's supervisor and writes the discovery file (removed again on a clean exit)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.server.budget import job_tile_memory
from ldl_backend.server.config import ServerConfig
from ldl_backend.server.context import ServerContext
from ldl_backend.server.discovery import discovery_path
from ldl_backend.server.job_events import JobEvents
from ldl_backend.server.jobs import JobStore
from ldl_backend.server.layer_cache import LayerCache
from ldl_backend.server.routes import Routes, error_response, guarded
from ldl_backend.server.security import SecurityMiddleware, allowed_hosts
from ldl_backend.server.supervisor import Supervisor
from ldl_backend.server.worker import WorkerSettings
from ldl_client.discovery import remove_discovery_file, write_discovery_file
from ldl_client.records import JobState

DATABASE_FILE = "jobs.sqlite3"


def build_context(config: ServerConfig, models_dir: Path, version: str) -> ServerContext:
    """Open the job database (jobs a previous run left unfinished become ``interrupted``) and clean the cache."""
    jobs = JobStore(config.data_dir / DATABASE_FILE)
    jobs.interrupt_unfinished()
    cache = LayerCache(config.cache_dir)
    cache.remove_leftovers({job.id for job in jobs.all() if job.state is JobState.SUCCEEDED})
    events = JobEvents()
    supervisor = Supervisor(
        WorkerSettings(models_dir, config.cache_dir, config.model_memory, job_tile_memory(config.max_job_memory)),
        jobs,
        cache,
        config.cache_bytes,
        events,
    )
    return ServerContext(config, version, jobs, cache, ModelStore(models_dir, builtin_catalog()), supervisor, events)


def create_app(context: ServerContext, *, port: int, token: str) -> Starlette:
    """The ASGI app for a server listening on ``port``."""
    routes = Routes(context)
    table = [
        Route("/health", guarded(routes.health), methods=["GET"]),
        Route("/models", guarded(routes.models), methods=["GET"]),
        Route("/models/import", guarded(routes.import_model), methods=["POST"]),
        Route("/openapi.json", guarded(routes.openapi), methods=["GET"]),
        Route("/jobs", guarded(routes.list_jobs), methods=["GET"]),
        Route("/jobs", guarded(routes.submit), methods=["POST"]),
        Route("/jobs/{id}", guarded(routes.get_job), methods=["GET"]),
        Route("/jobs/{id}", guarded(routes.delete), methods=["DELETE"]),
        Route("/jobs/{id}/events", guarded(routes.events), methods=["GET"]),
        Route("/jobs/{id}/layers/{name}", guarded(routes.layer), methods=["GET"]),
        Route("/jobs/{id}/cancel", guarded(routes.cancel), methods=["POST"]),
        Route("/jobs/{id}/reblend", guarded(routes.reblend), methods=["POST"]),
    ]
    config = context.config
    extra_host = None if config.host in ("127.0.0.1", "localhost", "::1") else config.host
    middleware = [
        Middleware(
            SecurityMiddleware,  # type: ignore[arg-type]
            hosts=allowed_hosts(port, extra_host),
            token=token,
            max_body=config.max_body,
        )
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        path = discovery_path(config.runtime_dir)
        context.supervisor.start()
        write_discovery_file(path, port=port, pid=os.getpid(), token=token, version=context.version)
        try:
            yield
        finally:
            remove_discovery_file(path, os.getpid())
            context.supervisor.stop()
            context.jobs.interrupt_unfinished()
            context.jobs.close()

    app = Starlette(
        routes=table,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
        lifespan=lifespan,
    )
    # A trailing slash is an unknown route (JSON 404), not a bare 307 redirect: every non-2xx answer is JSON.
    app.router.redirect_slashes = False
    return app


async def _http_error(_: Request, error: HTTPException) -> Response:
    if error.status_code == 405:
        return error_response(405, "method_not_allowed", "this route does not take that method", "see /openapi.json")
    return error_response(error.status_code, "not_found", "no such route", "see /openapi.json")
