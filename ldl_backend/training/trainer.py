"""A training run: data in worker processes, ``GanStep`` iterations, the learning-rate schedules, a CSV log and a
progress bar, validation, atomic checkpoints (every N iterations, at the end, and on Ctrl-C at the next iteration
boundary) and the exported generators.

Files in the run folder: ``config.toml`` (the recipe as run), ``log.csv``, ``validation.csv``, ``samples/``,
``checkpoint.pt``, ``tensorboard/`` (when the package is installed; see ``tensorboard_log``) and, at the end,
``NAME.safetensors`` / ``NAME-ema.safetensors`` (NAME from the folder's name).

Multi-process training (``torchrun``, see ``distributed``): ``TrainerOptions.rank``/``world_size`` give each
process its share of the sample stream (disjoint samples; together the one-process stream), ``TrainerOptions.wrap``
wraps G and D in DistributedDataParallel, only rank 0 writes files, logs and validates, the processes wait for each
other after each checkpoint, and a Ctrl-C on any process stops all of them at the same iteration. A checkpoint holds
every process's pair queue and random states, and each process resumes from its own; a run resumed with another
number of processes continues the data stream where it stopped, but not exactly (``resume_warning`` says so).
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import torch
from torch.optim.lr_scheduler import MultiStepLR
from tqdm import tqdm

from ldl_backend.archs.vgg import Vgg19Features
from ldl_backend.engine.device import Precision
from ldl_backend.errors import LdlError
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.storage import write_atomically
from ldl_backend.training.checkpoint import (
    CHECKPOINT_NAME,
    RngStates,
    load_checkpoint,
    own_process_state,
    save_checkpoint,
)
from ldl_backend.training.config import TrainingConfig
from ldl_backend.training.config_file import dump_config, parse_config
from ldl_backend.training.data import Sample, TrainingSamples, find_training_images, training_loader
from ldl_backend.training.distributed import ModuleWrapper, any_process, barrier, gather_to_main
from ldl_backend.training.export import export_generator, model_name_for
from ldl_backend.training.losses import PerceptualLoss
from ldl_backend.training.networks import build_discriminator
from ldl_backend.training.pair_queue import PairQueue
from ldl_backend.training.run_log import RunLog
from ldl_backend.training.step import GanStep, StepLosses, TrainingBatch
from ldl_backend.training.tensorboard_log import NOT_INSTALLED, TensorBoardLog, open_tensorboard
from ldl_backend.training.validation import Validator, load_validation_set

VggFactory = Callable[[tuple[str, ...]], Vgg19Features]
"""Builds the VGG19 feature extractor for the perceptual layers a config names."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or ``request_stop`` ended a run; its checkpoint at ``iteration`` was saved first."""

    def __init__(self, iteration: int, checkpoint: Path | None) -> None:
        super().__init__(f"stopped after iteration {iteration}")
        self.iteration = iteration
        self.checkpoint = checkpoint


@dataclass(frozen=True)
class TrainerOptions:
    """How a run executes (not what it learns): where, on what, with how many loader processes."""

    run_dir: Path
    data: Path
    validation: Path | None = None
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))
    precision: Precision = Precision.FP32
    workers: int = 0
    assets: AssetStore | None = None  # NIQE/LPIPS files for validation, when installed
    progress: bool = True
    tensorboard: bool = True  # event files in RUN/tensorboard/ when the tensorboard package is installed
    # Multi-process training (one process per GPU): this process's rank among ``world_size``. Each rank reads its
    # own share of the sample stream; only rank 0 writes files, logs and validates.
    rank: int = 0
    world_size: int = 1
    wrap: ModuleWrapper | None = None  # distributed.ddp_wrapper when world_size > 1

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {self.rank} of {self.world_size} processes")

    @property
    def main_process(self) -> bool:
        return self.rank == 0


