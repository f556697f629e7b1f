"""LDL's artifact map: the training form (from ground truth) and the inference-time estimate, masks and blending."""

from ldl_backend.artifacts.training_map import local_variance, refined_artifact_map

__all__ = ["local_variance", "refined_artifact_map"]
