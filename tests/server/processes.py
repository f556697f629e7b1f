"""``ldl serve`` as a real process (so that a test can kill it), and its process tree read from /proc.

The fault and load tests use these: a server in a thread of the test process cannot be killed, and shares the GIL
with the client it is measured by.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from ldl_backend.server import PreparedServer
from tests.server.conftest import Server

REPOSITORY = Path(__file__).parents[2]
START_TIMEOUT = 60
# What the issue allows a killed server's processes to linger.
ORPHAN_SECONDS = 30.0
# The spawned worker's command line (multiprocessing's "spawn" start method).
_WORKER_MARK = "multiprocessing.spawn"


def children(pid: int) -> set[int]:
    """Processes ``pid`` started, from any of its threads (the worker comes from the supervisor's thread)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:  # the thread ended meanwhile
            continue
    return found


def descendants(pid: int) -> set[int]:
    """Children, their children, and so on."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()) - found:
            found.add(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers until whoever adopted it reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def niceness(pid: int) -> dict[int, int]:
    """The niceness of each thread of ``pid`` (Linux keeps it per thread)."""
    found: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found[int(task.name)] = int((task / "stat").read_text().rpartition(")")[2].split()[16])
        except OSError:  # the thread ended meanwhile
            continue
    return found


def workers(pid: int) -> set[int]:
    """The worker processes among ``pid``'s children (not multiprocessing's resource tracker)."""
    return {child for child in children(pid) if _WORKER_MARK in command_line(child) and running(child)}


def assert_all_gone(pids: Iterable[int], timeout: float = ORPHAN_SECONDS) -> float:
    """Wait until none of ``pids`` runs; the seconds that took. Fails naming the survivors and their commands."""
    pending = set(pids)
    started = time.monotonic()
    while True:
        pending = {pid for pid in pending if running(pid)}
        if not pending:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            survivors = {pid: command_line(pid)[:160] for pid in pending}
            raise AssertionError(f"still running {timeout:.0f} s later: {survivors}")
        time.sleep(0.05)


def wait_for(condition: Callable[[], object], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@dataclass(frozen=True)
class _ProcessHandle:
    """What ``conftest.Server`` reads from its handle, for a server in another process."""

    port: int
    token: str
    pid: int

    @property
    def worker_pid(self) -> int | None:
        found = workers(self.pid)
        return min(found) if len(found) == 1 else None


@dataclass
class ServeProcess:
    """One ``ldl serve`` process with ``LDL_STUDIO_HOME=home``; ``server`` talks to it as to a test server."""

    home: Path
    process: subprocess.Popen[str]
    server: Server

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache" / "server"

    def kill(self) -> set[int]:
        """SIGKILL the server alone (as the OOM killer would); the processes it had started, to watch."""
        left = descendants(self.pid)
        self.process.kill()
        self.process.wait(START_TIMEOUT)
        # Not communicate(): a surviving child holds the same stdout and stderr, so reading to their end would
        # wait for it too.
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return left

    def stop(self) -> tuple[int, str, set[int]]:
        """SIGTERM and wait: the exit code, stderr and the processes it had started."""
        left = descendants(self.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=START_TIMEOUT)
        return self.process.returncode, err, left


def _command(arguments: tuple[str, ...], worker: str | None) -> list[str]:
    if worker is None:
        return [sys.executable, "-m", "ldl_backend.cli", "serve", *arguments]
    # The same command with the supervisor spawning a stand-in from worker_targets instead of the real worker loop.
    code = (
        "import sys; from ldl_backend.server import supervisor; from tests.server import worker_targets; "
        f"supervisor.serve_jobs = worker_targets.{worker}; "
        "from ldl_backend.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return [sys.executable, "-c", code, "serve", *arguments]


def start_serve(home: Path, *arguments: str, worker: str | None = None) -> ServeProcess:
    """Start ``ldl serve`` and wait until its worker is ready; ``worker``: a stand-in's name in ``worker_targets``."""
    process = subprocess.Popen(
        _command(arguments, worker),
        cwd=REPOSITORY,
        env=dict(os.environ, LDL_STUDIO_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline() if ready else ""
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, f"`ldl serve` did not start: {line!r}"
        discovery = home / "run" / "server.json"
        # A killed server's stale file may still be there until this one replaces it.
        wait_for(lambda: _discovery_pid(discovery) == process.pid, "the discovery file")
        token = json.loads(discovery.read_text("utf-8"))["token"]
        handle = _ProcessHandle(int(match[1]), token, process.pid)
        server = Server(cast(PreparedServer, handle), home)
        wait_for(lambda: server.healthy()["worker"] in ("ready", "busy"), "the worker")
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return ServeProcess(home, process, server)


def _discovery_pid(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text("utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def serving(home: Path, *arguments: str, worker: str | None = None) -> Iterator[ServeProcess]:
    """``start_serve``, and on the way out the process and its children killed if the test left them running."""
    started = start_serve(home, *arguments, worker=worker)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            for pid in started.kill():
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
