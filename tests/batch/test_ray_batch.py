"""``ldl batch`` on a local Ray instance (2 CPUs, two workers) with a tiny compact model on small images: the same
bytes as ``ldl upscale``, nothing lost or done twice when a worker dies or the run is interrupted, and ``--resume``
redoing exactly what changed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldl_backend.batch.driver import run_batch
from ldl_backend.batch.manifest import ItemStatus
from ldl_backend.batch.worker import ItemOutcome
from ldl_backend.cli import main
from tests.batch.conftest import ARCHIVE, Upscaled, Watch, batch_call, records, tree, write_image

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One Ray instance for the module (starting one takes seconds); ``ldl batch`` uses it as it finds it."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


def ray_batch(archive: Path, output: Path, model_file: Path, *options: str) -> list[str]:
    return [str(archive), "-o", str(output), "-m", str(model_file), "--ray", "local", "--workers", "2", *options]


@pytest.mark.parametrize(
    "options", [[], ["--blend", "auto", "--scale", "2", "--format", "webp"]], ids=["plain", "blend"]
)
def test_every_output_equals_ldl_upscale_byte_for_byte(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled, options: list[str]
) -> None:
    output = tmp_path / "out"
    assert main(["batch", *ray_batch(archive, output, model_file, *options)]) == 0
    expected = upscaled(archive, *options)
    assert len(expected) == len(ARCHIVE)
    assert tree(output) == expected
    found = records(output)
    assert sorted(found) == sorted(ARCHIVE)
    assert {(record.status, record.attempts) for record in found.values()} == {(ItemStatus.DONE, 1)}
    assert len({record.worker for record in found.values()}) == 2  # both workers took items


def test_as_many_items_as_workers_go_one_to_each(tmp_path: Path, model_file: Path) -> None:
    archive = tmp_path / "two"
    for index in range(2):
        write_image(archive / f"{index}.png", (64, 48), "RGB", index)
    assert main(["batch", *ray_batch(archive, tmp_path / "out", model_file)]) == 0
    assert len({record.worker for record in records(tmp_path / "out").values()}) == 2  # not both queued on one


def test_in_process_gives_the_same_outputs_as_ray(archive: Path, tmp_path: Path, model_file: Path) -> None:
    on_ray, in_process = tmp_path / "ray", tmp_path / "off"
    assert main(["batch", *ray_batch(archive, on_ray, model_file)]) == 0
    assert main(["batch", str(archive), "-o", str(in_process), "-m", str(model_file), "--ray", "off"]) == 0
    assert len(tree(on_ray)) == len(ARCHIVE)
    assert tree(on_ray) == tree(in_process)


def test_killing_a_worker_mid_run_loses_nothing_and_does_nothing_twice(
    tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    archive = tmp_path / "many"
    for index in range(12):
        write_image(archive / f"{index // 4}" / f"{index:02}.png", (96, 80), "RGB", index)
    output = tmp_path / "out"
    killed: list[int] = []

    def kill_the_first_worker(outcome: ItemOutcome) -> None:
        # The worker that just finished an item already holds its next one (two calls are queued per actor).
        if not killed:
            killed.append(int(outcome.worker.rsplit(":", 1)[1]))
            os.kill(killed[0], signal.SIGKILL)

    summary = run_batch(*batch_call(ray_batch(archive, output, model_file)), observer=kill_the_first_worker)

    assert summary.done == 12 and not summary.failed
    found = records(output)
    assert {record.status for record in found.values()} == {ItemStatus.DONE}
    assert sum(record.attempts for record in found.values()) > 12  # the dead worker's item was tried again
    # Once each: no item is sent back to the worker while Ray restarts it (where every call fails at once, and a
    # busy machine used to see two items spend all four tries there).
    assert max(record.attempts for record in found.values()) == 2
    assert all(str(killed[0]) not in (record.worker or "") for record in found.values() if record.attempts > 1)
    assert tree(output) == upscaled(archive)  # each output once, complete, no temporary left behind
    assert sorted(found) == sorted(name.removesuffix("_x4.png") + ".png" for name in tree(output))


def test_a_worker_ray_cannot_bring_back_is_replaced_and_its_items_done(
    tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    archive = tmp_path / "many"
    for index in range(8):
        write_image(archive / f"{index:02}.png", (96, 80), "RGB", index)
    output = tmp_path / "out"
    killed: list[str] = []

    def kill_for_good(outcome: ItemOutcome) -> None:
        # As a node that leaves the cluster: the actor is gone and Ray does not restart it.
        if not killed:
            slot = "-" + outcome.worker.split("@")[0] + "."
            (killed_name,) = [name for name in ray.util.list_named_actors() if slot in name]
            ray.kill(ray.get_actor(killed_name), no_restart=True)
            killed.append(killed_name)

    summary = run_batch(*batch_call(ray_batch(archive, output, model_file)), observer=kill_for_good)

    assert summary.done == 8 and not summary.failed
    found = records(output)
    assert sum(record.attempts for record in found.values()) > 8  # its queued item went to another actor
    assert tree(output) == upscaled(archive)
    assert killed and not [name for name in ray.util.list_named_actors() if name.startswith("ldl-batch-")]


def test_resume_after_an_interrupted_run_does_only_the_missing_items(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    output = tmp_path / "out"
    first_run = Watch(interrupt_after=3)
    summary = run_batch(*batch_call(ray_batch(archive, output, model_file)), observer=first_run)

    assert summary.interrupted and summary.done == 3
    first = records(output)
    done = {key for key, record in first.items() if record.status is ItemStatus.DONE}
    assert done == set(first_run.keys)
    assert {record.status for key, record in first.items() if key not in done} == {ItemStatus.PENDING}
    assert not [name for name in tree(output) if name.endswith((".partial", ".pending"))]
    kept = {key: (output / first[key].destination).stat().st_mtime_ns for key in done}

    resumed_run = Watch()
    resumed = run_batch(*batch_call(ray_batch(archive, output, model_file, "--resume")), observer=resumed_run)

    assert sorted(resumed_run.keys) == sorted(set(ARCHIVE) - done)
    assert resumed.skipped == 3 and resumed.done == len(ARCHIVE) - 3
    assert {key: (output / first[key].destination).stat().st_mtime_ns for key in done} == kept
    assert tree(output) == upscaled(archive)


def test_changing_an_input_or_a_setting_redoes_only_what_changed(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    output = tmp_path / "out"
    assert main(["batch", *ray_batch(archive, output, model_file)]) == 0
    write_image(archive / "scans/1998/e.png", (48, 32), "RGB", seed=99)  # new pixels
    touched = archive / "a.png"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime, the same bytes

    redone = Watch()
    run_batch(*batch_call(ray_batch(archive, output, model_file, "--resume")), observer=redone)
    assert redone.keys == ["scans/1998/e.png"]
    assert tree(output) == upscaled(archive)
    assert records(output)["a.png"].mtime_ns == touched.stat().st_mtime_ns  # hashed once, not again next time

    redone = Watch()
    run_batch(*batch_call(ray_batch(archive, output, model_file, "--resume", "--scale", "2")), observer=redone)
    assert sorted(redone.keys) == sorted(ARCHIVE)
    assert tree(output) == upscaled(archive, "--scale", "2")  # the ×4 outputs were replaced, not left beside


def test_a_corrupt_input_is_reported_and_the_rest_complete(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = upscaled(archive)
    (archive / "scans/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    (archive / "cut.jpg").write_bytes((archive / "b.jpg").read_bytes()[:200])
    output = tmp_path / "out"

    assert main(["batch", *ray_batch(archive, output, model_file)]) == 1

    assert tree(output) == expected
    found = records(output)
    for key in ("scans/broken.png", "cut.jpg"):
        assert found[key].status is ItemStatus.FAILED and found[key].attempts == 1  # bad input: no retry
        assert "bad_image" in (found[key].error or "")
    errors = capsys.readouterr().err
    assert f"{len(ARCHIVE)} done, 0 skipped (unchanged), 2 failed" in errors
    assert "  scans/broken.png: bad_image" in errors and "  cut.jpg: bad_image" in errors
    assert main(["batch", "--status", str(output)]) == 0
    status = capsys.readouterr().out
    assert f"{len(ARCHIVE) + 2} item(s): 0 pending, 0 running, {len(ARCHIVE)} done, 2 failed" in status
    assert "  scans/broken.png: bad_image" in status


def test_a_second_run_into_the_same_output_folder_is_refused(
    archive: Path, tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom ldl_backend.batch.lock import "
         f"OutputLock\nwith OutputLock(Path({str(output)!r})):\n    print('held', flush=True)\n    time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert main(["batch", *ray_batch(archive, output, model_file)]) == 2
    finally:
        holder.kill()
        holder.wait()
    error = capsys.readouterr().err
    assert f"another ldl batch (host {os.uname().nodename}, pid {holder.pid}" in error
    assert not tree(output)  # nothing was written
    assert main(["batch", *ray_batch(archive, output, model_file)]) == 0  # the lock died with its holder


def test_a_worker_that_cannot_prepare_the_model_stops_the_run_with_its_own_error(
    archive: Path, tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if ray.cluster_resources().get("GPU"):
        pytest.skip("this Ray instance has a GPU: --device cuda would work")
    output = tmp_path / "out"
    assert main(["batch", *ray_batch(archive, output, model_file, "--device", "cuda")]) == 2
    error = capsys.readouterr().err
    assert "error: a batch worker could not start: CUDA was requested but no CUDA GPU is available" in error
    assert "hint: use --device cpu" in error
    assert {record.status for record in records(output).values()} == {ItemStatus.PENDING}
    assert not tree(output)
