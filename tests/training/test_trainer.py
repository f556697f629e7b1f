"""The trainer on real photo crops with a tiny RRDBNet (2 blocks, 16 features) and a random VGG19: the CSV log,
checkpoints, validation samples, a stop request that saves at an iteration boundary, and a resumed run whose next
iteration gives bit-identical losses and random draws (also from a format-1 checkpoint); a checkpoint of two
processes resumed by one continues the sample stream, with a warning; the exported EMA model imports into a store
and upscales."""

from __future__ import annotations

import csv
import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.cli import main
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root
from ldl_backend.training.checkpoint import CHECKPOINT_NAME, load_checkpoint
from ldl_backend.training.config import REALWORLD, SYNTHETIC, TrainingConfig
from ldl_backend.training.run_log import COLUMNS
from ldl_backend.training.step import StepLosses
from ldl_backend.training.trainer import Trainer, TrainerOptions, TrainingInterrupted
from tests.training.photos import photo_crops, write_photos
from tests.training.tiny_run import random_vgg, tiny_generator


def _config(preset: TrainingConfig, queue: int = 0) -> TrainingConfig:
    return dataclasses.replace(
        preset,
        data=dataclasses.replace(preset.data, patch=32, batch=2, queue_size=queue),
        discriminator=dataclasses.replace(preset.discriminator, num_feat=16),
        run=dataclasses.replace(
            preset.run, iterations=4, log_interval=1, checkpoint_interval=2, validation_interval=2, seed=1
        ),
    )


@pytest.fixture
def deterministic() -> Iterator[None]:
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(previous)


def _options(tmp_path: Path, run: str = "run", **changes: object) -> TrainerOptions:
    data = tmp_path / "photos"
    if not data.is_dir():
        write_photos(data)
    return TrainerOptions(run_dir=tmp_path / run, data=data, progress=False, **changes)  # type: ignore[arg-type]


def test_realworld_run_logs_checkpoints_validates_and_resumes_exactly(tmp_path: Path, deterministic: None) -> None:
    validation = tmp_path / "val"
    validation.mkdir()
    Image.fromarray(photo_crops()[1][:32, :48]).save(validation / "cat.png")
    options = _options(tmp_path, validation=validation)
    trainer = Trainer(_config(REALWORLD, queue=4), tiny_generator(), random_vgg, options)
    seen: list[tuple[int, StepLosses]] = []
    trainer.run(until=2, on_step=lambda i, losses: seen.append((i, losses)))
    assert [i for i, _ in seen] == [1, 2]
    for _, losses in seen:
        values = losses.as_dict()
        assert all(np.isfinite(v) for v in values.values())
        assert values["artifact"] > 0 and values["perceptual"] > 0 and values["gan"] > 0
    trainer.run(until=3, on_step=lambda i, losses: seen.append((i, losses)))
    uninterrupted = seen[-1][1]

    resumed, state = Trainer.resume(_options(tmp_path, validation=validation), random_vgg)
    assert state["iteration"] == 3 and resumed.iteration == 3
    # The checkpoint written at iteration 3 continues to 4 exactly as the first trainer does.
    after: list[StepLosses] = []
    resumed.run(until=4, on_step=lambda _, losses: after.append(losses))
    trainer.run(until=4, on_step=lambda i, losses: seen.append((i, losses)))
    assert after[0] == seen[-1][1]
    assert uninterrupted != seen[-1][1]

    rows = list(csv.DictReader((options.run_dir / "log.csv").open()))
    assert tuple(rows[0].keys()) == COLUMNS
    assert [int(row["iteration"]) for row in rows] == [1, 2, 3, 4]  # the resumed run replaced row 4, once
    assert float(rows[0]["lr"]) == pytest.approx(1e-4)
    assert sorted(p.name for p in (options.run_dir / "samples").iterdir()) == ["iter_0000002", "iter_0000004"]
    assert (options.run_dir / "samples" / "iter_0000002" / "cat.png").is_file()
    scores = list(csv.DictReader((options.run_dir / "validation.csv").open()))
    assert {row["niqe"] for row in scores} == {"not installed"}
    assert all(0 < float(row["psnr_y"]) < 60 for row in scores)
    ema = resumed.step.ema.module.state_dict()
    assert any(not torch.equal(ema[k], v) for k, v in resumed.generator.state_dict().items())


def _draws() -> list[float]:
    """What the global generators give next (torch, NumPy, Python): equal only when their states are."""
    return [*torch.rand(2).tolist(), float(np.random.random()), random.random()]


