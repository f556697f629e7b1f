"""Multi-process training on the CPU (gloo): two processes running the GAN step under DistributedDataParallel end
with the same G and D weights; without the GAN term (whose D has batch norm, per process) G equals one process
stepping on both halves of the batch at once; a two-process run checkpointed and resumed continues exactly on both
processes (each its own pair queue and random states); ``torchrun`` with two processes runs ``ldl train`` end to
end, and only rank 0 writes the run folder; ``Launch`` reads torchrun's environment."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from skimage import data as skimage_data
from torch.multiprocessing.spawn import spawn

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.degradations.imresize import imresize_torch
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.safetensors_file import write_safetensors
from ldl_backend.models.loading import LoadedModel
from ldl_backend.training.checkpoint import load_checkpoint
from ldl_backend.training.config import SYNTHETIC, TrainingConfig
from ldl_backend.training.distributed import Launch, ddp_wrapper, settle
from ldl_backend.training.losses import PerceptualLoss
from ldl_backend.training.networks import build_discriminator
from ldl_backend.training.step import GanStep, StepLosses, TrainingBatch
from ldl_backend.training.tensorboard_log import TENSORBOARD_FOLDER
from ldl_backend.training.trainer import Trainer, TrainerOptions
from ldl_backend.training.vgg_weights import random_vgg19
from tests.training.photos import write_photos
from tests.training.tiny_run import free_port

REPOSITORY = Path(__file__).resolve().parents[2]


def _config(gan: bool) -> TrainingConfig:
    data = dataclasses.replace(SYNTHETIC.data, patch=32, batch=2, queue_size=0)
    discriminator = dataclasses.replace(SYNTHETIC.discriminator, num_feat=16)
    loss = SYNTHETIC.loss if gan else dataclasses.replace(SYNTHETIC.loss, gan=0.0)
    return dataclasses.replace(SYNTHETIC, data=data, discriminator=discriminator, loss=loss)


def _full_batch() -> TrainingBatch:
    crops = [
        skimage_data.astronaut()[40:72, 180:212],
        skimage_data.chelsea()[100:132, 150:182],
        skimage_data.coffee()[120:152, 220:252],
        skimage_data.astronaut()[200:232, 60:92],
    ]
    gt = torch.from_numpy(np.stack(crops).astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()
    return TrainingBatch(imresize_torch(gt, 1 / 4), gt)


def _networks(config: TrainingConfig) -> tuple[RRDBNet, torch.nn.Module, PerceptualLoss]:
    torch.manual_seed(0)
    generator = RRDBNet(RRDBNetConfig(num_block=1, num_feat=16, num_grow_ch=8))
    discriminator = build_discriminator(config, 3)
    perceptual = PerceptualLoss(random_vgg19(config.perceptual.layers, seed=0), config.perceptual)
    return generator, discriminator, perceptual


def _step_twice(rank: int, world_size: int, port: int, out: str, gan: bool) -> None:
    """One process of the DDP test: two GAN steps on its half of the batch; saves G and D for the parent."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        config = _config(gan)
        generator, discriminator, perceptual = _networks(config)
        step = GanStep(config, generator, discriminator, perceptual, wrap=ddp_wrapper(torch.device("cpu")))
        full = _full_batch()
        share = TrainingBatch(full.lq[rank::world_size], full.gt[rank::world_size])
        for _ in range(2):
            step(share)
        torch.save({"generator": generator.state_dict(), "discriminator": discriminator.state_dict()}, out)
        settle()
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("gan", [True, False], ids=["gan", "no-gan"])
def test_ddp_steps_keep_the_processes_equal(gan: bool, tmp_path: Path) -> None:
    outputs = [str(tmp_path / f"rank{rank}.pt") for rank in range(2)]
    port = free_port()
    spawn(_run_rank, args=(port, outputs, gan), nprocs=2, join=True)
    ranks = [torch.load(path, weights_only=True) for path in outputs]
    for name, bare in zip(("generator", "discriminator"), _networks(_config(gan))[:2], strict=True):
        # Parameters only: batch-norm running statistics are each process's own (D never runs in eval mode).
        for key, _ in bare.named_parameters():
            assert torch.equal(ranks[0][name][key], ranks[1][name][key]), f"{name}.{key} differs between processes"
        if gan or name == "generator":
            assert any(not torch.equal(ranks[0][name][key], value) for key, value in bare.state_dict().items())
    if gan:
        return
    # One process on the whole batch: DDP averages gradients of per-process means, the same mean gradient.
    config = _config(gan)
    generator, discriminator, perceptual = _networks(config)
    step = GanStep(config, generator, discriminator, perceptual)
    full = _full_batch()
    reordered = TrainingBatch(torch.cat([full.lq[0::2], full.lq[1::2]]), torch.cat([full.gt[0::2], full.gt[1::2]]))
    for _ in range(2):
        step(reordered)
    for key, value in generator.state_dict().items():
        torch.testing.assert_close(ranks[0]["generator"][key], value, atol=2e-5, rtol=1e-3)


def _run_rank(rank: int, port: int, outputs: list[str], gan: bool) -> None:
    _step_twice(rank, len(outputs), port, outputs[rank], gan)


def _seed_by(value: int) -> None:
    torch.manual_seed(value)
    np.random.seed(value)
    random.seed(value)


def _draws() -> list[float]:
    """What the global generators give next (torch, NumPy, Python): equal only when their states are."""
    return [*torch.rand(2).tolist(), float(np.random.random()), random.random()]


