"""LDL's artifact map: the training form (from ground truth) and the inference-time estimate, masks and blending."""

from ldl_backend.artifacts.blend import Blender, ImageBlender, blend, blend_image
from ldl_backend.artifacts.estimate import DEFAULT_REFERENCE, estimate_artifact_map
from ldl_backend.artifacts.layers import UpscaleLayers, write_layers
from ldl_backend.artifacts.masks import EditMode, RectRegion, SelectionRegion, Stroke, combine_mask, mask_from_map
from ldl_backend.artifacts.references import ReferenceKind, ReferenceSource, TtaRunner
from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.artifacts.training_map import local_variance, refined_artifact_map

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
