"""The guard process cancels the job when the plug-in dies before saying ``done`` (GIMP kills a plug-in whose
progress is cancelled), and leaves it alone otherwise."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldl_gimp.cancel_guard import CancelGuard, job_to_cancel

from ldl_client import RawImage, SubmitOptions, connect, connect_settings
from tests.client.fake_server import Backend, FakeServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[tuple[Path, FakeServer]]:
    """A plug-in folder whose backend.json points at a fake backend that keeps every job running until cancelled."""
    home = tmp_path / "home"
    server = FakeServer(Backend(token="token", hold=True))
    server.write_discovery(home / "run" / "server.json")
    folder = tmp_path / "ldl_upscale"
    folder.mkdir()
    (folder / "backend.json").write_text(json.dumps({"python": sys.executable, "ldl_studio_home": str(home)}))
    yield folder, server
    server.stop()


def submit(folder: Path) -> str:
    client = connect(timeout=5.0, settings=connect_settings(folder))
    return client.submit(RawImage(2, 2, 3, "uint8", bytes(12)), SubmitOptions()).id


def state_after(server: FakeServer, job_id: str, guard: CancelGuard) -> tuple[int | None, str]:
    """The guard's exit status and then the job's state."""
    status = guard.wait(10.0)
    return status, server.backend.jobs[job_id]["state"]


def environment() -> dict[str, str]:
    # The guard imports ldl_client from the plug-in folder when installed; in the repository, from here.
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_a_plug_in_that_dies_mid_job_gets_its_job_cancelled(plugin_dir: tuple[Path, FakeServer]) -> None:
    folder, server = plugin_dir
    job_id = submit(folder)
    guard = CancelGuard(folder, environment())
    with pytest.raises(RuntimeError), guard:
        guard.watch(job_id)
        raise RuntimeError("killed")  # the pipe closes without "done", as when GIMP kills the plug-in
    assert state_after(server, job_id, guard) == (0, "cancelled")
    assert any(r.method == "POST" and r.target.endswith(f"/jobs/{job_id}/cancel") for r in server.backend.requests)


def test_a_job_followed_to_its_end_is_left_alone(plugin_dir: tuple[Path, FakeServer]) -> None:
    folder, server = plugin_dir
    job_id = submit(folder)
    with CancelGuard(folder, environment()) as guard:
        guard.watch(job_id)
    status, state = state_after(server, job_id, guard)
    assert (status, state) == (0, "queued"), "the fake backend keeps an unfollowed job queued"
    assert not any(r.target.endswith("/cancel") for r in server.backend.requests)


def test_the_last_job_line_counts_unless_done_follows() -> None:
    assert job_to_cancel([]) is None
    assert job_to_cancel(["job a\n", "job b\n"]) == "b"
    assert job_to_cancel(["job a\n", "done\n"]) is None
    assert job_to_cancel(["done\n", "job c"]) == "c"
    assert job_to_cancel(["job \n", "nonsense\n"]) is None
