"""``ldl serve`` as a real process with its own ``LDL_STUDIO_HOME``, and a client library connection to it: for the
tests of what only a whole process shows (its umask, its exit)."""

from __future__ import annotations

import dataclasses
import os
import select
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ldl_client import Client, ConnectSettings, connect
from tests.server.processes import wait_for

START_TIMEOUT = 60


def environment(home: Path) -> Mapping[str, str]:
    return {**os.environ, "LDL_STUDIO_HOME": str(home)}


def serve(home: Path, *arguments: str) -> subprocess.Popen[str]:
    """Start ``ldl serve ARGUMENTS`` and return once clients can find it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ldl_backend.cli", "serve", *arguments],
        env=dict(environment(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("listening on "):
        process.kill()
        raise AssertionError(f"`ldl serve` did not start: {line!r} {process.communicate()}")
    # The discovery file comes once the app has started, just after the first line.
    wait_for(lambda: (home / "run" / "server.json").exists() or process.poll() is not None, "the discovery file")
    return process


def client(home: Path, **settings: object) -> Client:
    """A client of the server in ``home``; ``settings`` as ``ConnectSettings`` (default: never start one)."""
    defaults = ConnectSettings(start_server=False, environment=environment(home), request_timeout=30.0)
    return connect(timeout=START_TIMEOUT, settings=dataclasses.replace(defaults, **settings))
