"""The `ldl` command, run in-process against an isolated data folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.archs.srvgg import SRVGGNetCompact
from ldl_backend.cli import main
from ldl_backend.errors import LdlError

# Every command here runs with its own LDL_STUDIO_HOME (models, cache) under tmp_path.
pytestmark = pytest.mark.usefixtures("isolated_home")


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

    assert main(["upscale", str(source), "-o", str(output), "-m", "tiny", "--tile", "32"]) == 0

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
    assert "realesrgan-x4plus " in listing and "packaged" in listing
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


def _bomb_png(path: Path) -> Path:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return path


def test_batch_goes_on_past_bad_files_and_reports_each(
    tmp_path: Path, tiny_compact: SRVGGNetCompact, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.save(tiny_compact.state_dict(), tmp_path / "compact.pth")
    folder = tmp_path / "in"
    folder.mkdir()
    _photo(folder / "good.png")
    good_png = (folder / "good.png").read_bytes()
    good_jpeg = tmp_path / "g.jpg"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(good_jpeg)
    bad = {
        "empty.png": b"",
        "noise.png": np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes(),
        "truncated.png": good_png[: len(good_png) // 2],
        "truncated.jpg": good_jpeg.read_bytes()[:300],
        "vector.tif": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    }
    for name, payload in bad.items():
        (folder / name).write_bytes(payload)
    _bomb_png(folder / "bomb.png")
    output = tmp_path / "out"

    code = main(["upscale", str(folder), "-o", str(output), "-m", str(tmp_path / "compact.pth"), "--tile", "64"])

    assert code == 1
    assert sorted(p.name for p in output.iterdir()) == ["good_x4.png"]
    errors = capsys.readouterr().err
    for name in [*bad, "bomb.png"]:
        assert f"failed: {folder / name}" in errors
    assert "1 done, 6 failed" in errors
    (bomb_line,) = [line for line in errors.splitlines() if f"failed: {folder / 'bomb.png'}" in line]
    assert "40000×40000" in bomb_line and "limit" in bomb_line


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path, tiny_compact: SRVGGNetCompact) -> None:
    torch.save(tiny_compact.state_dict(), tmp_path / "compact.pth")
    source = _photo(tmp_path / "in.png")
    output = tmp_path / "out.png"
    output.write_bytes(b"precious")
    arguments = ["upscale", str(source), "-o", str(output), "-m", str(tmp_path / "compact.pth")]
    assert main(arguments) == 1
    assert output.read_bytes() == b"precious"
    assert main([*arguments, "--overwrite"]) == 0
    with Image.open(output) as result:
        assert result.size == (96, 80)


def test_bad_options_are_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _photo(tmp_path / "in.png")
    assert main(["upscale", str(source), "--tile", "huge"]) == 2
    assert "invalid option" in capsys.readouterr().err
    assert main(["upscale", str(source), "--scale", "2", "--height", "10"]) == 2
    assert main(["upscale", str(source), "--device", "cpu", "--precision", "fp16"]) == 2
    assert "fp16 is not supported on the CPU" in capsys.readouterr().err
    assert main(["upscale", str(tmp_path / "missing.png")]) == 2


def test_a_tile_smaller_than_the_overlap_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _photo(tmp_path / "in.png")
    assert main(["upscale", str(source), "-m", "realesr-animevideov3", "--tile", "20"]) == 2
    error = capsys.readouterr().err
    assert "--tile 20 is too small" in error and "--tile 104 or more" in error


def test_the_input_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _photo(tmp_path / "in.png")
    before = source.read_bytes()
    assert main(["upscale", str(source), "-o", str(source), "--overwrite", "-m", "realesr-animevideov3"]) == 1
    assert source.read_bytes() == before
    assert "the input itself" in capsys.readouterr().err


def test_onnx_backend_matches_torch(tmp_path: Path, tiny_compact: SRVGGNetCompact, isolated_home: Path) -> None:
    torch.save(tiny_compact.state_dict(), tmp_path / "compact.pth")
    assert main(["models", "import", str(tmp_path / "compact.pth"), "--name", "tiny"]) == 0
    source = _photo(tmp_path / "in.png", size=(40, 30))
    common = ["upscale", str(source), "-m", "tiny", "--device", "cpu"]
    assert main([*common, "-o", str(tmp_path / "torch.png"), "--precision", "fp32"]) == 0
    assert main([*common, "-o", str(tmp_path / "onnx.png"), "--backend", "onnx"]) == 0
    assert (isolated_home / "models" / "onnx" / "tiny.onnx").is_file()  # cached for the next run
    with Image.open(tmp_path / "torch.png") as a, Image.open(tmp_path / "onnx.png") as b:
        difference = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16))
    assert difference.max() <= 1
    assert main([*common, "-o", str(tmp_path / "x.png"), "--backend", "onnx", "--precision", "bf16"]) == 2


def test_files_are_read_and_written_while_others_compute(
    tmp_path: Path, tiny_compact: SRVGGNetCompact, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ldl_backend.artifacts import files as artifact_files
    from ldl_backend.commands import upscale as upscale_command

    torch.save(tiny_compact.state_dict(), tmp_path / "compact.pth")
    folder, output = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for index in range(4):
        _photo(folder / f"p{index}.png", size=(24 + index, 20))
    model = ["-m", str(tmp_path / "compact.pth")]
    # The same files one by one: the reference bytes.
    for index in range(4):
        assert main(["upscale", str(folder / f"p{index}.png"), "-o", str(tmp_path / f"one{index}.png"), *model]) == 0
    capsys.readouterr()

    spans: dict[str, list[tuple[float, float]]] = {"read": [], "write": [], "compute": []}
    real_write, real_compute, real_read = (
        artifact_files.ComputedFile.write,
        artifact_files.compute_file,
        upscale_command.read_checked,
    )

    def timed(kind: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        time.sleep(0.2)  # a slow encoder, and a slow network: long enough to see whether they overlap
        try:
            return work()
        finally:
            spans[kind].append((started, time.perf_counter()))

    def slow_write(self: artifact_files.ComputedFile) -> object:
        def write() -> object:
            if self.job.source.name == "p2.png":  # a disk that fills up: reported for p2, the rest go on
                raise LdlError(f"no space left on the device for {self.job.destination}", "free some space")
            return real_write(self)

        return timed("write", write)

    def watched_compute(*args: object, **kwargs: object) -> object:
        return timed("compute", lambda: real_compute(*args, **kwargs))  # type: ignore[arg-type]

    def slow_read(*args: object) -> object:
        return timed("read", lambda: real_read(*args))  # type: ignore[arg-type]

    monkeypatch.setattr(artifact_files.ComputedFile, "write", slow_write)
    monkeypatch.setattr(upscale_command, "compute_file", watched_compute)
    monkeypatch.setattr(upscale_command, "read_checked", slow_read)
    assert main(["upscale", str(folder), "-o", str(output), *model]) == 1

    # While file i + 1 computes, file i is written; while file i computes, file i + 1 is read.
    read, compute, write = (sorted(spans[kind]) for kind in ("read", "compute", "write"))
    assert len(read) == len(compute) == len(write) == 4
    for index in range(3):
        assert write[index][0] < compute[index + 1][1] and compute[index + 1][0] < write[index][1]
        assert read[index + 1][0] < compute[index][1] and compute[index][0] < read[index + 1][1]
    errors = capsys.readouterr().err
    assert f"failed: {folder / 'p2.png'}: no space left" in errors and "3 done, 1 failed" in errors
    assert not (output / "p2_x4.png").exists()
    for index in (0, 1, 3):
        assert (output / f"p{index}_x4.png").read_bytes() == (tmp_path / f"one{index}.png").read_bytes()
