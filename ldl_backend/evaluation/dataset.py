"""Which images an evaluation covers: ``HR/`` alone, ``HR/`` + ``LR/`` pairs, or low-resolution images only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ldl_backend.errors import LdlError
from ldl_backend.imageio import INPUT_SUFFIXES

_SCALE_SUFFIX = re.compile(r"^(.+?)_?[xX]\d$")


class DatasetError(LdlError):
    """The evaluation folder's layout is not one ``ldl eval`` understands, or its pairs do not match."""


class DatasetKind(str, Enum):
    HR_ONLY = "HR (LR made here)"
    PAIRED = "HR + LR pairs"
    LR_ONLY = "LR only (no-reference metrics)"


@dataclass(frozen=True)
class EvalImage:
    """One image of the set: ``name`` is the file stem shared by its HR and LR files."""

    name: str
    hr: Path | None
    lr: Path | None


@dataclass(frozen=True)
class EvalDataset:
    root: Path
    kind: DatasetKind
    images: tuple[EvalImage, ...]

    @property
    def has_ground_truth(self) -> bool:
        return self.kind is not DatasetKind.LR_ONLY


def discover_dataset(root: Path) -> EvalDataset:
    """Find the images under ``root``.

    ``root/HR`` (and optionally ``root/LR``, paired by file stem, extensions may differ; an LR stem may carry the
    scale, ``baby.png`` ↔ ``babyx4.png``): full-reference metrics.
    Otherwise ``root/LR`` or the images directly in ``root`` are low-resolution inputs without ground truth.
    Raises ``DatasetError`` for a missing or empty folder, duplicate stems, or unpaired files (all named).
    """
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder", "give --data a folder holding HR/ (and LR/) or LR images")
    hr_folder, lr_folder = root / "HR", root / "LR"
    if hr_folder.is_dir():
        high = _images_by_stem(hr_folder)
        if not lr_folder.is_dir():
            images = tuple(EvalImage(name, path, None) for name, path in high.items())
            return EvalDataset(root, DatasetKind.HR_ONLY, images)
        low = _paired_stems(_images_by_stem(lr_folder), high)
        _check_pairs(high, low, hr_folder, lr_folder)
        images = tuple(EvalImage(name, high[name], low[name]) for name in high)
        return EvalDataset(root, DatasetKind.PAIRED, images)
    low = _images_by_stem(lr_folder if lr_folder.is_dir() else root)
    return EvalDataset(root, DatasetKind.LR_ONLY, tuple(EvalImage(name, None, path) for name, path in low.items()))


def _images_by_stem(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in INPUT_SUFFIXES:
            continue
        if path.stem in found:
            raise DatasetError(
                f"{found[path.stem].name} and {path.name} in {folder} have the same name",
                "keep one file per image name",
            )
        found[path.stem] = path
    if not found:
        raise DatasetError(f"no images in {folder}", "supported: PNG, JPEG, WebP, TIFF, BMP")
    return found


def _paired_stems(low: dict[str, Path], high: dict[str, Path]) -> dict[str, Path]:
    """LR files named like their HR file, or with the scale appended as many benchmark packs do (``0801x4``)."""
    renamed: dict[str, Path] = {}
    for stem, path in low.items():
        match = _SCALE_SUFFIX.match(stem)
        key = match.group(1) if stem not in high and match and match.group(1) in high else stem
        if key in renamed:
            raise DatasetError(f"{renamed[key].name} and {path.name} are both the LR of {key}", "keep one of them")
        renamed[key] = path
    return renamed


def _check_pairs(high: dict[str, Path], low: dict[str, Path], hr_folder: Path, lr_folder: Path) -> None:
    only_high = sorted(set(high) - set(low))
    only_low = sorted(set(low) - set(high))
    if only_high or only_low:
        details = []
        if only_high:
            details.append(f"without LR: {', '.join(only_high[:5])}{' …' if len(only_high) > 5 else ''}")
        if only_low:
            details.append(f"without HR: {', '.join(only_low[:5])}{' …' if len(only_low) > 5 else ''}")
        raise DatasetError(
            f"{hr_folder} and {lr_folder} do not pair up ({'; '.join(details)})",
            "give each HR image an LR image with the same name, or remove LR/ to make LR images here",
        )
