"""Cancel the backend job when GIMP kills the plug-in: how a Cancel in GIMP's progress bar reaches the backend.

GIMP 3.0 gives a plug-in no cancel callback for its own progress: the progress's cancel closes the plug-in with
``kill_it`` (app/plug-in/gimpplugin-progress.c), so the process dies mid-job and never hears of it
(``Gimp.progress_install_vtable`` is for plug-ins that *show* other procedures' progress). A dead plug-in cannot
cancel its job, and the backend would go on computing a result nobody fetches. So the plug-in starts this module as
a small process of its own session before it submits, tells it the job's id through a pipe, and says ``done`` when it
no longer needs watching. When the pipe reaches its end without ``done`` (the plug-in was killed, or gave up on the
job with an error), this process cancels the job on the backend, found the way the plug-in found it.

Pipe lines: ``job <id>`` (the job to cancel if the plug-in dies), ``done`` (nothing to cancel).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO


class CancelGuard:
    """The watching process for one procedure run; use as a context manager around the job.

    ``folder``: the plug-in's folder (holds ``backend.json`` and, installed, the client copy); ``environment``: the
    one the plug-in connects with (None: this process's). Leaving the block normally says ``done``; leaving it with
    an exception closes the pipe without it, so an unfinished job is cancelled.
    """

    def __init__(self, folder: Path, environment: Mapping[str, str] | None = None, python: str | None = None) -> None:
        self._command = [python or sys.executable, str(Path(__file__).resolve()), str(folder)]
        self._environment = dict(environment) if environment is not None else None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> CancelGuard:
        # Its own session: GIMP kills the plug-in's process, and nothing that reaches the plug-in reaches this.
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._environment,
            start_new_session=True,
        )
        return self

    def watch(self, job_id: str) -> None:
        """The job to cancel should this process die before the block ends."""
        self._send(f"job {job_id}\n")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            self._send("done\n")
        stdin = None if self._process is None else self._process.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(OSError):  # the guard is gone already; nothing left to tell it
                stdin.close()

    def wait(self, timeout: float) -> int | None:
        """The guard's exit status once it ended (it ends soon after the block does), None if still running."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _send(self, line: str) -> None:
        stdin: IO[bytes] | None = None if self._process is None else self._process.stdin
        if stdin is None or stdin.closed:
            return
        try:
            stdin.write(line.encode("ascii"))
            stdin.flush()
        except OSError:
            pass  # a guard that died cannot cancel anything; the upscale itself goes on


def job_to_cancel(lines: Iterable[str]) -> str | None:
    """The job id the pipe's lines leave to cancel: the last ``job`` line's, unless a ``done`` came after it."""
    job_id: str | None = None
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        if word == "job" and rest:
            job_id = rest
        elif word == "done":
            job_id = None
    return job_id


def main(argv: list[str]) -> int:
    """``python cancel_guard.py FOLDER``: read the pipe until it ends, then cancel what is left to cancel."""
    folder = Path(argv[1])
    job_id = job_to_cancel(line.decode("ascii", "replace") for line in sys.stdin.buffer)
    if job_id is None:
        return 0
    sys.path.insert(0, str(folder))  # installed, the client copy lives in the plug-in's folder
    from ldl_client import ClientError, connect, connect_settings

    try:
        settings = replace(connect_settings(folder), start_server=False)
        connect(settings=settings).cancel(job_id)
    except ClientError:
        return 1  # already final (409), or the backend is gone: nothing is running for nobody
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main(sys.argv))