def _as_format_1(path: Path) -> None:
    # The layout before per-process states: rank 0's queue and random states at the top, no world size.
    state = torch.load(path, weights_only=True)
    [own] = state.pop("processes")
    del state["world_size"]
    torch.save({**state, "format": 1, "queue": own["queue"], "rng": own["rng"]}, path)


@pytest.mark.parametrize("written_as", ["current", "format-1"])
def test_checkpoint_and_resume_give_identical_next_losses(written_as: str, tmp_path: Path, deterministic: None) -> None:
    """Synthetic recipe: a run saved at iteration 1 and resumed in a new trainer matches the uninterrupted run."""
    config = _config(SYNTHETIC)
    straight: list[StepLosses] = []
    np.random.seed(7)
    random.seed(7)
    Trainer(config, tiny_generator(), random_vgg, _options(tmp_path, "straight")).run(
        until=2, on_step=lambda _, losses: straight.append(losses)
    )
    straight_draws = _draws()
    np.random.seed(7)
    random.seed(7)
    first = Trainer(config, tiny_generator(), random_vgg, _options(tmp_path, "split"))
    first.run(until=1)
    if written_as == "format-1":
        _as_format_1(first.checkpoint_path)
    torch.manual_seed(12345)  # whatever happens between the runs, the checkpoint's RNG states come back
    np.random.seed(99)
    random.seed(99)
    resumed, _ = Trainer.resume(_options(tmp_path, "split"), random_vgg)
    assert resumed.resume_warning is None
    continued: list[StepLosses] = []
    resumed.run(until=2, on_step=lambda _, losses: continued.append(losses))
    assert continued == straight[1:]
    assert _draws() == straight_draws


def test_a_two_process_checkpoint_resumed_by_one_goes_on_where_the_stream_stopped(tmp_path: Path) -> None:
    config = _config(SYNTHETIC)
    trainer = Trainer(config, tiny_generator(), random_vgg, _options(tmp_path))
    trainer.run(until=1)
    # As if two processes had written it: both shares of iteration 1 (2 × batch 2) were read.
    state = load_checkpoint(trainer.checkpoint_path)
    own = trainer.process_state()
    two = {**state, "world_size": 2, "processes": [state["processes"][0], own], "sample_position": 4}
    torch.save(two, trainer.checkpoint_path)
    resumed, _ = Trainer.resume(_options(tmp_path), random_vgg)
    assert resumed.resume_warning is not None and "2 process(es) and this run has 1" in resumed.resume_warning
    resumed.run(until=2)
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)["sample_position"] == 4 + 2


def test_a_stop_request_saves_at_the_iteration_boundary(tmp_path: Path) -> None:
    config = _config(SYNTHETIC)
    config = dataclasses.replace(config, run=dataclasses.replace(config.run, log_interval=100))
    trainer = Trainer(config, tiny_generator(), random_vgg, _options(tmp_path))

    def stop_after_first(iteration: int, _: StepLosses) -> None:
        trainer.request_stop()

    with pytest.raises(TrainingInterrupted) as stopped:
        trainer.run(on_step=stop_after_first)
    assert stopped.value.iteration == 1 and stopped.value.checkpoint == trainer.checkpoint_path
    resumed, state = Trainer.resume(_options(tmp_path), random_vgg)
    assert state["iteration"] == 1 and resumed.iteration == 1
    # The interval's row is written at the stop, although the log interval (100) was not reached.
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert [row["iteration"] for row in rows] == ["1"]


def test_exported_ema_model_imports_and_upscales(tmp_path: Path, isolated_home: Path) -> None:
    trainer = Trainer(_config(SYNTHETIC), tiny_generator(), random_vgg, _options(tmp_path, "My Run"))
    trainer.run(until=1)
    plain, averaged = trainer.export()
    assert (plain.name, averaged.name) == ("my-run.safetensors", "my-run-ema.safetensors")
    # The real commands, in an isolated home: import the EMA model, then upscale a photo crop with it.
    assert main(["models", "import", str(averaged)]) == 0
    entry = ModelStore(models_root(), builtin_catalog()).catalog().get("my-run-ema")
    assert entry.scale == 4
    source = tmp_path / "small.png"
    Image.fromarray(photo_crops()[2][:24, :32]).save(source)
    output = tmp_path / "small_x4.png"
    assert main(["upscale", str(source), "-m", "my-run-ema", "-o", str(output), "--device", "cpu"]) == 0
    assert Image.open(output).size == (128, 96)