def _train_and_resume(rank: int, port: int, folder: str) -> None:
    """One process of the resume test: an uninterrupted run to iteration 4 ("straight"), then a run to 2 whose
    checkpoint a new trainer resumes to 4 ("split"); saves each one's losses, pair queue and next random draws."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        root = Path(folder)
        base = _config(gan=True)
        config = dataclasses.replace(
            base,
            # A queue of two batches: iterations 1–2 fill it, 3 and 4 train on pairs drawn from each process's own.
            data=dataclasses.replace(base.data, queue_size=4),
            loss=dataclasses.replace(base.loss, perceptual=0.0),  # no VGG19 to build in each process
            run=dataclasses.replace(base.run, iterations=4, log_interval=1, checkpoint_interval=100, seed=1),
        )

        def options(run: str) -> TrainerOptions:
            wrap = ddp_wrapper(torch.device("cpu"))
            return TrainerOptions(root / run, root / "photos", progress=False, rank=rank, world_size=2, wrap=wrap)

        def trainer(run: str) -> Trainer:
            torch.manual_seed(0)
            tiny = RRDBNet(RRDBNetConfig(num_block=1, num_feat=16, num_grow_ch=8)).state_dict()
            made = Trainer(config, LoadedModel(*default_registry().load(tiny)), None, options(run))
            _seed_by(100 + rank)  # the processes' random streams differ, as they do on GPUs
            return made

        def record(losses: list[dict[str, float]]) -> Callable[[int, StepLosses], None]:
            return lambda _, step_losses: losses.append(step_losses.as_dict())

        straight: list[dict[str, float]] = []
        uninterrupted = trainer("straight")
        uninterrupted.run(until=4, on_step=record(straight))
        expected = {"losses": straight[2:], "queue": uninterrupted.process_state()["queue"], "draws": _draws()}

        trainer("split").run(until=2)
        _seed_by(12345)  # whatever happens between the runs, each process gets its own states back
        resumed, _ = Trainer.resume(options("split"), None)
        continued: list[dict[str, float]] = []
        resumed.run(until=4, on_step=record(continued))
        got = {"losses": continued, "queue": resumed.process_state()["queue"], "draws": _draws()}
        torch.save({"expected": expected, "got": got, "warning": resumed.resume_warning}, root / f"rank{rank}.pt")
        settle()
    finally:
        dist.destroy_process_group()


def test_a_resumed_two_process_run_continues_exactly_on_every_process(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos")
    spawn(_train_and_resume, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in range(2)]
    for rank, result in enumerate(ranks):
        expected, got = result["expected"], result["got"]
        assert result["warning"] is None
        assert got["losses"] == expected["losses"], f"rank {rank}: iterations 3–4 differ after resuming"
        for key in ("lq", "gt", "generator"):
            assert torch.equal(got["queue"][key], expected["queue"][key]), f"rank {rank}: queue {key} differs"
        assert got["draws"] == expected["draws"], f"rank {rank}: random states differ after resuming"
    # The processes hold different pairs and random states, so restoring rank 0's everywhere could not pass.
    assert not torch.equal(ranks[0]["got"]["queue"]["gt"], ranks[1]["got"]["queue"]["gt"])
    assert ranks[0]["got"]["draws"] != ranks[1]["got"]["draws"]
    state = load_checkpoint(tmp_path / "split" / "checkpoint.pt")
    assert state["world_size"] == 2 and len(state["processes"]) == 2


def test_torchrun_trains_with_two_processes_and_rank_0_writes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    init = tmp_path / "tiny.safetensors"
    write_safetensors(init, RRDBNet(RRDBNetConfig(num_block=1, num_feat=16, num_grow_ch=8)).state_dict())
    data = write_photos(tmp_path / "photos")
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "ldl_backend.cli",
        "train",
        "--preset",
        "synthetic",
        "--data",
        str(data),
        "--init",
        str(init),
        "--out",
        str(run),
        "--iters",
        "3",
        "--save-every",
        "2",
        "--log-every",
        "1",
        "--patch",
        "32",
        "--batch",
        "2",
        "--vgg",
        "random",
        "--workers",
        "0",
        "--no-progress",
    ]
    environment = {**os.environ, "LDL_STUDIO_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("training synthetic") == 1  # rank 0 alone reports
    assert "2 processes (DistributedDataParallel)" in done.stdout
    with_tensorboard = importlib.util.find_spec("tensorboard") is not None
    assert sorted(path.name for path in run.iterdir()) == [
        "checkpoint.pt",
        "config.toml",
        "log.csv",
        "run-ema.safetensors",
        "run.safetensors",
        *([TENSORBOARD_FOLDER] if with_tensorboard else []),
    ]
    if with_tensorboard:  # one event file: rank 0's
        assert len(list((run / TENSORBOARD_FOLDER).iterdir())) == 1
    with (run / "log.csv").open() as stream:
        assert [int(row["iteration"]) for row in csv.DictReader(stream)] == [1, 2, 3]
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["iteration"] == 3
    assert state["sample_position"] == 3 * 2 * 2  # both processes' shares of the stream


def test_launch_reads_torchruns_environment() -> None:
    assert Launch.from_environment({}) is None
    assert Launch.from_environment({"WORLD_SIZE": "1", "RANK": "0"}) is None
    launch = Launch.from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert launch is not None and launch == Launch(rank=3, world_size=4, local_rank=1)
    assert launch.device("cuda") == "cuda:1" and launch.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="rank 4"):
        Launch(rank=4, world_size=4, local_rank=0)
