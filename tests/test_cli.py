"""The `ldl` command, run in-process against an isolated data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.archs.srvgg import SRVGGNetCompact
from ldl_backend.cli import main
from ldl_backend.paths import HOME_VARIABLE


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_VARIABLE, str(home))
    return home


def _photo(path: Path, size: tuple[int, int] = (24, 20), mode: str = "RGB") -> Path:
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    Image.fromarray(pixels.squeeze(), mode).save(path)
    return path


def test_upscale_with_an_imported_model_keeps_alpha(
    tmp_path: Path, tiny_compact: SRVGGNetCompact, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.save({"params": tiny_compact.state_dict()}, tmp_path / "compact.pth")
    assert main(["models", "import", str(tmp_path / "compact.pth"), "--name", "tiny"]) == 0
    source = _photo(tmp_path / "in.png", mode="RGBA")
    output = tmp_path / "out.png"

    assert main(["upscale", str(source), "-o", str(output), "-m", "tiny", "--tile", "16"]) == 0

    with Image.open(output) as result:
        assert result.size == (96, 80) and result.mode == "RGBA"
    assert "1 done, 0 failed" in capsys.readouterr().err


def test_upscale_of_a_corrupt_image_fails_cleanly_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    output = tmp_path / "out.png"
    assert main(["upscale", str(broken), "-o", str(output), "-m", "realesr-animevideov3"]) == 1
    error = capsys.readouterr().err
    assert f"failed: {broken}" in error and "0 done, 1 failed" in error
    assert not output.exists()


def test_models_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "realesrgan-x4plus " in listing and "built in" in listing
    assert main(["models", "info", "realesrnet-x4plus"]) == 0
    assert "a820b9bde89a874d" in capsys.readouterr().out
    assert main(["models", "info", "nope"]) == 2
    assert "no model named 'nope'" in capsys.readouterr().err
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    assert main(["models", "import", str(junk)]) == 2
    assert "hint:" in capsys.readouterr().err


def test_default_model_upscales_a_real_photo(tmp_path: Path) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    crop = skimage_data.chelsea()[100:132, 150:182]
    source = tmp_path / "chelsea.png"
    Image.fromarray(crop).save(source)
    output = tmp_path / "chelsea_x4.png"
    assert main(["upscale", str(source), "-o", str(output), "--threads", "2"]) == 0
    with Image.open(output) as result:
        upscaled = np.asarray(result.convert("RGB"), dtype=np.float32)
    assert upscaled.shape == (128, 128, 3)
    # The ×4 result shrunk back should look like the input (a broken conversion gives noise or a flat image).
    shrunk = np.asarray(Image.fromarray(upscaled.astype(np.uint8)).resize((32, 32), Image.Resampling.BOX), np.float32)
    assert float(np.abs(shrunk - crop.astype(np.float32)).mean()) < 12.0


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    from ldl_backend.storage import write_atomically

    target = tmp_path / "f.bin"
    write_atomically(target, b"x")
    assert target.stat().st_mode & 0o644 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
