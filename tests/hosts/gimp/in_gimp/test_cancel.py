"""Cancel: GIMP ends a plug-in whose progress is cancelled by killing its process (the plug-in hears nothing), so
the plug-in leaves a guard process that cancels the backend job when the plug-in dies mid-job. Here the plug-in is
killed the same way (SIGKILL) while its job runs: the job must end cancelled and the image stay as it was."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .gimp import UPSCALE, Gimp, layer_names, open_photo, run

if TYPE_CHECKING:
    from ldl_client import Client

GUARD = "ldl_gimp/cancel_guard.py"


def guard_parent() -> int | None:
    """The pid of the plug-in process whose cancel guard is running, if one is."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue  # gone meanwhile
        if GUARD.encode() in command:
            return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
    return None


def kill_when_running(client: Client, known: set[str], found: dict[str, Any]) -> None:
    """Wait for the plug-in's job to run, then kill the plug-in (what GIMP's Cancel does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = [job for job in client.jobs() if job.id not in known]
        plug_in = guard_parent()
        if jobs and plug_in is not None and jobs[0].state.value == "running":
            found["job"] = jobs[0].id
            os.kill(plug_in, signal.SIGKILL)
            return
        time.sleep(0.05)


def test_killing_the_plug_in_mid_job_cancels_the_job(host_config: dict[str, Any], client: Client, compact: str) -> None:
    image = open_photo(host_config["photo"])
    try:
        assert image.scale(512, 384)  # tta:8 on this takes seconds, long enough to be killed mid-job
        image.clean_all()
        before = (image.get_width(), image.get_height(), layer_names(image))
        known = {job.id for job in client.jobs()}
        found: dict[str, Any] = {}
        killer = threading.Thread(target=kill_when_running, args=(client, known, found), daemon=True)
        killer.start()
        outcome = run(UPSCALE, image, image.get_layers(), model=compact, reference="tta:8")
        killer.join(10)
        assert "job" in found, f"the job was never seen running (outcome {outcome})"
        assert not outcome.ok
        deadline = time.monotonic() + 15
        while client.job(found["job"]).state.value == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.job(found["job"]).state.value == "cancelled"
        assert (image.get_width(), image.get_height(), layer_names(image)) == before
        assert not image.is_dirty()
    finally:
        image.delete()
    assert Gimp.get_pdb().lookup_procedure(UPSCALE) is not None, "GIMP still knows the plug-in"
