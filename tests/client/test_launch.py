"""Starting a server when none runs: the command line, the log file, and clear errors when it does not come up."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from ldl_client import ConnectSettings, ServerStartFailed, connect
from ldl_client.launcher import server_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake interpreter is a POSIX script")


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """An "interpreter" that runs fake_serve.py whatever arguments it gets (it is given ``-m ldl_backend.cli``)."""
    script = tmp_path / "fake-python"
    serve = Path(__file__).with_name("fake_serve.py")
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{serve}" "$@"\n')
    script.chmod(0o755)
    return script


def launch_settings(home: Path, python: Path, mode: str) -> ConnectSettings:
    environment = {**os.environ, "LDL_STUDIO_HOME": str(home), "FAKE_SERVE": mode}
    return ConnectSettings(python=str(python), environment=environment, request_timeout=5)


def test_the_command_line() -> None:
    assert server_command("/opt/py") == ["/opt/py", "-m", "ldl_backend.cli", "serve"]
    assert server_command("/opt/py", 90.5) == ["/opt/py", "-m", "ldl_backend.cli", "serve", "--idle-exit", "90.5"]


def test_starts_a_server_and_waits_for_health(home: Path, fake_python: Path) -> None:
    client = connect(timeout=10, settings=launch_settings(home, fake_python, "serve"))
    try:
        assert client.health().ok
        assert client.endpoint.pid != os.getpid()
        log = (home / "logs" / "server.log").read_text()
        # A server started on demand stops once no front end has used it for a while (ConnectSettings.idle_exit).
        assert "fake serve serve args=['-m', 'ldl_backend.cli', 'serve', '--idle-exit', '600']" in log
        # A second connect finds the running one instead of starting another.
        assert connect(timeout=1, settings=launch_settings(home, fake_python, "crash")).endpoint == client.endpoint
    finally:
        os.kill(client.endpoint.pid, signal.SIGTERM)


def test_a_server_that_exits_names_the_log(home: Path, fake_python: Path) -> None:
    with pytest.raises(ServerStartFailed, match="exited with code 3") as caught:
        connect(timeout=10, settings=launch_settings(home, fake_python, "crash"))
    log_file = str(home / "logs" / "server.log")
    assert caught.value.log_file == log_file and log_file in caught.value.hint
    assert "boom: no model found" in caught.value.message


def test_a_server_that_never_answers_times_out(home: Path, fake_python: Path) -> None:
    try:
        with pytest.raises(ServerStartFailed, match=r"did not answer within 0\.5 s") as caught:
            connect(timeout=0.5, settings=launch_settings(home, fake_python, "hang"))
        assert str(home / "logs" / "server.log") in caught.value.hint
    finally:
        pid_file = home / "hang.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)


def test_an_interpreter_that_does_not_exist(home: Path, tmp_path: Path) -> None:
    with pytest.raises(ServerStartFailed, match="cannot start") as caught:
        connect(timeout=1, settings=launch_settings(home, tmp_path / "no-such-python", "serve"))
    assert "interpreter" in caught.value.hint
