"""``ldl train``: fine-tune a generator with LDL's locally discriminative loss (a preset or a TOML recipe).

Started by ``torchrun --nproc_per_node N -m ldl_backend.cli train ...`` it trains on N processes (one per GPU) with
DistributedDataParallel; see ``ldl_backend.training.distributed``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from ldl_backend.archs.vgg import Vgg19Features
from ldl_backend.commands.models import assets_beside
from ldl_backend.engine.device import Precision, best_device, choose_target
from ldl_backend.errors import LdlError
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.assets import TORCHVISION_VGG19
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore, resolve_model
from ldl_backend.training.checkpoint import CHECKPOINT_NAME, load_checkpoint
from ldl_backend.training.config import PRESETS, PresetName, TrainingConfig
from ldl_backend.training.config_file import load_config
from ldl_backend.training.distributed import Launch, ddp_wrapper, process_group
from ldl_backend.training.trainer import Trainer, TrainerOptions, TrainingInterrupted, VggFactory
from ldl_backend.training.vgg_weights import random_vgg19, vgg19_from_file

RANDOM_VGG = "random"
# The PSNR-oriented model each recipe starts from when --init is not given (the paper: RealESRNet for real-world;
# ESRGAN's RRDB_PSNR for synthetic, which the catalog does not list).
DEFAULT_INIT = {PresetName.REALWORLD: "realesrnet-x4plus"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", type=Path, help="a TOML recipe (flags given here override it)")
    parser.add_argument("--preset", choices=[p.value for p in PresetName], help="the paper's recipe to start from")
    parser.add_argument("--data", type=Path, help="folder of HR images (or HR/ + LR/ pairs for synthetic)")
    parser.add_argument("--val", type=Path, help="validation folder (HR images, or HR/ + LR/)")
    parser.add_argument(
        "--init", help="catalog name or model file to start from (default: realesrnet-x4plus for realworld)"
    )
    parser.add_argument("--out", type=Path, help="run folder (default: runs/PRESET)")
    parser.add_argument("--iters", type=int, help="train until this iteration")
    parser.add_argument("--batch", type=int, help="crops per iteration")
    parser.add_argument("--patch", type=int, help="HR crop side in pixels")
    parser.add_argument("--seed", type=int, help="seed of the data stream and D's initialisation")
    parser.add_argument("--log-every", type=int, help="iterations between log rows")
    parser.add_argument("--save-every", type=int, help="iterations between checkpoints")
    parser.add_argument("--val-every", type=int, help="iterations between validations")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", *(p.value for p in Precision)],
        help="auto: bf16 on CUDA GPUs that have it, else fp32",
    )
    parser.add_argument(
        "--vgg",
        help="VGG19 weights for the perceptual loss: a torchvision vgg19 .pth, or 'random' (smoke tests only); "
        f"default: the installed {TORCHVISION_VGG19} asset",
    )
    parser.add_argument("--workers", type=int, default=2, help="data loading processes (0: in the main process)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument(
        "--deterministic", action="store_true", help="deterministic algorithms only (slower; exact resumes on GPUs)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-tensorboard",
        action="store_true",
        help="no TensorBoard event files (written to OUT/tensorboard/ when the tensorboard package is installed)",
    )


def run(arguments: argparse.Namespace, store: ModelStore) -> int:
    launch = Launch.from_environment()
    if launch is None:
        return _train(arguments, store, None)
    device = torch.device(launch.device(arguments.device))
    with process_group(device):
        return _train(arguments, store, launch)


def _train(arguments: argparse.Namespace, store: ModelStore, launch: Launch | None) -> int:
    main = launch is None or launch.rank == 0
    if arguments.workers < 0:
        raise LdlError(f"--workers is {arguments.workers}", "use 0 or more")
    if arguments.data is None:
        raise LdlError("no training images given", "add --data FOLDER (a folder of HR photos)")
    config = recipe_from(arguments)
    out = arguments.out or Path("runs") / config.preset.value
    vgg = _vgg_factory(arguments.vgg, assets_beside(store), warn=main) if config.loss.perceptual > 0 else None
    if arguments.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False

    requested_device = arguments.device if launch is None else launch.device(arguments.device)

    def options(descriptor: ModelDescriptor) -> TrainerOptions:
        device, precision = _target(descriptor, requested_device, arguments.precision)
        return TrainerOptions(
            run_dir=out,
            data=arguments.data,
            validation=arguments.val,
            device=device,
            precision=precision,
            workers=arguments.workers,
            assets=assets_beside(store),
            progress=not arguments.no_progress,
            tensorboard=not arguments.no_tensorboard,
            rank=0 if launch is None else launch.rank,
            world_size=1 if launch is None else launch.world_size,
            wrap=None if launch is None else ddp_wrapper(device),
        )

    if arguments.resume:
        # The recipe is the checkpoint's; only the length may change.
        state = load_checkpoint(out / CHECKPOINT_NAME)
        descriptor = default_registry().detect(state["generator"]).descriptor
        trainer, _ = Trainer.resume(options(descriptor), vgg, arguments.iters, state)
        if main:
            print(f"resuming {out} at iteration {trainer.iteration}", file=sys.stderr)
            if trainer.resume_warning is not None:
                print(f"WARNING: {trainer.resume_warning}", file=sys.stderr)
    else:
        if (out / CHECKPOINT_NAME).exists():
            raise LdlError(f"{out} already holds a run", "add --resume to continue it, or choose another --out")
        model = _init_model(arguments.init, config, store)
        trainer = Trainer(config, model, vgg, options(model.descriptor))
    how = f"{trainer.options.device}, {trainer.options.precision.value}, {trainer.options.workers} loader process(es)"
    if launch is not None:
        how += f" each, {launch.world_size} processes (DistributedDataParallel)"
    recipe = trainer.config
    if main:
        print(f"training {recipe.preset.value} ×{recipe.data.scale} until iteration {recipe.run.iterations} on {how}")
    try:
        trainer.run()
    except TrainingInterrupted as stopped:
        if not main:
            return 130
        print(
            f"\nstopped after iteration {stopped.iteration}; checkpoint saved in {out}; continue with --resume",
            file=sys.stderr,
        )
        return 130
    if not main:
        return 0
    plain, averaged = trainer.export()
    print(f"done: {averaged} (EMA, usually the better one) and {plain}")
    print(f"use it: ldl models import {averaged}")
    return 0


def recipe_from(arguments: argparse.Namespace) -> TrainingConfig:
    """The recipe the arguments ask for: the file's or the preset's, with the flags' values on top."""
    if arguments.config is not None:
        config = load_config(arguments.config)
        if arguments.preset is not None and arguments.preset != config.preset.value:
            raise LdlError(
                f"--preset {arguments.preset} contradicts the file's preset {config.preset.value!r}",
                "drop --preset, or change the file",
            )
    elif arguments.preset is not None:
        config = PRESETS[PresetName(arguments.preset)]
    elif arguments.resume:
        config = PRESETS[PresetName.REALWORLD]  # replaced by the checkpoint's recipe
    else:
        raise LdlError("no recipe given", "add --preset realworld or --preset synthetic, or give a CONFIG.toml")
    data_changes = {
        name: value for name, value in (("batch", arguments.batch), ("patch", arguments.patch)) if value is not None
    }
    if "batch" in data_changes and config.data.queue_size % data_changes["batch"]:
        # Keep the pool near its size in the recipe, as a multiple of the new batch.
        batch = data_changes["batch"]
        data_changes["queue_size"] = max(batch, config.data.queue_size // batch * batch)
    run_changes = {
        name: value
        for name, value in (
            ("iterations", arguments.iters),
            ("seed", arguments.seed),
            ("log_interval", arguments.log_every),
            ("checkpoint_interval", arguments.save_every),
            ("validation_interval", arguments.val_every),
        )
        if value is not None
    }
    return dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, **data_changes),
        run=dataclasses.replace(config.run, **run_changes),
    )


