"""``ldl serve`` as users and the client library start it: a real process with its own ``LDL_STUDIO_HOME``."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ldl_client.liveness import pid_alive
from tests.server.processes import children, running, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")
START_TIMEOUT = 60


@dataclass(frozen=True)
class Running:
    process: subprocess.Popen[str]
    port: int
    discovery_file: Path

    def get(self, path: str, token: str | None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Host": f"127.0.0.1:{self.port}"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()


def serve(home: Path, *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ldl_backend.cli", "serve", *arguments],
        env=dict(os.environ, LDL_STUDIO_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready:
        process.kill()
        raise AssertionError(f"`ldl serve` printed nothing in {START_TIMEOUT} s: {process.communicate()}")
    return process.stdout.readline()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Running]:
    process = serve(tmp_path)
    try:
        line = first_line(process)
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, f"unexpected first line {line!r}"
        discovery_file = tmp_path / "run" / "server.json"
        wait_for(discovery_file.exists, "the discovery file")
        yield Running(process, int(match[1]), discovery_file)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_serve_announces_itself_and_cleans_up_on_sigint(started: Running, tmp_path: Path) -> None:
    process, path = started.process, started.discovery_file
    assert path.stat().st_mode & 0o777 == 0o600
    discovery = json.loads(path.read_text("utf-8"))
    assert set(discovery) == {"port", "pid", "token", "version", "api"}
    assert discovery["port"] == started.port and discovery["api"] == 1
    assert discovery["pid"] == process.pid and pid_alive(discovery["pid"])

    assert started.get("/health", None)[0] == 401
    status, health = started.get("/health", discovery["token"])
    assert status == 200 and health["status"] == "ok" and health["version"] == discovery["version"]
    wait_for(lambda: started.get("/health", discovery["token"])[1]["worker"] == "ready", "the worker")
    spawned = children(process.pid)
    assert spawned, "the worker process is missing"

    # A second server in the same home: refused while this one lives, and a public address without --allow-remote.
    remote = serve(tmp_path, "--host", "0.0.0.0")
    second = serve(tmp_path)
    for attempt, expected in ((remote, "--allow-remote"), (second, "already running")):
        out, err = attempt.communicate(timeout=START_TIMEOUT)
        assert attempt.returncode == 2 and expected in err and "Traceback" not in err, (attempt.returncode, out, err)
        assert "listening" not in out
    assert json.loads(path.read_text("utf-8")) == discovery  # untouched by the refused ones

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=START_TIMEOUT)
    # 130 is the shell's convention for "stopped by Ctrl-C"; either way after a clean shutdown.
    assert process.returncode in (0, 130), (process.returncode, err)
    assert "Traceback" not in err, err
    assert not path.exists()
    wait_for(lambda: not any(running(pid) for pid in spawned), "the worker to exit", timeout=10)


def test_serve_cleans_up_on_sigterm(started: Running) -> None:
    started.process.send_signal(signal.SIGTERM)
    _, err = started.process.communicate(timeout=START_TIMEOUT)
    # uvicorn shuts down gracefully, then re-raises the signal so that the parent sees how its child ended.
    assert started.process.returncode in (0, -signal.SIGTERM), (started.process.returncode, err)
    assert "Traceback" not in err, err
    assert not started.discovery_file.exists()
