"""One upscale with its five layers: detail from the generator, a reference, the estimated map, the mask, the blend.

The same function serves the CLI and the server's worker, so both give identical layers for identical inputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from ldl_backend.artifacts.blend import blend_image
from ldl_backend.artifacts.estimate import estimate_artifact_map
from ldl_backend.artifacts.layers import UpscaleLayers
from ldl_backend.artifacts.masks import check_mask, mask_from_map
from ldl_backend.artifacts.references import TtaRunner
from ldl_backend.artifacts.stages import LayerStages
from ldl_backend.engine.pipeline import AlphaMode, OutputSize, resample, upscale_image
from ldl_backend.engine.progress import CancelToken, ProgressCallback
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.errors import LdlError
from ldl_backend.imageio import ImageData
from ldl_client.options import DEFAULT_REFERENCE, DEFAULT_SOFTNESS, DEFAULT_THRESHOLD, ReferenceKind, ReferenceSource


@dataclass(frozen=True)
class ArtifactOptions:
    """``reference``: where the reference comes from. ``threshold``/``softness``: the map → mask step.
    ``mask``: a user mask (H×W float in [0, 1] at the output size, 1 = keep detail) used instead of the map's."""

    reference: ReferenceSource = DEFAULT_REFERENCE
    threshold: float = DEFAULT_THRESHOLD
    softness: float = DEFAULT_SOFTNESS
    mask: np.ndarray | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("threshold", "softness"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")


def upscale_with_layers(
    image: ImageData,
    engine: PreparedEngine,
    options: ArtifactOptions,
    *,
    reference_engine: PreparedEngine | None = None,
    alpha_mode: AlphaMode = AlphaMode.RESIZE,
    output_size: OutputSize | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> UpscaleLayers:
    """The five layers of upscaling ``image`` with ``engine``'s model (``reference_engine`` runs a
    ``model:NAME`` reference). The map is estimated at the model's scale; with ``output_size`` every layer is then
    resampled to the final size. Raises what ``upscale_image`` raises, and ``LdlError`` for a user mask of the
    wrong size.

    ``progress`` counts the whole job (``LayerStages``): detail tiles, reference passes, the map and the blend.
    """
    stages = LayerStages(image, engine, options.reference, reference_engine, progress)
    stages.progress.start("detail")
    detail = upscale_image(
        image, engine.runner, engine.settings, alpha_mode=alpha_mode, progress=stages.detail(), cancel=cancel
    )
    stages.progress.start("reference")
    reference = _reference(image, engine, options.reference, reference_engine, detail, stages, cancel)
    stages.progress.start("map")
    artifact_map = estimate_artifact_map(
        detail.colour, reference.colour, low_res=image.colour, source=options.reference, scale=engine.runner.scale
    )
    stages.progress.start("blend")
    if output_size is not None:
        width, height = output_size.resolve(image.width, image.height, engine.runner.scale)
        detail, reference = resample(detail, width, height), resample(reference, width, height)
        artifact_map = np.clip(cv2.resize(artifact_map, (width, height), interpolation=cv2.INTER_AREA), 0.0, 1.0)
    if options.mask is not None:
        mask = check_mask(options.mask, detail.height, detail.width)
    else:
        mask = mask_from_map(artifact_map, options.threshold, options.softness)
    blended = blend_image(detail, reference, mask)
    stages.progress.finish("blend")
    return UpscaleLayers(detail, reference, artifact_map, mask, blended)


def _reference(
    image: ImageData,
    engine: PreparedEngine,
    source: ReferenceSource,
    reference_engine: PreparedEngine | None,
    detail: ImageData,
    stages: LayerStages,
    cancel: CancelToken | None,
) -> ImageData:
    scale = engine.runner.scale
    if source.kind is ReferenceKind.LANCZOS:
        return resample(image, image.width * scale, image.height * scale)
    if source.kind is ReferenceKind.MODEL:
        if reference_engine is None or reference_engine.runner.scale != scale:
            raise LdlError(
                f"the reference model {source.model_name} must be loaded and upscale ×{scale} like the detail model",
                "choose a reference model of the same scale, or --reference tta",
            )
        runner, settings = reference_engine.runner, reference_engine.settings
    else:
        # The identity transform's output is the detail layer already: average the others and mix it in.
        runner = TtaRunner(engine.runner, source.tta_count, skip_identity=True, cancel=cancel, on_pass=stages.tta_pass)
        settings = engine.settings
    # Alpha of the reference is never used (the blend keeps the detail's); a resize keeps premultiplication right.
    reference = upscale_image(
        image, runner, settings, alpha_mode=AlphaMode.RESIZE, progress=stages.reference(), cancel=cancel
    )
    colour = reference.colour
    if source.kind is ReferenceKind.TTA:
        others = np.float32(source.tta_count - 1)
        mean = (detail.colour.astype(np.float32) + others * colour.astype(np.float32)) / np.float32(source.tta_count)
        colour = mean if colour.dtype == np.float32 else np.round(mean).astype(colour.dtype)
    return ImageData(colour, detail.alpha, detail.metadata)
