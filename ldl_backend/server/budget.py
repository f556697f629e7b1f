"""A job's budgets, checked at submit from the image's header and the job's options, before a pixel is decoded:
the output pixels (the limit ``ldl upscale --max-pixels`` applies) and the memory the job will take at its peak.

The memory of the networks is estimated from the catalog entry (architecture and scale) with the architecture's
standard hyper-parameters: an imported model of unusual width is estimated as its architecture's usual one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ldl_backend import system_memory
from ldl_backend.artifacts.job_memory import ImageShape, JobMemory, estimate_job_memory
from ldl_backend.engine.device import ComputeTarget
from ldl_backend.engine.device import Precision as EnginePrecision
from ldl_backend.engine.files import largest_output
from ldl_backend.engine.memory import activation_bytes_per_pixel, tile_pixels, whole_image_pixels
from ldl_backend.engine.pipeline import OutputSize
from ldl_backend.engine.upscale import default_overlap
from ldl_backend.models.architectures.registry import architecture_spec
from ldl_backend.models.catalog import Catalog
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.meta_build import build_on_meta
from ldl_backend.server.errors import ApiError
from ldl_client.options import Precision, ReferenceKind, SubmitOptions

_MB = 1_000_000
# The engine's own rule decides whether an image runs whole, at the leanest precision the worker may pick.
_CPU_BF16 = ComputeTarget(torch.device("cpu"), EnginePrecision.BF16)
_CPU_FP32 = ComputeTarget(torch.device("cpu"), EnginePrecision.FP32)


@dataclass(frozen=True)
class Budgets:
    """``max_output_pixels``: the largest output (model scale or final size); ``max_job_memory``: bytes at the peak."""

    max_output_pixels: int
    max_job_memory: int


def job_tile_memory(max_job_memory: int) -> int:
    """The bytes a job's automatic CPU tiles may take: a quarter of the job budget, so the input, the layers and the
    weights keep the rest (the engine's own rule, a quarter of the free RAM, knows nothing of the server's budget)."""
    return max_job_memory // 4


def check_job(image: ImageShape, options: SubmitOptions, catalog: Catalog, budgets: Budgets) -> JobMemory:
    """The job's memory estimate when it fits both budgets. Raises 422 ``output_too_large`` or
    ``over_memory_budget``, each with the changes that would make it fit."""
    model_scale = catalog.get(options.model).scale
    output_size = None if options.scale is None else OutputSize(scale=options.scale)
    largest = largest_output(image.width, image.height, model_scale, output_size)
    if largest > budgets.max_output_pixels:
        raise ApiError(
            422,
            "output_too_large",
            f"upscaling this {image.width}×{image.height} image would make {largest:,} pixels, over the limit of "
            f"{budgets.max_output_pixels:,}",
            _hint(
                options,
                model_scale,
                image.pixels * budgets.max_output_pixels / largest,
                "raise `ldl serve --max-pixels`",
            ),
        )
    final = (output_size or OutputSize()).resolve(image.width, image.height, model_scale)
    estimate = estimate_job_memory(
        image,
        model_scale,
        final,
        tta=options.reference.kind is ReferenceKind.TTA,
        working=working_set(options, catalog, image.pixels, job_tile_memory(budgets.max_job_memory)),
    )
    if estimate.total > budgets.max_job_memory:
        # Input and layers grow with the pixels, and so do the activations of an image that runs whole; the weights
        # and a tiled image's activations do not.
        fixed = working_set(options, catalog, 0, job_tile_memory(budgets.max_job_memory))
        room = max(0, budgets.max_job_memory - fixed)
        fitting = image.pixels * room / max(1, estimate.total - fixed)
        hint = _hint(options, model_scale, fitting, "raise `ldl serve --max-job-memory`")
        if options.tile is not None and estimate.working > budgets.max_job_memory // 4:
            hint = f"use a smaller tile (or tile=auto); {hint}"
        raise ApiError(
            422,
            "over_memory_budget",
            f"this job would need about {estimate.total / _MB:,.0f} MB (input {estimate.input / _MB:,.0f}, layers "
            f"{estimate.layers / _MB:,.0f}, model and tile {estimate.working / _MB:,.0f}), over the server's budget "
            f"of {budgets.max_job_memory / _MB:,.0f} MB",
            hint,
        )
    return estimate


def working_set(options: SubmitOptions, catalog: Catalog, pixels: int, tile_memory: int | None = None) -> int:
    """Bytes of the job's networks for an image of ``pixels``: each model's fp32 weights and one tile's activations.
    Automatic tiles are the whole image where the engine may run it whole (``whole_image_pixels``), else the largest
    automatic CPU tile (``tile_pixels``, within ``tile_memory``; a GPU holds them in its own memory, so these bounds
    are generous there)."""
    names = [options.model]
    if options.reference.kind is ReferenceKind.MODEL and options.reference.model_name is not None:
        names.append(options.reference.model_name)
    free = system_memory.available_memory()
    # Whether the worker runs it whole is judged at its leanest precision (bf16 may run whole where fp32 would not);
    # what it then takes, at the precision asked for (fp32 when unsaid: the larger).
    asked = _CPU_FP32 if options.precision in (None, Precision.FP32) else _CPU_BF16
    total = 0
    for name in names:
        entry = catalog.get(name)
        descriptor = _standard_descriptor(str(entry.architecture), entry.scale)
        total += _weight_bytes(str(entry.architecture), entry.scale)
        if options.tile is not None:
            side = options.tile + 2 * default_overlap(descriptor)
            held = side * side
        elif pixels <= whole_image_pixels(descriptor, _CPU_BF16, free):
            held = pixels
        else:
            held = tile_pixels(descriptor, asked, free, tile_memory)
        total += int(held * activation_bytes_per_pixel(descriptor, asked.precision))
    return total


def _hint(options: SubmitOptions, model_scale: int, fitting: float, raise_it: str) -> str:
    """Ways to come under a budget: a smaller final scale where one was asked for beyond the model's, a crop of
    about ``fitting`` input pixels, or a higher server limit."""
    steps: list[str] = []
    if options.scale is not None and options.scale > model_scale:
        steps.append(f"a smaller scale (the model's own ×{model_scale} needs the least)")
    if fitting >= 1:
        steps.append(f"a crop of at most {fitting / _MB:,.2f} megapixels")
    steps.append(raise_it)
    if len(steps) == 1:
        return steps[0]
    return "send " + ", or ".join(steps[:-1]) + f"; or {steps[-1]}"


@functools.cache
def _standard_descriptor(architecture: str, scale: int) -> ModelDescriptor:
    spec = architecture_spec(architecture)
    return ModelDescriptor.from_config(spec.config_type(scale=scale), spec)


@functools.cache
def _weight_bytes(architecture: str, scale: int) -> int:
    # Built on the meta device: parameter shapes without memory or initialisation.
    network = build_on_meta(_standard_descriptor(architecture, scale).build)
    return sum(parameter.numel() * 4 for parameter in network.parameters())
