"""``ldl serve`` as a real process with its own ``LDL_STUDIO_HOME``, and a client library connection to it: for the
tests of what only a whole process shows (its umask, its exit)."""

from __future__ import annotations

import dataclasses
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ldl_client import Client, ConnectSettings, connect

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


def wait_for(condition: Callable[[], object], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    """Processes ``pid`` started, from any of its threads (the worker comes from the supervisor's)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found.update(int(child) for child in (task / "children").read_text().split())
    return found
