"""The metrics of an ``ldl eval`` run, built from what is installed; the text the report's protocol shows."""

from __future__ import annotations

from functools import partial

import numpy as np

from ldl_backend.evaluation.scoring import MetricSuite
from ldl_backend.metrics.lpips import LpipsVariant, lpips_distance
from ldl_backend.metrics.lpips_weights import load_lpips, lpips_available
from ldl_backend.metrics.niqe import niqe
from ldl_backend.metrics.niqe_parameters import NiqeParameters
from ldl_backend.metrics.psnr import psnr
from ldl_backend.metrics.ssim import ssim
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.assets import NIQE_PRISTINE

LPIPS_VARIANT = LpipsVariant.ALEX  # the variant LDL's paper reports


def build_metric_suite(crop_border: int, assets: AssetStore) -> tuple[MetricSuite, str]:
    """(suite, protocol text). NIQE and LPIPS are included when their files are installed, else marked missing."""
    niqe_path = assets.path_of(NIQE_PRISTINE)
    niqe_metric = None
    if niqe_path is not None:
        niqe_metric = partial(_niqe_of, parameters=NiqeParameters.load(niqe_path), crop_border=crop_border)
    lpips_metric = None
    if lpips_available(LPIPS_VARIANT, assets):
        lpips_metric = partial(lpips_distance, load_lpips(LPIPS_VARIANT, assets))
    suite = MetricSuite(
        crop_border=crop_border,
        psnr_y=partial(psnr, crop_border=crop_border, y_channel=True),
        ssim_y=partial(ssim, crop_border=crop_border, y_channel=True),
        niqe=niqe_metric,
        lpips=lpips_metric,
    )
    niqe_text = (
        "NIQE (float64 as MATLAB, published pristine model), same crop"
        if niqe_metric
        else f"NIQE not installed (`ldl models fetch {NIQE_PRISTINE}`)"
    )
    lpips_text = f"LPIPS v0.1 {LPIPS_VARIANT.value}" if lpips_metric else "LPIPS not installed"
    text = (
        f"PSNR and SSIM on the Y channel of MATLAB's rgb2ycbcr (BT.601, 16–235) of 8-bit images, {crop_border} px "
        f"cropped from each border (BasicSR's conventions), SSIM with an 11×11 Gaussian window (σ 1.5); "
        f"{niqe_text}; {lpips_text}"
    )
    return suite, text


def _niqe_of(image: np.ndarray, *, parameters: NiqeParameters, crop_border: int) -> float:
    return niqe(image, parameters, crop_border=crop_border)
