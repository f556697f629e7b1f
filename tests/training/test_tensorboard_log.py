"""TensorBoard logging of a training run (tiny RRDBNet on photo crops, no perceptual loss): the event file holds the
CSV rows' values and the validation's scores and samples, once per step after a resume; without the package (its
import made to fail) the run keeps its CSV log and says so in one line; the opt-out writes nothing."""

from __future__ import annotations

import csv
import dataclasses
import shutil
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.training.config import SYNTHETIC, TrainingConfig
from ldl_backend.training.run_log import COLUMNS
from ldl_backend.training.step import StepLosses
from ldl_backend.training.tensorboard_log import NOT_INSTALLED, TENSORBOARD_FOLDER, open_tensorboard
from ldl_backend.training.trainer import Trainer, TrainerOptions
from tests.training.photos import photo_crops, write_photos


def _config() -> TrainingConfig:
    return dataclasses.replace(
        SYNTHETIC,
        data=dataclasses.replace(SYNTHETIC.data, patch=32, batch=2),
        discriminator=dataclasses.replace(SYNTHETIC.discriminator, num_feat=16),
        loss=dataclasses.replace(SYNTHETIC.loss, perceptual=0.0),
        run=dataclasses.replace(
            SYNTHETIC.run, iterations=3, log_interval=1, checkpoint_interval=2, validation_interval=2, seed=1
        ),
    )


def _trainer(options: TrainerOptions) -> Trainer:
    torch.manual_seed(0)
    tiny = RRDBNet(RRDBNetConfig(num_block=1, num_feat=16, num_grow_ch=8)).state_dict()
    return Trainer(_config(), LoadedModel(*default_registry().load(tiny)), None, options)


def _options(tmp_path: Path, **changes: object) -> TrainerOptions:
    data = tmp_path / "photos"
    if not data.is_dir():
        write_photos(data)
    return TrainerOptions(run_dir=tmp_path / "run", data=data, progress=False, **changes)  # type: ignore[arg-type]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_tensorboard_holds_the_csv_rows_and_the_validation_once_per_step(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    validation = tmp_path / "val"
    validation.mkdir()
    Image.fromarray(photo_crops()[1][:32, :48]).save(validation / "cat.png")
    options = _options(tmp_path, validation=validation)
    trainer = _trainer(options)
    at_2 = tmp_path / "checkpoint-2.pt"

    def keep_checkpoint_2(iteration: int, _: StepLosses) -> None:
        if iteration == 3:  # called before iteration 3 is logged and saved
            shutil.copy(trainer.checkpoint_path, at_2)

    trainer.run(on_step=keep_checkpoint_2)
    # As if the run had died after logging iteration 3, before its checkpoint: the resumed run logs 3 again.
    shutil.copy(at_2, trainer.checkpoint_path)
    # TensorBoard orders a folder's event files by name, whole seconds first, then a counter compared as text.
    time.sleep(1.01 - time.time() % 1)
    resumed, _ = Trainer.resume(options, None)
    resumed.run()

    events = EventAccumulator(str(options.run_dir / TENSORBOARD_FOLDER))
    events.Reload()
    rows = _rows(options.run_dir / "log.csv")
    assert [int(row["iteration"]) for row in rows] == [1, 2, 3]
    for name in COLUMNS[1:]:
        scalars = events.Scalars(f"train/{name}")
        assert [scalar.step for scalar in scalars] == [1, 2, 3], name  # iteration 3 once: the resumed run's
        assert [scalar.value for scalar in scalars] == pytest.approx([float(row[name]) for row in rows], rel=1e-5)

    [score] = _rows(options.run_dir / "validation.csv")
    for name in ("psnr_y", "ssim_y"):
        [scalar] = events.Scalars(f"val/{name}")
        assert (scalar.step, scalar.value) == (2, pytest.approx(float(score[name]), rel=1e-5))
    assert "val/niqe" not in events.Tags()["scalars"]  # "not installed" is text, not a score
    [image] = events.Images("samples/cat")
    assert (image.step, image.width, image.height) == (2, 48, 32)


def test_without_the_package_the_run_keeps_its_csv_log_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import fail
    assert open_tensorboard(tmp_path / "elsewhere") is None
    options = _options(tmp_path)
    _trainer(options).run(until=2)
    captured = capsys.readouterr()
    assert captured.err.strip() == NOT_INSTALLED and not captured.out
    assert not (options.run_dir / TENSORBOARD_FOLDER).exists()
    assert [row["iteration"] for row in _rows(options.run_dir / "log.csv")] == ["1", "2"]


def test_the_opt_out_writes_no_event_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorboard")
    options = _options(tmp_path, tensorboard=False)
    _trainer(options).run(until=1)
    assert not (options.run_dir / TENSORBOARD_FOLDER).exists()
    assert NOT_INSTALLED not in capsys.readouterr().err
