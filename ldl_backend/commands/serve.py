"""``ldl serve``: the local backend for the desktop app and the Krita/GIMP plug-ins."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os

from ldl_backend import __version__
from ldl_backend.engine.files import DEFAULT_MAX_OUTPUT_PIXELS
from ldl_backend.errors import LdlError
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import cache_root, data_root, runtime_root
from ldl_backend.server import ServerConfig, prepare_server
from ldl_backend.server.config import DEFAULT_CACHE_BYTES, DEFAULT_MAX_BODY, DEFAULT_QUEUE_LIMIT
from ldl_backend.server.connection_limits import ConnectionLimits
from ldl_backend.server.host_memory import default_job_memory
from ldl_backend.server.private_folders import PRIVATE_UMASK
from ldl_client.connection import DEFAULT_IDLE_EXIT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port, printed at start)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --host (anyone with the token can use it)"
    )
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest request body in bytes")
    parser.add_argument("--queue-limit", type=int, default=DEFAULT_QUEUE_LIMIT, help="most jobs waiting at once")
    parser.add_argument(
        "--cache-bytes", type=int, default=DEFAULT_CACHE_BYTES, help="size limit of stored inputs and layers"
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_OUTPUT_PIXELS,
        help="refuse jobs whose output would be larger than this many pixels, as `ldl upscale --max-pixels` "
        "(default: 1 gigapixel)",
    )
    parser.add_argument(
        "--max-job-memory",
        type=int,
        default=None,
        metavar="BYTES",
        help="refuse jobs estimated to need more memory than this (default: 3/4 of this machine's RAM)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=ConnectionLimits.max_connections,
        help="connections kept at once; idle ones are closed first to make room (default %(default)s)",
    )
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long with no request and no job (default: run until stopped; "
        f"the app and plug-ins start servers with {DEFAULT_IDLE_EXIT:g})",
    )


def run(arguments: argparse.Namespace, store: ModelStore) -> int:
    try:
        config = ServerConfig(
            data_dir=data_root() / "server",
            cache_dir=cache_root() / "server",
            runtime_dir=runtime_root(),
            host=arguments.host,
            port=arguments.port,
            allow_remote=arguments.allow_remote,
            max_body=arguments.max_body,
            queue_limit=arguments.queue_limit,
            cache_bytes=arguments.cache_bytes,
            max_output_pixels=arguments.max_pixels,
            max_job_memory=default_job_memory() if arguments.max_job_memory is None else arguments.max_job_memory,
            connections=ConnectionLimits(max_connections=arguments.max_connections),
            idle_exit=arguments.idle_exit,
        )
    except ValueError as error:
        raise LdlError(str(error), "see `ldl serve --help`") from error
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The user's photos pass through this process and its worker (which inherits the mask): whatever they create
    # without an explicit mode (SQLite's -wal/-shm, layers, scratch files) is the user's alone.
    os.umask(PRIVATE_UMASK)
    try:
        server = prepare_server(config, store.root, __version__)
    except OSError as error:
        raise LdlError(
            f"cannot listen on {config.host}:{config.port}: {error.strerror}", "choose another --port"
        ) from error
    print(f"listening on {config.host}:{server.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its clean shutdown: a normal stop
        server.run()
    print("stopped", flush=True)
    return 0
