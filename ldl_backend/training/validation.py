"""Validation during training: upscale a folder's LR images with the EMA generator, score them against the HR
images (PSNR-Y, SSIM-Y with the scale as the border crop; NIQE and LPIPS when their files are installed), save the
outputs as samples and append the scores to ``validation.csv``.

The folder is ``HR/`` (+ optional ``LR/``) as ``ldl eval`` reads it, or HR images directly. LR images that are not
given are made once: MATLAB bicubic (synthetic) or the real-world degradation seeded by the image's position
(real-world), rounded to 8 bits. Images are upscaled whole, so keep validation images small (e.g. 128–512 px).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ldl_backend.degradations.imresize import bicubic_degrade, modcrop
from ldl_backend.degradations.realesrgan import degrade_image
from ldl_backend.evaluation.metric_suite import build_metric_suite
from ldl_backend.evaluation.scoring import MetricSuite, Score
from ldl_backend.imageio import ImageData, write_image
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.training.config import DataSource
from ldl_backend.training.data import find_training_images
from ldl_backend.training.images import read_rgb

VALIDATION_LOG = "validation.csv"
_COLUMNS = ("iteration", "image", "psnr_y", "ssim_y", "niqe", "lpips")


@dataclass(frozen=True)
class ValidationImage:
    name: str
    lr: np.ndarray  # h×w×3 float32 in [0, 1], on 8-bit levels
    hr: np.ndarray  # H×W×3 uint8, H = h·scale


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)


def load_validation_set(folder: Path, scale: int, source: DataSource) -> tuple[ValidationImage, ...]:
    """Read (and, where needed, degrade) the validation images. Raises ``TrainingDataError``."""
    images: list[ValidationImage] = []
    for index, pair in enumerate(find_training_images(folder, DataSource.BICUBIC_PAIRS)):
        hr = modcrop(read_rgb(pair.hr), scale)
        if pair.lr is not None:
            lr = read_rgb(pair.lr)
        elif source is DataSource.BICUBIC_PAIRS:
            lr = bicubic_degrade(hr, scale)
        else:
            lr = degrade_image(hr, scale, seed=index)
        lr = _to_uint8(lr).astype(np.float32) / 255.0
        images.append(ValidationImage(pair.hr.stem, lr, _to_uint8(hr)))
    return tuple(images)


class Validator:
    """Scores a generator on a validation set; ``assets`` decides whether NIQE and LPIPS are included."""

    def __init__(
        self,
        images: tuple[ValidationImage, ...],
        scale: int,
        run_dir: Path,
        assets: AssetStore,
        size_multiple: int = 1,
    ) -> None:
        self.images = images
        self.scale = scale
        self.size_multiple = size_multiple
        self.run_dir = run_dir
        self.suite: MetricSuite
        self.suite, self.description = build_metric_suite(scale, assets)

    def samples_folder(self, iteration: int) -> Path:
        """Where the outputs of the validation at ``iteration`` are saved (one PNG per image, by name)."""
        return self.run_dir / "samples" / f"iter_{iteration:07d}"

    @torch.no_grad()
    def __call__(self, generator: nn.Module, iteration: int) -> dict[str, Score]:
        """Upscale every image, save it under ``samples/iter_N/``, append the scores; returns the means."""
        device = next(generator.parameters()).device
        was_training = generator.training
        generator.eval()
        rows: list[dict[str, Score]] = []
        folder = self.samples_folder(iteration)
        try:
            for image in self.images:
                lr = torch.from_numpy(image.lr.transpose(2, 0, 1).copy())[None].to(device)
                # Networks with windows (SwinIR) need sides that are multiples of their window: pad, then crop.
                pad_h, pad_w = (-lr.shape[-2]) % self.size_multiple, (-lr.shape[-1]) % self.size_multiple
                if pad_h or pad_w:
                    lr = F.pad(lr, (0, pad_w, 0, pad_h), mode="reflect")
                sr = generator(lr).float().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()
                output = _to_uint8(sr)[: image.hr.shape[0], : image.hr.shape[1]]
                write_image(folder / f"{image.name}.png", ImageData(output), overwrite=True)
                score = self.suite.score(image.name, "ema", output, image.hr, 0.0)
                rows.append({"psnr_y": score.psnr_y, "ssim_y": score.ssim_y, "niqe": score.niqe, "lpips": score.lpips})
        finally:
            generator.train(was_training)
        self._append(iteration, rows)
        return {name: _mean([row[name] for row in rows]) for name in _COLUMNS[2:]}

    def _append(self, iteration: int, rows: list[dict[str, Score]]) -> None:
        path = self.run_dir / VALIDATION_LOG
        new = not path.is_file()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if new:
            writer.writerow(_COLUMNS)
        for image, row in zip(self.images, rows, strict=True):
            writer.writerow([iteration, image.name, *(_text(row[name]) for name in _COLUMNS[2:])])
        with path.open("a", encoding="utf-8", newline="") as stream:
            stream.write(buffer.getvalue())


def _text(score: Score) -> str:
    return score if isinstance(score, str) else f"{score:.6g}"


def _mean(scores: list[Score]) -> Score:
    numbers = [score for score in scores if not isinstance(score, str)]
    if len(numbers) != len(scores) or not numbers:
        return next((score for score in scores if isinstance(score, str)), "n/a")
    return float(np.mean(numbers))
