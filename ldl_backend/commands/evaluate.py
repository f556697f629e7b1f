"""``ldl eval``: PSNR-Y / SSIM-Y / NIQE / LPIPS of models on an image set, as a Markdown report and a CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from ldl_backend.artifacts.selective import ArtifactOptions
from ldl_backend.commands.enum_choice import enum_choice
from ldl_backend.commands.models import assets_beside
from ldl_backend.engine.device import Precision
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.errors import LdlError, OutputExistsError
from ldl_backend.evaluation.dataset import discover_dataset
from ldl_backend.evaluation.lowres import Degradation, LowResCache, LowResRecipe
from ldl_backend.evaluation.metric_suite import build_metric_suite
from ldl_backend.evaluation.report import Protocol, Report
from ldl_backend.evaluation.runner import evaluate
from ldl_backend.evaluation.upscalers import BICUBIC, LAYERS, BicubicUpscaler, ModelUpscaler, Upscaler
from ldl_backend.models.store import ModelStore, resolve_model
from ldl_backend.paths import cache_root
from ldl_backend.storage import write_atomically
from ldl_client.options import DEFAULT_REFERENCE, DEFAULT_SOFTNESS, DEFAULT_THRESHOLD, ReferenceSource


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        required=True,
        help=f"catalog name, model file or '{BICUBIC}' (the baseline); repeat to compare",
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with HR/ (and LR/), or LR images only")
    parser.add_argument("--degradation", default=Degradation.BICUBIC, **enum_choice(Degradation))
    parser.add_argument("--seed", type=int, default=0, help="seed of the realesrgan degradation (default 0)")
    parser.add_argument("--scale", type=int, default=4, help="super-resolution factor (default 4)")
    parser.add_argument(
        "--layers",
        default="detail",
        help="which outputs of each model to score: detail (default), reference, blend, comma-separated",
    )
    parser.add_argument(
        "--reference", default=str(DEFAULT_REFERENCE), help="reference of the artifact map (as in ldl upscale)"
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="map → mask threshold")
    parser.add_argument("--softness", type=float, default=DEFAULT_SOFTNESS, help="map → mask softness")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--csv", type=Path, help="write one CSV row per image (and a final 'mean' row) here")
    parser.add_argument("--overwrite", action="store_true", help="replace existing report files")
    parser.add_argument(
        "--no-timings", action="store_true", help="leave out seconds per image (a rerun gives the same bytes)"
    )
    parser.add_argument(
        "--precision",
        default=Precision.FP32.value,
        choices=["auto", *(p.value for p in Precision)],
        help="fp32 by default, so numbers compare with published ones; auto is faster",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--tile", default="auto", help="tile size in input pixels, or auto")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")


def run(arguments: argparse.Namespace, store: ModelStore) -> int:
    layers = tuple(dict.fromkeys(layer.strip() for layer in arguments.layers.split(",") if layer.strip()))
    unknown = [layer for layer in layers if layer not in LAYERS]
    if unknown or not layers:
        raise LdlError(f"--layers {arguments.layers}: unknown layer", f"choose from {', '.join(LAYERS)}")
    for path in (arguments.out, arguments.csv):
        if path is not None and path.exists() and not arguments.overwrite:
            raise OutputExistsError(f"{path} exists", "choose another name or add --overwrite")
    try:
        recipe = LowResRecipe(arguments.degradation, arguments.scale, arguments.seed)
        tile = None if arguments.tile == "auto" else int(arguments.tile)
        reference = ReferenceSource.parse(arguments.reference)
        artifact_options = ArtifactOptions(reference, arguments.threshold, arguments.softness)
        options = EngineOptions(
            device=None if arguments.device == "auto" else arguments.device,
            precision=None if arguments.precision == "auto" else Precision(arguments.precision),
            tile=tile,
            threads=arguments.threads,
        )
    except ValueError as error:
        raise LdlError(f"invalid option: {error}", "see `ldl eval --help`") from error
    dataset = discover_dataset(arguments.data)
    upscalers = [
        _upscaler(name, recipe.scale, options, store, layers, artifact_options)
        for name in dict.fromkeys(arguments.model)
    ]
    suite, metrics_text = build_metric_suite(recipe.scale, assets_beside(store))
    cache = LowResCache(cache_root() / "eval-low-res")
    print(f"{len(dataset.images)} image(s) × {len(upscalers)} model(s), {dataset.kind.value}", file=sys.stderr)
    with tqdm(total=len(dataset.images) * len(upscalers), unit="image", file=sys.stderr) as bar:
        scores = evaluate(dataset, upscalers, recipe, suite, cache, on_step=lambda _: bar.update(1))
    protocol = Protocol(
        dataset=f"{arguments.data.name} ({dataset.kind.value})",
        images=len(dataset.images),
        scale=recipe.scale,
        low_res=recipe.describe() if dataset.kind.name == "HR_ONLY" else "given LR files, used as they are",
        metrics=metrics_text,
        models=tuple((", ".join(upscaler.outputs), upscaler.description) for upscaler in upscalers),
    )
    report = Report(protocol, tuple(scores), timings=not arguments.no_timings)
    markdown = report.markdown()
    print(markdown)
    if arguments.out is not None:
        write_atomically(arguments.out, markdown.encode())
    if arguments.csv is not None:
        write_atomically(arguments.csv, report.csv().encode())
    return 0


def _upscaler(
    name: str,
    scale: int,
    options: EngineOptions,
    store: ModelStore,
    layers: tuple[str, ...],
    artifact_options: ArtifactOptions,
) -> Upscaler:
    if name == BICUBIC:
        return BicubicUpscaler(scale)
    model, _ = resolve_model(name, store)
    if model.descriptor.scale != scale:
        raise LdlError(
            f"{name} is a ×{model.descriptor.scale} model but the evaluation is ×{scale}",
            f"use --scale {model.descriptor.scale} or a ×{scale} model",
        )
    engine = prepare_engine(model, options)
    how = f"{model.descriptor.summary()}, {engine.runner.description}, tile {engine.settings.tile}"
    if layers != ("detail",):
        how += (
            f"; layers {', '.join(layers)} with the {artifact_options.reference} reference, mask threshold "
            f"{artifact_options.threshold:g}, softness {artifact_options.softness:g}"
        )
    return ModelUpscaler(name, engine, how, layers, artifact_options)
