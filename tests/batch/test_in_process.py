"""The batch without Ray: retries, Ctrl-C, the settings hash, the worker pool's shape, and a CLI that loads Ray only
for the Ray path."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ldl_backend.batch.driver import run_batch
from ldl_backend.batch.ledger import RunLedger
from ldl_backend.batch.manifest import ItemRecord, ItemStatus, Manifest
from ldl_backend.batch.plan import WorkItem
from ldl_backend.batch.ray_runner import worker_shape
from ldl_backend.batch.recipe import fingerprint
from ldl_backend.batch.worker import ItemOutcome
from ldl_backend.cli import main
from ldl_backend.engine.device import Precision
from ldl_backend.errors import LdlError
from tests.batch.conftest import ARCHIVE, Upscaled, Watch, batch_call, records, tree


def off(archive: Path, output: Path, model_file: Path, *options: str) -> list[str]:
    return [str(archive), "-o", str(output), "-m", str(model_file), "--ray", "off", *options]


def test_in_process_outputs_equal_ldl_upscale(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    output = tmp_path / "out"
    assert main(["batch", *off(archive, output, model_file, "--format", "tiff")]) == 0
    assert tree(output) == upscaled(archive, "--format", "tiff")


def test_layers_mirror_the_input_tree_as_ldl_upscale_writes_them(
    archive: Path, tmp_path: Path, model_file: Path
) -> None:
    options = ["--blend", "auto", "--reference", "tta:2"]
    assert main(["batch", *off(archive, tmp_path / "out", model_file, *options, "--layers", str(tmp_path / "l"))]) == 0
    for name in ARCHIVE:
        source, folder = archive / name, Path(name).parent
        expected = ["-o", str(tmp_path / "x" / folder), "--layers", str(tmp_path / "xl" / folder)]
        assert main(["upscale", str(source), "-m", str(model_file), *options, *expected]) == 0
    assert len(tree(tmp_path / "l")) == 6 * len(ARCHIVE)  # detail, reference, map, overlay, mask, blend
    assert tree(tmp_path / "l") == tree(tmp_path / "xl")
    assert tree(tmp_path / "out") == tree(tmp_path / "x")


def test_ctrl_c_in_process_leaves_a_consistent_manifest_and_resume_finishes(
    archive: Path, tmp_path: Path, model_file: Path, upscaled: Upscaled
) -> None:
    output = tmp_path / "out"
    watch = Watch(interrupt_after=2)
    summary = run_batch(*batch_call(off(archive, output, model_file)), observer=watch)
    seen = watch.keys
    assert summary.interrupted and summary.done == 2
    statuses = {key: record.status for key, record in records(output).items()}
    assert statuses == {key: ItemStatus.DONE if key in seen else ItemStatus.PENDING for key in ARCHIVE}
    assert sorted(tree(output)) == sorted(name.replace(".", "_x4.", 1) for name in seen)

    assert main(["batch", *off(archive, output, model_file)]) == 2  # an earlier batch: --resume or --overwrite
    assert main(["batch", *off(archive, output, model_file, "--resume")]) == 0
    assert tree(output) == upscaled(archive)


def test_a_failure_of_the_moment_is_tried_retries_times_then_recorded(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    item = WorkItem("in.png", source, tmp_path / "out.png")
    with Manifest(tmp_path / "out") as manifest:
        pending = ItemRecord("in.png", "out.png", 1, 1, None, "settings", ItemStatus.PENDING)
        ledger = RunLedger(manifest, [pending], retries=3, show_progress=False)
        tries = 0
        while True:
            ledger.start(item, "w0")
            tries += 1
            if not ledger.finish(item, ItemOutcome(item.key, "w0", 0.0, 0.1, error="out of memory", retry=True)):
                break
        assert tries == 3
        assert manifest.items()["in.png"].status is ItemStatus.FAILED
        assert manifest.items()["in.png"].attempts == 3
        assert ledger.summary().failed == {"in.png": "out of memory"}


def test_the_settings_hash_follows_the_output_not_the_pool(archive: Path, tmp_path: Path, model_file: Path) -> None:
    _, recipe = batch_call(off(archive, tmp_path / "out", model_file))
    same = fingerprint(recipe).digest
    assert fingerprint(dataclasses.replace(recipe, engine=dataclasses.replace(recipe.engine, threads=7))).digest == same
    assert fingerprint(dataclasses.replace(recipe, max_output_pixels=10)).digest == same
    changed = [
        dataclasses.replace(recipe, quality=80),
        dataclasses.replace(recipe, file_format="webp"),
        dataclasses.replace(recipe, engine=dataclasses.replace(recipe.engine, tile=64)),
        dataclasses.replace(recipe, engine=dataclasses.replace(recipe.engine, precision=Precision.FP32)),
    ]
    assert len({fingerprint(other).digest for other in changed} | {same}) == len(changed) + 1
    _, other_model = batch_call(off(archive, tmp_path / "out", model_file, "--scale", "2"))
    assert fingerprint(other_model).digest != same
    assert json.loads(fingerprint(other_model).text)["output_size"]["scale"] == 2


def test_the_pool_shape_fits_the_cluster() -> None:
    assert worker_shape(cpus=2, gpus=0, workers=None, threads=None, gpus_per_worker=None).workers == 1
    two = worker_shape(cpus=2, gpus=0, workers=2, threads=None, gpus_per_worker=None)
    assert (two.workers, two.threads, two.cpus, two.gpus) == (2, 1, 1.0, 0.0)
    assert worker_shape(cpus=64, gpus=0, workers=None, threads=None, gpus_per_worker=None).workers == 16
    gpu = worker_shape(cpus=32, gpus=4, workers=None, threads=None, gpus_per_worker=None)
    assert (gpu.workers, gpu.gpus) == (4, 1.0)
    assert worker_shape(cpus=32, gpus=1, workers=None, threads=None, gpus_per_worker=0.5).workers == 2
    with pytest.raises(LdlError, match="need 4 CPUs; the cluster has 2"):
        worker_shape(cpus=2, gpus=0, workers=4, threads=None, gpus_per_worker=None)
    with pytest.raises(LdlError, match="need 2 GPUs"):
        worker_shape(cpus=8, gpus=1, workers=2, threads=None, gpus_per_worker=1)


def test_options_ldl_batch_refuses(archive: Path, tmp_path: Path, model_file: Path) -> None:
    assert main(["batch", *off(archive, archive / "out", model_file)]) == 2  # inside the input
    assert main(["batch", *off(archive, tmp_path / "out", model_file, "--workers", "2")]) == 2
    assert main(["batch", *off(archive, tmp_path / "out", model_file, "--retries", "0")]) == 2
    assert main(["batch", "--status", str(tmp_path / "nothing")]) == 2
    assert not (tmp_path / "out").exists()


def _modules_after(code: str) -> list[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'ray')))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ray_is_imported_only_for_the_ray_path(archive: Path, tmp_path: Path, model_file: Path) -> None:
    parse = "from ldl_backend.cli import build_parser\nbuild_parser('batch').parse_args(['batch', 'in', '-o', 'out'])"
    assert _modules_after(parse) == []
    argv = off(archive, tmp_path / "out", model_file)
    assert _modules_after(f"from ldl_backend.cli import main\nassert main({['batch', *argv]!r}) == 0") == []
    assert len(tree(tmp_path / "out")) == len(ARCHIVE)
