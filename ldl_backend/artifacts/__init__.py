"""LDL's artifact map: the training form (from ground truth) and the inference-time estimate, masks and blending."""

from typing import TYPE_CHECKING

from ldl_backend.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from ldl_backend.artifacts.blend import Blender, ImageBlender, blend, blend_image
    from ldl_backend.artifacts.estimate import DEFAULT_REFERENCE, estimate_artifact_map
    from ldl_backend.artifacts.layers import UpscaleLayers, write_layers
    from ldl_backend.artifacts.masks import EditMode, RectRegion, SelectionRegion, Stroke, combine_mask, mask_from_map
    from ldl_backend.artifacts.references import TtaRunner
    from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
    from ldl_backend.artifacts.training_map import artifact_l1, local_variance, refined_artifact_map
    from ldl_client.options import ReferenceKind, ReferenceSource

# Imported on first use (see lazy_exports.py).
_EXPORTS = {
    "Blender": "ldl_backend.artifacts.blend",
    "ImageBlender": "ldl_backend.artifacts.blend",
    "blend": "ldl_backend.artifacts.blend",
    "blend_image": "ldl_backend.artifacts.blend",
    "DEFAULT_REFERENCE": "ldl_backend.artifacts.estimate",
    "estimate_artifact_map": "ldl_backend.artifacts.estimate",
    "UpscaleLayers": "ldl_backend.artifacts.layers",
    "write_layers": "ldl_backend.artifacts.layers",
    "EditMode": "ldl_backend.artifacts.masks",
    "RectRegion": "ldl_backend.artifacts.masks",
    "SelectionRegion": "ldl_backend.artifacts.masks",
    "Stroke": "ldl_backend.artifacts.masks",
    "combine_mask": "ldl_backend.artifacts.masks",
    "mask_from_map": "ldl_backend.artifacts.masks",
    "ReferenceKind": "ldl_client.options",
    "ReferenceSource": "ldl_client.options",
    "TtaRunner": "ldl_backend.artifacts.references",
    "ArtifactOptions": "ldl_backend.artifacts.selective",
    "upscale_with_layers": "ldl_backend.artifacts.selective",
    "artifact_l1": "ldl_backend.artifacts.training_map",
    "local_variance": "ldl_backend.artifacts.training_map",
    "refined_artifact_map": "ldl_backend.artifacts.training_map",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

__all__ = [
    "DEFAULT_REFERENCE",
    "ArtifactOptions",
    "Blender",
    "EditMode",
    "ImageBlender",
    "RectRegion",
    "ReferenceKind",
    "ReferenceSource",
    "SelectionRegion",
    "Stroke",
    "TtaRunner",
    "UpscaleLayers",
    "artifact_l1",
    "blend",
    "blend_image",
    "combine_mask",
    "estimate_artifact_map",
    "local_variance",
    "mask_from_map",
    "refined_artifact_map",
    "upscale_with_layers",
    "write_layers",
]
