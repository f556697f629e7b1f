"""Training samples: HR crops degraded on the fly (real-world) or paired bicubic crops (synthetic), and the
DataLoader that feeds them in order from any position.

Every sample is a pure function of ``(seed, index)``: sample ``k`` belongs to epoch ``k // len(images)``, whose
image order is a permutation drawn from ``(seed, epoch)``; its crop, flips, rotation and degradation come from a
generator seeded with ``(seed, k)``. So the batches do not depend on how many worker processes load them or in
which order they finish, and a resumed run restarts the stream at ``iteration × batch × processes``
(``SamplePosition``).

Real-world: an HR crop of ``patch`` pixels, flipped (and rotated when the config says so), GT' = its unsharp mask,
LR = Real-ESRGAN's second-order degradation of GT' (as ``realesrgan/models/realesrganArtifactsDis_model.py``
degrades the sharpened GT). Each sample draws its own degradation, in the worker; Real-ESRGAN shares some of the
random choices (resize direction, noise kind) across a GPU batch.

Synthetic: ``DIR/HR`` + ``DIR/LR`` pairs (matched by name, LR = HR / scale), or HR images only, whose LR is MATLAB
bicubic of the modcropped image, rounded to 8 bits as a saved LR file would be. The bicubic is computed on the
crop plus a margin, which gives exactly the pixels of the whole-image resize.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ldl_backend.degradations.imresize import imresize
from ldl_backend.degradations.realesrgan import degrade_batch
from ldl_backend.evaluation.dataset import DatasetError, DatasetKind, discover_dataset
from ldl_backend.training.config import DataConfig, DataSource
from ldl_backend.training.images import TrainingDataError, list_images, read_rgb
from ldl_backend.training.sharpen import unsharp_mask

Sample = tuple[torch.Tensor, ...]
"""(LR 3×h×w, GT 3×H×W) or, real-world, (LR, GT, GT'); float32 in [0, 1]."""

_CACHED_IMAGES = 4  # decoded images each worker keeps; sample order visits an image once per epoch
_BICUBIC_MARGIN = 4  # LR pixels around a synthetic crop: more than the ×1/4 antialiased cubic's reach


@dataclass(frozen=True)
class ImagePair:
    hr: Path
    lr: Path | None = None


def find_training_images(folder: Path, source: DataSource) -> tuple[ImagePair, ...]:
    """The training set in ``folder``: images directly in it (HR), or ``HR/`` with an optional ``LR/`` (pairs,
    synthetic only). Raises ``TrainingDataError`` for a missing or empty folder or unpaired files."""
    if not (folder / "HR").is_dir():
        return tuple(ImagePair(path) for path in list_images(folder))
    try:
        found = discover_dataset(folder)
    except DatasetError as error:
        raise TrainingDataError(error.message, error.hint) from error
    if found.kind is DatasetKind.PAIRED and source is DataSource.DEGRADED_ON_THE_FLY:
        raise TrainingDataError(
            f"{folder} holds HR/ + LR/ pairs, but the real-world recipe makes its own LR images",
            "give --data the HR folder alone, or use --preset synthetic",
        )
    pairs = tuple(ImagePair(image.hr, image.lr) for image in found.images if image.hr is not None)
    if not pairs:
        raise TrainingDataError(f"{folder / 'HR'} holds no images", "put the high-resolution images there")
    return pairs


class TrainingSamples(Dataset[Sample]):
    """Sample ``k`` of the endless stream described in the module docstring (any ``k`` ≥ 0)."""

    def __init__(self, images: Sequence[ImagePair], config: DataConfig, seed: int) -> None:
        if not images:
            raise TrainingDataError("no training images", "give --data a folder of images")
        self.images = tuple(images)
        self.config = config
        self.seed = seed
        self._cache: dict[Path, np.ndarray] = {}

    def __len__(self) -> int:
        # Endless: the sampler gives the indices; this is one epoch, for tools that ask.
        return len(self.images)

    def image_of(self, index: int) -> ImagePair:
        epoch, position = divmod(index, len(self.images))
        order = np.random.default_rng([self.seed, 0, epoch]).permutation(len(self.images))
        return self.images[int(order[position])]

    def __getitem__(self, index: int) -> Sample:
        pair = self.image_of(index)
        rng = np.random.default_rng([self.seed, 1, index])
        if self.config.source is DataSource.DEGRADED_ON_THE_FLY:
            return self._degraded(pair, rng)
        return self._paired(pair, rng)

    def _read(self, path: Path) -> np.ndarray:
        image = self._cache.get(path)
        if image is None:
            image = read_rgb(path)
            if len(self._cache) >= _CACHED_IMAGES:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = image
        return image

    def _degraded(self, pair: ImagePair, rng: np.random.Generator) -> Sample:
        patch = self.config.patch
        hr = self._read(pair.hr)
        _check_size(pair.hr, hr, patch)
        top = int(rng.integers(hr.shape[0] - patch + 1))
        left = int(rng.integers(hr.shape[1] - patch + 1))
        gt = self._augment(_tensor(hr[top : top + patch, left : left + patch]), rng)
        sharp = unsharp_mask(gt[None])
        noise = torch.Generator().manual_seed(int(rng.integers(2**62)))
        lq = degrade_batch(sharp, self.config.scale, rng, noise)
        return lq[0], gt, sharp[0]

    def _paired(self, pair: ImagePair, rng: np.random.Generator) -> Sample:
        scale, patch = self.config.scale, self.config.patch
        lr_patch = patch // scale
        hr = self._read(pair.hr)
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        _check_size(pair.hr, hr, patch)
        lr_shape = (hr.shape[0] // scale, hr.shape[1] // scale)
        top = int(rng.integers(lr_shape[0] - lr_patch + 1))
        left = int(rng.integers(lr_shape[1] - lr_patch + 1))
        if pair.lr is None:
            lr_crop = _bicubic_crop(hr, scale, top, left, lr_patch)
        else:
            lr = self._read(pair.lr)
            if lr.shape[:2] != lr_shape:
                raise TrainingDataError(
                    f"{pair.lr.name} is {lr.shape[1]}×{lr.shape[0]}, not 1/{scale} of {pair.hr.name}",
                    f"make LR images exactly 1/{scale} of their HR image (cropped to a multiple of {scale})",
                )
            lr_crop = lr[top : top + lr_patch, left : left + lr_patch]
        hr_crop = hr[top * scale : top * scale + patch, left * scale : left * scale + patch]
        both = self._augment(torch.stack([_tensor(hr_crop), _upsampled(_tensor(lr_crop), scale)]), rng)
        return both[1, :, ::scale, ::scale].contiguous(), both[0].contiguous()

    def _augment(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """BasicSR's ``augment``: horizontal flip, then (with rotations) vertical flip and transpose, each with
        probability 1/2; the same for every image given (…×C×H×W)."""
        flips = rng.random(3) < 0.5
        if self.config.hflip and flips[0]:
            images = images.flip(-1)
        if self.config.rotate:
            if flips[1]:
                images = images.flip(-2)
            if flips[2]:
                images = images.transpose(-2, -1)
        return images.contiguous()


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


def _upsampled(lr: torch.Tensor, scale: int) -> torch.Tensor:
    # LR pixel (y, x) placed at HR (y·s, x·s): one flip/transpose of the stack then moves LR and HR alike.
    return lr.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def _check_size(path: Path, image: np.ndarray, patch: int) -> None:
    if min(image.shape[:2]) < patch:
        raise TrainingDataError(
            f"{path.name} is {image.shape[1]}×{image.shape[0]}, smaller than the {patch}-pixel training crop",
            "remove small images or use a smaller --patch",
        )


def _bicubic_crop(hr: np.ndarray, scale: int, top: int, left: int, size: int) -> np.ndarray:
    """Rows/columns [top, top+size) of ``imresize(hr, 1/scale)`` rounded to 8 bits, from a crop with a margin
    (clipped at the image edges, where the resize mirrors exactly as it does on the whole image)."""
    lr_h, lr_w = hr.shape[0] // scale, hr.shape[1] // scale
    y0, x0 = max(0, top - _BICUBIC_MARGIN), max(0, left - _BICUBIC_MARGIN)
    y1, x1 = min(lr_h, top + size + _BICUBIC_MARGIN), min(lr_w, left + size + _BICUBIC_MARGIN)
    region = imresize(hr[y0 * scale : y1 * scale, x0 * scale : x1 * scale], 1.0 / scale)
    crop = region[top - y0 : top - y0 + size, left - x0 : left - x0 + size]
    return np.clip(np.round(crop * 255.0), 0, 255).astype(np.float32) / 255.0


class SamplePosition(Sampler[int]):
    """The indices ``start, start + stride, start + 2·stride, …`` without end (the trainer stops after its last
    iteration). With several processes, process ``r`` of ``n`` reads ``start = base + r``, ``stride = n``: disjoint
    samples, and together the same stream as one process."""

    def __init__(self, start: int = 0, stride: int = 1) -> None:
        if start < 0 or stride < 1:
            raise ValueError(f"the sample position must be ≥ 0 and the stride ≥ 1, not {start} and {stride}")
        self.start = start
        self.stride = stride

    def __iter__(self) -> Iterator[int]:
        index = self.start
        while True:
            yield index
            index += self.stride


def _worker_init(_: int) -> None:
    # Workers share the cores with the training step; several intra-op threads each would oversubscribe them.
    torch.set_num_threads(1)
    # Ctrl-C reaches the whole process group: the main process saves a checkpoint at the next iteration
    # boundary, and needs its workers alive until then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def training_loader(
    samples: TrainingSamples, batch: int, workers: int, start: int = 0, stride: int = 1, pin_memory: bool = False
) -> DataLoader[Sample]:
    """Batches of ``batch`` samples from sample ``start`` on (every ``stride``-th; see ``SamplePosition``), loaded
    by ``workers`` processes (0: in this one); in page-locked memory with ``pin_memory`` (for CUDA training).

    Each batch is a tuple of N×3×h×w LR, N×3×H×W GT and (real-world) N×3×H×W GT' tensors. Raises ``ValueError``
    for a batch < 1 or workers < 0.
    """
    if batch < 1 or workers < 0:
        raise ValueError(f"batch {batch} and workers {workers}: use a batch ≥ 1 and workers ≥ 0")
    return DataLoader(
        samples,
        batch_size=batch,
        sampler=SamplePosition(start, stride),
        num_workers=workers,
        worker_init_fn=_worker_init if workers else None,
        prefetch_factor=2 if workers else None,
        pin_memory=pin_memory,
        # Without a generator of its own, each iterator draws its (unused: samples are seeded by index) base seed
        # from torch's global one, and a resumed run, which starts one more iterator, would not continue it exactly.
        generator=torch.Generator().manual_seed(0),
    )
