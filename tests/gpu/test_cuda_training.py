"""LDL training on a real CUDA GPU with a tiny RRDBNet and a random VGG19: both autocast precisions (bf16; fp16 with
gradient scaling), an exact resume in deterministic mode, and DistributedDataParallel over NCCL (one process: this
machine has one GPU)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ldl_backend.engine.device import Precision
from ldl_backend.training.config import REALWORLD, SYNTHETIC, TrainingConfig
from ldl_backend.training.distributed import ddp_wrapper, process_group
from ldl_backend.training.step import StepLosses
from ldl_backend.training.trainer import Trainer, TrainerOptions
from tests.training.photos import write_photos
from tests.training.tiny_run import free_port, random_vgg, tiny_generator

CUDA = torch.device("cuda")


def _config(preset: TrainingConfig) -> TrainingConfig:
    return dataclasses.replace(
        preset,
        data=dataclasses.replace(preset.data, patch=64, batch=2, queue_size=4 if preset is REALWORLD else 0),
        discriminator=dataclasses.replace(preset.discriminator, num_feat=16),
        run=dataclasses.replace(preset.run, iterations=3, log_interval=1, checkpoint_interval=2, seed=1),
    )


def _options(tmp_path: Path, run: str, **changes: object) -> TrainerOptions:
    data = tmp_path / "photos"
    if not data.is_dir():
        write_photos(data)
    return TrainerOptions(run_dir=tmp_path / run, data=data, device=CUDA, progress=False, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_realworld_recipe_trains_on_cuda_under_autocast(precision: str, tmp_path: Path) -> None:
    trainer = Trainer(
        _config(REALWORLD), tiny_generator(), random_vgg, _options(tmp_path, precision, precision=Precision(precision))
    )
    seen: list[StepLosses] = []
    trainer.run(on_step=lambda _, losses: seen.append(losses))
    assert len(seen) == 3
    for losses in seen:
        values = losses.as_dict()
        assert all(np.isfinite(v) for v in values.values()), values
        assert values["artifact"] > 0 and values["perceptual"] > 0 and values["gan"] > 0
    assert all(p.device.type == "cuda" for p in trainer.generator.parameters())
    assert (trainer.options.run_dir / "checkpoint.pt").is_file()
    assert trainer.step.generator_scaler.is_enabled() is (precision == "fp16")


@pytest.fixture
def deterministic() -> Iterator[None]:
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    yield
    torch.use_deterministic_algorithms(previous)


def test_a_resumed_cuda_run_continues_exactly(tmp_path: Path, deterministic: None) -> None:
    config = _config(SYNTHETIC)
    straight: list[StepLosses] = []
    Trainer(config, tiny_generator(), random_vgg, _options(tmp_path, "straight")).run(
        until=2, on_step=lambda _, losses: straight.append(losses)
    )
    Trainer(config, tiny_generator(), random_vgg, _options(tmp_path, "split")).run(until=1)
    torch.manual_seed(12345)
    torch.cuda.manual_seed_all(12345)  # the checkpoint's CUDA random state must come back too
    resumed, _ = Trainer.resume(_options(tmp_path, "split"), random_vgg)
    continued: list[StepLosses] = []
    resumed.run(until=2, on_step=lambda _, losses: continued.append(losses))
    assert continued == straight[1:]


def test_distributed_data_parallel_over_nccl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_RANK": "0",
    }.items():
        monkeypatch.setenv(name, value)
    device = torch.device("cuda:0")
    with process_group(device):
        assert torch.distributed.get_backend() == "nccl"
        options = _options(tmp_path, "ddp", precision=Precision.BF16, wrap=ddp_wrapper(device))
        trainer = Trainer(_config(REALWORLD), tiny_generator(), random_vgg, options)
        seen: list[StepLosses] = []
        trainer.run(on_step=lambda _, losses: seen.append(losses))
    assert len(seen) == 3 and all(np.isfinite(v) for v in seen[-1].as_dict().values())
    assert isinstance(trainer.step._training_generator, torch.nn.parallel.DistributedDataParallel)  # pyright: ignore[reportPrivateUsage]
