"""Errors of the quality metrics (PSNR, SSIM, NIQE)."""

from __future__ import annotations

from ldl_backend.errors import LdlError


class MetricInputError(LdlError):
    """An image given to a metric has the wrong type, shape or size for it."""

    code = "bad_metric_input"


class NiqeParametersError(LdlError):
    """The NIQE pristine-model file is missing, unreadable or does not hold what NIQE needs."""

    code = "bad_niqe_parameters"