class Trainer:
    """Owns the networks, the step, the schedules and the data of one run (see the module docstring).

    Raises ``LdlError`` when the generator's scale differs from the config's, ``TrainingDataError`` for bad data.
    """

    def __init__(
        self, config: TrainingConfig, generator: LoadedModel, vgg: VggFactory | None, options: TrainerOptions
    ) -> None:
        if generator.descriptor.scale != config.data.scale:
            raise LdlError(
                f"the initial model is ×{generator.descriptor.scale} but the recipe trains ×{config.data.scale}",
                f"use a ×{config.data.scale} model for --init, or set data.scale = {generator.descriptor.scale}",
            )
        # Data first: a wrong folder is reported before seconds are spent building networks.
        images = find_training_images(options.data, config.data.source)
        self.config = config
        self.options = options
        self.descriptor = generator.descriptor
        device = options.device
        self.generator = generator.network.to(device).train().requires_grad_(True)
        torch.manual_seed(config.run.seed)  # D's initialisation
        discriminator = build_discriminator(config, generator.descriptor.in_channels).to(device)
        perceptual = None
        if config.loss.perceptual > 0:
            if vgg is None:
                raise ValueError("the recipe has a perceptual loss: give a VGG19 factory")
            perceptual = PerceptualLoss(vgg(config.perceptual.layers), config.perceptual).to(device)
        self.step = GanStep(
            config, self.generator, discriminator, perceptual, precision=options.precision, wrap=options.wrap
        )
        scheduler = config.scheduler
        self.schedulers = (
            MultiStepLR(self.step.generator_optimizer, list(scheduler.milestones), scheduler.gamma),
            MultiStepLR(self.step.discriminator_optimizer, list(scheduler.milestones), scheduler.gamma),
        )
        self.queue = PairQueue(config.data.queue_size, config.run.seed) if config.data.queue_size else None
        self.samples = TrainingSamples(images, config.data, config.run.seed)
        self.validator: Validator | None = None
        if options.validation is not None and options.main_process:
            validation = load_validation_set(options.validation, config.data.scale, config.data.source)
            assets = options.assets or AssetStore(options.run_dir / "no-assets")
            self.validator = Validator(
                validation, config.data.scale, options.run_dir, assets, generator.descriptor.size_multiple
            )
        self.iteration = 0
        # Sample position = offset + iteration × batch × processes. Non-zero only after resuming a checkpoint written
        # by another number of processes: the stream then goes on where it stopped, no sample read twice or skipped.
        self._stream_offset = 0
        self.resume_warning: str | None = None  # set by load_state when the resume cannot be exact
        self._stop_requested = False

    # -- resuming ------------------------------------------------------------------------------------------
    @classmethod
    def resume(
        cls,
        options: TrainerOptions,
        vgg: VggFactory | None,
        iterations: int | None = None,
        state: dict[str, Any] | None = None,
    ) -> tuple[Trainer, dict[str, Any]]:
        """The run in ``options.run_dir`` at its last checkpoint (``iterations`` replaces the run's length;
        ``state``: that checkpoint, when already read). Returns the trainer and the checkpoint. Raises
        ``CheckpointError``."""
        if state is None:
            state = load_checkpoint(options.run_dir / CHECKPOINT_NAME)
        config = parse_config(state["config"], str(options.run_dir / CHECKPOINT_NAME))
        if iterations is not None:
            config = dataclasses.replace(config, run=dataclasses.replace(config.run, iterations=iterations))
        descriptor, network = default_registry().load(state["generator"])
        trainer = cls(config, LoadedModel(descriptor, network), vgg, options)
        trainer.load_state(state)
        return trainer, state

    def state(self, processes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The checkpoint's content. ``processes``: every process's ``process_state()`` in rank order (the trainer
        gathers them at each checkpoint); None stands for this process's alone, which is right only for a
        single-process run. Raises ``ValueError`` when the list does not have one entry per process."""
        processes = [self.process_state()] if processes is None and self.options.world_size == 1 else processes
        if processes is None or len(processes) != self.options.world_size:
            given = "none" if processes is None else len(processes)
            raise ValueError(
                f"the checkpoint of {self.options.world_size} processes needs each one's state, not {given}"
            )
        step = self.step
        return {
            "iteration": self.iteration,
            "config": dump_config(self.config),
            "generator": self.generator.state_dict(),
            "generator_ema": step.ema.state_dict(),
            "discriminator": step.discriminator.state_dict(),
            "generator_optimizer": step.generator_optimizer.state_dict(),
            "discriminator_optimizer": step.discriminator_optimizer.state_dict(),
            "generator_scheduler": self.schedulers[0].state_dict(),
            "discriminator_scheduler": self.schedulers[1].state_dict(),
            "generator_scaler": step.generator_scaler.state_dict(),
            "discriminator_scaler": step.discriminator_scaler.state_dict(),
            "sample_position": self._sample_position(self.iteration),
            "world_size": self.options.world_size,
            "processes": processes,
        }

    def process_state(self) -> dict[str, Any]:
        """What differs between the processes of a run: this one's pair queue and random states."""
        return {"queue": None if self.queue is None else self.queue.state_dict(), "rng": RngStates.capture().as_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        step = self.step
        self.generator.load_state_dict(state["generator"])
        step.ema.load_state_dict(state["generator_ema"])
        step.discriminator.load_state_dict(state["discriminator"])
        step.generator_optimizer.load_state_dict(state["generator_optimizer"])
        step.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        self.schedulers[0].load_state_dict(state["generator_scheduler"])
        self.schedulers[1].load_state_dict(state["discriminator_scheduler"])
        step.generator_scaler.load_state_dict(state["generator_scaler"])
        step.discriminator_scaler.load_state_dict(state["discriminator_scaler"])
        self.iteration = int(state["iteration"])
        world = self.options.world_size
        self._stream_offset = int(state["sample_position"]) - self.iteration * self.config.data.batch * world
        own, self.resume_warning = own_process_state(state, self.options.rank, world, self.config.data.batch)
        if self.queue is not None and own["queue"] is not None:
            self.queue.load_state_dict(own["queue"])
        RngStates.from_dict(own["rng"]).restore()

    def _sample_position(self, iteration: int) -> int:
        """Where the whole stream (every process's share) stands after ``iteration``."""
        return self._stream_offset + iteration * self.config.data.batch * self.options.world_size

    # -- running -------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the current iteration, save a checkpoint and raise ``TrainingInterrupted`` (what Ctrl-C does)."""
        self._stop_requested = True

    def train_step(self, batch: Sample) -> StepLosses:
        """One iteration on a loader batch (through the pair queue when the recipe has one)."""
        # On the training device first, so that the queue lives there too. From the loader's pinned memory the
        # copies do not wait for the previous step's kernels: the CPU goes on queueing this step's meanwhile.
        lq, gt = (tensor.to(self.step.device, non_blocking=True) for tensor in batch[:2])
        sharp = batch[2].to(self.step.device, non_blocking=True) if len(batch) > 2 else None
        if self.queue is not None:
            # The queue holds GT and GT' side by side (6 channels) so that both stay paired with their LR.
            stacked = gt if sharp is None else torch.cat([gt, sharp], dim=1)
            lq, stacked = self.queue.exchange(lq, stacked)
            gt, sharp = (stacked, None) if sharp is None else (stacked[:, :3], stacked[:, 3:])
        losses = self.step(TrainingBatch(lq, gt, sharp))
        for scheduler in self.schedulers:
            scheduler.step()
        self.iteration += 1
        return losses

    def run(self, until: int | None = None, on_step: Callable[[int, StepLosses], None] | None = None) -> None:
        """Train up to iteration ``until`` (default: the config's length), then checkpoint.

        ``on_step(iteration, losses)`` is called after each iteration. Ctrl-C (SIGINT, in the main thread) or
        ``request_stop`` ends the run at the next iteration boundary with a checkpoint, then raises
        ``TrainingInterrupted`` (a ``KeyboardInterrupt``); a second Ctrl-C interrupts at once without saving.
        """
        end = self.config.run.iterations if until is None else until
        main = self.options.main_process
        if main:
            self.options.run_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self.options.run_dir / "config.toml", dump_config(self.config).encode())
        log = RunLog(self.options.run_dir / "log.csv", resume_from=self.iteration) if main else None
        board = self._open_tensorboard() if main else None
        try:
            self._run(end, log, board, on_step)
        finally:
            if board is not None:
                board.close()

    def _run(
        self,
        end: int,
        log: RunLog | None,
        board: TensorBoardLog | None,
        on_step: Callable[[int, StepLosses], None] | None,
    ) -> None:
        run = self.config.run
        main = self.options.main_process
        world, rank = self.options.world_size, self.options.rank
        start = self._sample_position(self.iteration) + rank
        loader = training_loader(
            self.samples,
            self.config.data.batch,
            self.options.workers,
            start=start,
            stride=world,
            pin_memory=self.step.device.type == "cuda",
        )
        bar = tqdm(total=end, initial=self.iteration, unit="it", disable=not (main and self.options.progress))
        batches: Iterator[Sample] = iter(loader)
        self._stop_requested = False
        restore = self._catch_interrupts()
        saved_at = -1
        try:
            while self.iteration < end and not self._stopping():
                losses = self.train_step(next(batches))
                if on_step is not None:
                    on_step(self.iteration, losses)
                bar.update(1)
                if log is not None:
                    log.add(losses)
                    if self.iteration % run.log_interval == 0 or self.iteration == end:
                        row = self._write_row(log, board)
                        bar.set_postfix(_postfix(row), refresh=False)
                if self.iteration % run.checkpoint_interval == 0:
                    self._save_together()
                    saved_at = self.iteration
                if self.validator is not None and self.iteration % run.validation_interval == 0:
                    self._validate(bar, board)
        finally:
            restore()
            bar.close()
            del batches  # stops the worker processes
        if log is not None and log.pending:
            self._write_row(log, board)
        if saved_at != self.iteration:
            self._save_together()
        if self._stop_requested:
            raise TrainingInterrupted(self.iteration, self.checkpoint_path if main else None)

    def _stopping(self) -> bool:
        # Every process must stop at the same iteration, or the others would wait forever in DDP's all-reduce.
        if self.options.world_size > 1:
            self._stop_requested = any_process(self._stop_requested, self.options.device)
        return self._stop_requested

    def _write_row(self, log: RunLog, board: TensorBoardLog | None) -> dict[str, float]:
        row = log.write(self.iteration, float(self.schedulers[0].get_last_lr()[0]))
        if board is not None:
            board.scalars(row)
        return row

    def _open_tensorboard(self) -> TensorBoardLog | None:
        if not self.options.tensorboard:
            return None
        board = open_tensorboard(self.options.run_dir, resume_from=self.iteration)
        if board is None:
            print(NOT_INSTALLED, file=sys.stderr)
        return board

    def _save_together(self) -> None:
        # A collective, like the barrier: every process hands its pair queue and random states to rank 0, which
        # writes them all; no process runs ahead (or exits) while rank 0 writes.
        processes = gather_to_main(self.process_state())
        if processes is not None:
            self.save(processes)
        barrier()

    def _catch_interrupts(self) -> Callable[[], None]:
        """Route Ctrl-C to ``request_stop`` (main thread only); returns the function that puts things back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def stop(_signal: int, _frame: FrameType | None) -> None:
            self.request_stop()
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once

        signal.signal(signal.SIGINT, stop)

        # None: a handler installed outside Python; Python's default is the closest we can put back.
        def restore() -> None:
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)

        return restore

    def _validate(self, bar: tqdm[Any], board: TensorBoardLog | None) -> None:
        assert self.validator is not None
        means = self.validator(self.step.ema.module, self.iteration)
        if board is not None:
            board.validation(self.iteration, means, self.validator.samples_folder(self.iteration))
        shown = ", ".join(
            f"{name} {value}" if isinstance(value, str) else f"{name} {value:.4g}" for name, value in means.items()
        )
        bar.write(f"validation at {self.iteration}: {shown}")

    # -- files ---------------------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.options.run_dir / CHECKPOINT_NAME

    def save(self, processes: list[dict[str, Any]] | None = None) -> None:
        """Write the checkpoint (atomically) and export both generators (``processes``: as for ``state``)."""
        save_checkpoint(self.checkpoint_path, self.state(processes))
        self.export()

    def export(self) -> tuple[Path, Path]:
        """``NAME.safetensors`` (G) and ``NAME-ema.safetensors`` (the EMA, usually the better one) in the run
        folder, importable with ``ldl models import``."""
        name = model_name_for(self.options.run_dir)
        origin = f"ldl train ({self.config.preset.value}), iteration {self.iteration}"
        plain = self.options.run_dir / f"{name}.safetensors"
        averaged = self.options.run_dir / f"{name}-ema.safetensors"
        export_generator(self.generator, plain, origin)
        export_generator(self.step.ema.module, averaged, origin + ", EMA")
        return plain, averaged


def _postfix(row: dict[str, float]) -> dict[str, str]:
    shown = ("pixel", "artifact", "perceptual", "gan", "iterations_per_s")
    return {name.replace("iterations_per_s", "it/s"): f"{row[name]:.3g}" for name in shown}
