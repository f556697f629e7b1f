"""Training data: batches fixed by the seed whatever the number of worker processes, LR and HR crops aligned
through flips and rotations, the bicubic LR of a crop equal to the crop of the whole image's, a resumed stream
equal to the rest of the uninterrupted one, and errors that name the folder or file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.degradations.imresize import imresize
from ldl_backend.training.config import REALWORLD, SYNTHETIC, DataConfig
from ldl_backend.training.data import (
    TrainingSamples,
    _bicubic_crop,  # pyright: ignore[reportPrivateUsage]
    find_training_images,
    training_loader,
)
from ldl_backend.training.images import TrainingDataError
from tests.training.photos import photo_crops, write_photos


def _data(preset_data: DataConfig, patch: int = 64) -> DataConfig:
    return dataclasses.replace(preset_data, patch=patch, batch=2, queue_size=0)


def _batches(samples: TrainingSamples, workers: int, count: int, start: int = 0) -> list[tuple[torch.Tensor, ...]]:
    iterator = iter(training_loader(samples, 2, workers, start))
    return [tuple(next(iterator)) for _ in range(count)]


def test_realworld_batches_are_fixed_by_the_seed_with_or_without_workers(tmp_path: Path) -> None:
    config = _data(REALWORLD.data)
    samples = TrainingSamples(find_training_images(write_photos(tmp_path / "hr"), config.source), config, seed=3)
    in_process = _batches(samples, workers=0, count=3)
    in_workers = _batches(samples, workers=2, count=3)
    for one, other in zip(in_process, in_workers, strict=True):
        assert [t.shape for t in one] == [(2, 3, 16, 16), (2, 3, 64, 64), (2, 3, 64, 64)]
        for a, b in zip(one, other, strict=True):
            assert torch.equal(a, b)
    # A resumed stream (sample position 2 batches in) continues exactly; another seed gives other batches.
    assert all(torch.equal(a, b) for a, b in zip(_batches(samples, 0, 1, start=4)[0], in_process[2], strict=True))
    reseeded = TrainingSamples(samples.images, config, seed=4)
    assert not torch.equal(_batches(reseeded, 0, 1)[0][0], in_process[0][0])
    lq, gt, sharp = in_process[0]
    assert float(lq.min()) >= 0 and float(lq.max()) <= 1
    assert not torch.equal(gt, sharp)  # GT' is the unsharp-masked GT


def test_processes_read_disjoint_shares_of_the_one_process_stream(tmp_path: Path) -> None:
    config = _data(SYNTHETIC.data, patch=32)
    samples = TrainingSamples(find_training_images(write_photos(tmp_path), config.source), config, seed=0)
    whole = tuple(next(iter(training_loader(samples, 4, 0))))
    for rank in (0, 1):
        share = next(iter(training_loader(samples, 2, 0, start=rank, stride=2)))
        for part, full in zip(share, whole, strict=True):
            assert torch.equal(part, full[rank::2])


def test_paired_crops_stay_aligned_through_flips_and_rotations(tmp_path: Path) -> None:
    # HR = LR enlarged by pixel repetition: an aligned crop of any flip/rotation has LR == GT[::4, ::4].
    for index, crop in enumerate(photo_crops()):
        low = crop[: crop.shape[0] // 4, : crop.shape[1] // 4]
        high = low.repeat(4, axis=0).repeat(4, axis=1)
        for folder, image in (("LR", low), ("HR", high)):
            (tmp_path / folder).mkdir(exist_ok=True)
            Image.fromarray(image).save(tmp_path / folder / f"p{index}.png")
    config = _data(SYNTHETIC.data, patch=64)
    assert config.rotate and config.hflip
    samples = TrainingSamples(find_training_images(tmp_path, config.source), config, seed=0)
    for lq, gt in _batches(samples, workers=0, count=8):
        assert lq.shape == (2, 3, 16, 16) and gt.shape == (2, 3, 64, 64)
        assert torch.equal(lq, gt[:, :, ::4, ::4])


def test_bicubic_lr_of_a_crop_equals_the_crop_of_the_whole_image() -> None:
    hr = photo_crops()[0].astype(np.float32)[:160, :160] / 255
    whole = np.clip(np.round(imresize(hr, 0.25) * 255), 0, 255) / 255
    for top, left in ((0, 0), (7, 21), (24, 24), (30, 3)):
        crop = _bicubic_crop(hr, 4, top, left, 16)
        np.testing.assert_array_equal(crop, whole[top : top + 16, left : left + 16].astype(np.float32))


def test_synthetic_hr_only_folder_gives_bicubic_pairs(tmp_path: Path) -> None:
    config = dataclasses.replace(_data(SYNTHETIC.data), rotate=False, hflip=False)
    samples = TrainingSamples(find_training_images(write_photos(tmp_path), config.source), config, seed=0)
    ((lq, gt),) = _batches(samples, workers=0, count=1)
    # The LR crop is the bicubic reduction of the HR crop, except near its border (context from outside the crop).
    reduced = torch.from_numpy(imresize(gt[0].permute(1, 2, 0).numpy(), 0.25)).permute(2, 0, 1)
    assert float((lq[0, :, 3:-3, 3:-3] - reduced[:, 3:-3, 3:-3]).abs().max()) < 1.5 / 255


def test_errors_name_the_folder_or_the_file(tmp_path: Path) -> None:
    source = REALWORLD.data.source
    with pytest.raises(TrainingDataError, match="is not a folder"):
        find_training_images(tmp_path / "missing", source)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainingDataError, match="holds no images"):
        find_training_images(tmp_path / "empty", source)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    samples = TrainingSamples(find_training_images(broken, source), _data(REALWORLD.data), seed=0)
    with pytest.raises(TrainingDataError, match=r"damaged\.png could not be read"):
        samples[0]
    small = tmp_path / "small"
    small.mkdir()
    Image.fromarray(photo_crops()[0][:40, :40]).save(small / "tiny.png")
    samples = TrainingSamples(find_training_images(small, source), _data(REALWORLD.data), seed=0)
    with pytest.raises(TrainingDataError, match=r"tiny\.png is 40×40, smaller than the 64-pixel"):
        samples[0]
    pairs = tmp_path / "pairs"
    write_photos(pairs / "HR")
    write_photos(pairs / "LR")
    with pytest.raises(TrainingDataError, match="real-world recipe makes its own LR"):
        find_training_images(pairs, source)