def _vgg_factory(choice: str | None, assets: AssetStore, *, warn: bool = True) -> VggFactory:
    if choice == RANDOM_VGG:
        if warn:
            print(
                "WARNING: --vgg random gives the perceptual loss a VGG19 with RANDOM weights. Its features mean\n"
                "nothing: the resulting model is NOT a usable fine-tune. Use it for smoke tests only.",
                file=sys.stderr,
            )
        return lambda layers: random_vgg19(layers, seed=0)
    if choice is not None:
        path = Path(choice)
        if not path.is_file():
            raise LdlError(f"--vgg {choice}: no such file", f"give torchvision's vgg19-dcbb9e9d.pth, or '{RANDOM_VGG}'")
        return lambda layers: vgg19_from_file(layers, path)
    if assets.path_of(TORCHVISION_VGG19) is None:
        raise LdlError(
            f"the perceptual loss needs the VGG19 ImageNet weights (asset {TORCHVISION_VGG19}), not installed",
            f"run `ldl models fetch {TORCHVISION_VGG19}` on a connected machine, or give --vgg PATH to "
            "torchvision's vgg19-dcbb9e9d.pth",
        )
    path = assets.require(TORCHVISION_VGG19)

    def from_asset(layers: tuple[str, ...]) -> Vgg19Features:
        return vgg19_from_file(layers, path)

    return from_asset


def _init_model(init: str | None, config: TrainingConfig, store: ModelStore) -> LoadedModel:
    name = init or DEFAULT_INIT.get(config.preset)
    if name is None:
        raise LdlError(
            f"the {config.preset.value} recipe needs a starting model",
            "add --init with a PSNR-oriented ×4 model (a catalog name or a .pth/.safetensors file)",
        )
    try:
        model, _ = resolve_model(name, store)
    except LdlError as error:
        raise LdlError(f"--init {name}: {error.message}", error.hint) from error
    return model


def _target(descriptor: ModelDescriptor, device: str, precision: str) -> tuple[torch.device, Precision]:
    if precision == "auto":
        try:
            kind = best_device().type if device == "auto" else torch.device(device).type
        except RuntimeError:
            kind = "cpu"  # choose_target names the bad device
        cuda_bf16 = kind == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        requested = Precision.BF16 if cuda_bf16 else Precision.FP32
    else:
        requested = Precision(precision)
    target = choose_target(descriptor, None if device == "auto" else device, requested)
    return target.device, target.precision
