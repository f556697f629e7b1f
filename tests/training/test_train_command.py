"""``ldl train`` end to end on real photo crops with a tiny RRDBNet file and a random VGG19: each preset runs 3
iterations and leaves the log, TensorBoard events (when installed), a checkpoint and importable models; ``--resume``
(with ``--no-tensorboard``) continues to iteration 5; missing data, a bad starting model and missing VGG19 weights
give errors that say what to do."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.cli import build_parser, main
from ldl_backend.commands.train import recipe_from
from ldl_backend.errors import LdlError
from ldl_backend.models.formats.safetensors_file import write_safetensors
from ldl_backend.training.checkpoint import load_checkpoint
from ldl_backend.training.config import PresetName
from ldl_backend.training.tensorboard_log import TENSORBOARD_FOLDER
from tests.training.photos import write_photos


@pytest.fixture
def tiny_model_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "tiny.safetensors"
    write_safetensors(path, RRDBNet(RRDBNetConfig(num_block=2, num_feat=16)).state_dict())
    return path


def _train(*arguments: str) -> int:
    return main(["train", "--vgg", "random", "--patch", "32", "--batch", "2", "--no-progress", *arguments])


def _iterations(run: Path) -> list[int]:
    with (run / "log.csv").open() as stream:
        return [int(row["iteration"]) for row in csv.DictReader(stream)]


@pytest.mark.parametrize(("preset", "workers"), [("synthetic", "0"), ("realworld", "1")])
def test_each_preset_trains_checkpoints_exports_and_resumes(
    preset: str,
    workers: str,
    tiny_model_file: Path,
    tmp_path: Path,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write_photos(tmp_path / "photos")
    run = tmp_path / f"run-{preset}"
    common = ["--preset", preset, "--data", str(data), "--out", str(run), "--workers", workers, "--log-every", "1"]
    assert _train(*common, "--init", str(tiny_model_file), "--iters", "3") == 0
    captured = capsys.readouterr()
    assert "RANDOM weights" in captured.err and "NOT a usable fine-tune" in captured.err
    assert _iterations(run) == [1, 2, 3]
    assert load_checkpoint(run / "checkpoint.pt")["iteration"] == 3
    assert (run / "config.toml").read_text().startswith(f'preset = "{preset}"')
    exported = run / f"run-{preset}-ema.safetensors"
    assert exported.is_file() and (run / f"run-{preset}.safetensors").is_file()
    assert main(["models", "import", str(exported)]) == 0
    events = run / TENSORBOARD_FOLDER
    assert events.is_dir() == (importlib.util.find_spec("tensorboard") is not None)
    written = sorted(events.iterdir()) if events.is_dir() else []

    assert _train(*common, "--resume", "--iters", "5", "--no-tensorboard") == 0
    assert "resuming" in capsys.readouterr().err
    assert _iterations(run) == [1, 2, 3, 4, 5]
    assert (sorted(events.iterdir()) if events.is_dir() else []) == written  # no event file from the resume
    assert load_checkpoint(run / "checkpoint.pt")["iteration"] == 5
    # Starting over in a used folder is refused rather than overwriting the run.
    assert _train(*common, "--init", str(tiny_model_file), "--iters", "3") == 2
    assert "add --resume" in capsys.readouterr().err


def test_errors_say_what_to_do(
    tiny_model_file: Path, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_photos(tmp_path / "photos")
    out = ["--out", str(tmp_path / "run"), "--iters", "1"]
    assert (
        _train("--preset", "realworld", "--data", str(tmp_path / "nothing"), "--init", str(tiny_model_file), *out) == 2
    )
    assert "is not a folder" in capsys.readouterr().err
    assert _train("--preset", "realworld", *out) == 2
    assert "add --data" in capsys.readouterr().err
    not_a_model = tmp_path / "notes.pth"
    not_a_model.write_text("hello")
    assert _train("--preset", "synthetic", "--data", str(data), "--init", str(not_a_model), *out) == 2
    assert f"--init {not_a_model}" in capsys.readouterr().err
    assert _train("--preset", "synthetic", "--data", str(data), *out) == 2
    assert "needs a starting model" in capsys.readouterr().err
    no_vgg = ["train", "--preset", "synthetic", "--data", str(data), "--init", str(tiny_model_file), *out]
    assert main(no_vgg) == 2
    err = capsys.readouterr().err
    assert "torchvision-vgg19" in err and "ldl models fetch torchvision-vgg19" in err
    assert main(["train", "--data", str(data)]) == 2
    assert "--preset realworld" in capsys.readouterr().err


def test_a_recipe_file_with_flags_overriding_it(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('preset = "realworld"\n\n[loss]\ngan = 0.05\n\n[run]\niterations = 1000\n')
    parser = build_parser()
    arguments = parser.parse_args(["train", str(recipe), "--iters", "7", "--batch", "3", "--patch", "64"])
    config = recipe_from(arguments)
    assert config.preset is PresetName.REALWORLD and config.loss.gan == 0.05
    assert (config.run.iterations, config.data.batch, config.data.patch) == (7, 3, 64)
    assert config.data.queue_size == 180  # the pool stays a multiple of the batch (180 = 60 × 3)
    assert recipe_from(parser.parse_args(["train", str(recipe), "--batch", "7"])).data.queue_size == 175
    with pytest.raises(LdlError, match="contradicts the file's preset"):
        recipe_from(parser.parse_args(["train", str(recipe), "--preset", "synthetic"]))
