"""The whole pipeline on files: every mode a photographer has, alpha, OOM recovery, cancellation, bad inputs."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
import torch
from display_p3 import display_p3_profile
from PIL import Image, ImageCms

from ldl_backend.artifacts.files import upscale_file
from ldl_backend.engine.device import ComputeTarget, Precision, choose_target, cpu_has_native_bf16
from ldl_backend.engine.files import FileJob
from ldl_backend.engine.oom import is_out_of_memory
from ldl_backend.engine.pipeline import OutputSize, upscale_image
from ldl_backend.engine.progress import CancelledError, CancelToken, Progress, ProgressTracker
from ldl_backend.engine.runners import ResizeRunner, TorchRunner
from ldl_backend.engine.tiled import OutOfMemoryError, TiledUpscaler, TileSettings
from ldl_backend.engine.upscale import EngineOptions, PreparedEngine, prepare_engine, run_untiled
from ldl_backend.errors import ImageTooLargeError, LdlError
from ldl_backend.imageio import read_image
from ldl_backend.imageio.image import ImageData
from ldl_backend.models.loading import LoadedModel

CPU32 = ComputeTarget(torch.device("cpu"), Precision.FP32)
SMALL_TILES = TileSettings(tile=32, overlap=20, blend=8)
DISPLAY_P3 = display_p3_profile()


@pytest.fixture
def engine(compact_model: LoadedModel) -> PreparedEngine:
    return PreparedEngine(TorchRunner(compact_model.network, compact_model.descriptor, CPU32), SMALL_TILES, CPU32)


def _noise(height: int, width: int, channels: int, top: int = 255, seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).integers(0, top + 1, (height, width, channels))
    return values.astype(np.uint16 if top > 255 else np.uint8)


def _save(image: Image.Image, path: Path, **options: Any) -> Path:
    image.save(path, **options)
    return path


def _png16_gray(path: Path, values: np.ndarray) -> Path:
    rows = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(values.shape[0]))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", values.shape[1], values.shape[0], 16, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


def _rotated_jpeg(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    return _save(Image.fromarray(_noise(20, 40, 3)), path, exif=exif.tobytes(), quality=95)


# name → (builder(tmp) → input path, output suffix, expected (width, height) at ×4, dtype, channels, alpha)
MODES: dict[str, tuple[Callable[[Path], Path], str, tuple[int, int], type, int, bool]] = {
    "1": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 1)[..., 0] > 127), d / "a.png"),
        ".png",
        (160, 120),
        np.uint8,
        1,
        False,
    ),
    "L": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 1)[..., 0]), d / "a.png"),
        ".png",
        (160, 120),
        np.uint8,
        1,
        False,
    ),
    "LA": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 2), "LA"), d / "a.png"),
        ".png",
        (160, 120),
        np.uint8,
        1,
        True,
    ),
    "P": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 3)).quantize(16), d / "a.png"),
        ".png",
        (160, 120),
        np.uint8,
        3,
        False,
    ),
    "P+transparency": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 3)).quantize(16), d / "a.png", transparency=0),
        ".png",
        (160, 120),
        np.uint8,
        3,
        True,
    ),
    "RGB": (lambda d: _save(Image.fromarray(_noise(30, 40, 3)), d / "a.png"), ".png", (160, 120), np.uint8, 3, False),
    "RGBA": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 4), "RGBA"), d / "a.png"),
        ".png",
        (160, 120),
        np.uint8,
        3,
        True,
    ),
    "CMYK": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 4), "CMYK"), d / "a.jpg", quality=95),
        ".jpg",
        (160, 120),
        np.uint8,
        3,
        False,
    ),
    "I;16": (
        lambda d: _png16_gray(d / "a.png", _noise(30, 40, 1, 65535)[..., 0]),
        ".png",
        (160, 120),
        np.uint16,
        1,
        False,
    ),
    "RGB16 TIFF": (lambda d: _tiff(d / "a.tif", _noise(30, 40, 3, 65535)), ".tif", (160, 120), np.uint16, 3, False),
    "float TIFF": (
        lambda d: _tiff(d / "a.tif", np.random.default_rng(1).random((30, 40, 3), dtype=np.float32)),
        ".tif",
        (160, 120),
        np.float32,
        3,
        False,
    ),
    "EXIF-rotated JPEG": (lambda d: _rotated_jpeg(d / "a.jpg"), ".jpg", (80, 160), np.uint8, 3, False),
    "ICC-tagged (Display P3)": (
        lambda d: _save(Image.fromarray(_noise(30, 40, 3)), d / "a.png", icc_profile=DISPLAY_P3),
        ".png",
        (160, 120),
        np.uint8,
        3,
        False,
    ),
}


def _tiff(path: Path, values: np.ndarray) -> Path:
    tifffile.imwrite(path, values, photometric="rgb", compression="zlib")
    return path


@pytest.mark.parametrize("mode", list(MODES))
def test_mode_matrix(mode: str, engine: PreparedEngine, tmp_path: Path) -> None:
    build, suffix, size, dtype, channels, has_alpha = MODES[mode]
    source = build(tmp_path)
    destination = tmp_path / f"out{suffix}"

    result = upscale_file(FileJob(source, destination), engine)

    assert result.output_size == size
    written = read_image(destination)
    assert (written.width, written.height) == size
    assert written.colour.dtype == dtype and written.colour.shape[2] == channels
    assert (written.alpha is not None) == has_alpha
    if dtype == np.uint16:
        assert written.colour.max() > 255 and np.any(written.colour % 257)  # 16 bits kept, not 8 bits stretched
    if mode == "ICC-tagged (Display P3)":
        assert written.metadata.icc_profile == DISPLAY_P3
        assert "Display P3" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(DISPLAY_P3)))
    if mode == "EXIF-rotated JPEG":
        assert Image.open(destination).getexif().get(0x0112, 1) == 1


def test_rotation_is_applied_before_upscaling(engine: PreparedEngine, tmp_path: Path) -> None:
    source = _rotated_jpeg(tmp_path / "r.jpg")
    upright = read_image(source)
    result = upscale_image(upright, ResizeRunner(4), SMALL_TILES)
    with Image.open(source) as raw:
        expected = np.asarray(raw.transpose(Image.Transpose.ROTATE_270))
    assert upright.colour.shape[:2] == expected.shape[:2] == (40, 20)
    assert np.abs(upright.colour.astype(int) - expected.astype(int)).max() <= 1
    assert result.colour.shape[:2] == (160, 80)


def test_alpha_edges_keep_their_colour(engine: PreparedEngine) -> None:
    # A red disc on fully transparent *black*: straight (non-premultiplied) upscaling pulls black into the edge.
    yy, xx = np.mgrid[:48, :48]
    inside = (yy - 24) ** 2 + (xx - 24) ** 2 < 15**2
    colour = np.zeros((48, 48, 3), dtype=np.uint8)
    colour[inside] = (230, 30, 30)
    alpha = np.where(inside, 255, 0).astype(np.uint8)
    result = upscale_image(ImageData(colour, alpha), ResizeRunner(4), SMALL_TILES)
    assert result.alpha is not None
    edge = (result.alpha > 25) & (result.alpha < 230)
    assert edge.sum() > 100
    assert result.colour[edge][:, 0].min() >= 215  # red stays red where the disc fades out


def test_out_of_memory_splits_the_tile_and_matches_untiled(compact_model: LoadedModel) -> None:
    class OutOfMemoryAbove24:
        def __init__(self) -> None:
            self.inner = TorchRunner(compact_model.network, compact_model.descriptor, CPU32)
            self.scale, self.description, self.largest = 4, "fault injection", 0

        def run(self, batch: np.ndarray) -> np.ndarray:
            if max(batch.shape[2:]) > 24:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            self.largest = max(self.largest, *batch.shape[2:])
            return self.inner.run(batch)

        def release_memory(self) -> None:
            pass

    image = np.random.default_rng(3).random((45, 61, 3), dtype=np.float32)
    runner = OutOfMemoryAbove24()
    overlap = 2 * compact_model.descriptor.receptive_field + 2
    upscaler = TiledUpscaler(runner, TileSettings(48, overlap, 2, min_tile=8), ProgressTracker(0))
    output = np.empty((180, 244, 3), dtype=np.float32)
    upscaler.upscale(image, output, stage="colour")
    assert upscaler.tile <= 24 and 0 < runner.largest <= 24
    np.testing.assert_allclose(output, run_untiled(compact_model, image, CPU32), atol=2e-5)

    fixed = TiledUpscaler(OutOfMemoryAbove24(), TileSettings(48, overlap, 2, fixed=True), ProgressTracker(0))
    with pytest.raises(OutOfMemoryError, match="tile size 48") as caught:
        fixed.upscale(image, output, stage="colour")
    assert "--tile" in caught.value.hint


def test_out_of_memory_is_recognised_by_type_and_for_mps() -> None:
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 1.00 GB, other: 0 B)"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(RuntimeError("Expected all tensors to be on the same device"))
    assert not is_out_of_memory(ValueError("out of memory"))


def test_cancel_stops_within_one_tile_and_writes_nothing(engine: PreparedEngine, tmp_path: Path) -> None:
    source = _save(Image.fromarray(_noise(64, 64, 3)), tmp_path / "in.png")
    destination = tmp_path / "out.png"
    token = CancelToken()
    calls: list[int] = []
    real_run = engine.runner.run

    def counting(batch: np.ndarray) -> np.ndarray:
        calls.append(1)
        return real_run(batch)

    engine.runner.run = counting  # type: ignore[method-assign]

    def cancel_after_two(progress: Progress) -> None:
        if progress.done == 2:
            token.cancel()

    with pytest.raises(CancelledError):
        upscale_file(FileJob(source, destination), engine, progress=cancel_after_two, cancel=token)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_progress_reports_tiles_and_time(engine: PreparedEngine, tmp_path: Path) -> None:
    source = _save(Image.fromarray(_noise(40, 70, 4), "RGBA"), tmp_path / "in.png")
    seen: list[Progress] = []
    upscale_file(FileJob(source, tmp_path / "out.png"), engine, progress=seen.append)
    tiles = [p for p in seen if p.partial == 0]
    assert [p.done for p in tiles] == list(range(1, seen[0].total + 1))
    assert {p.stage for p in seen} == {"alpha", "colour"}
    assert seen[-1].remaining == 0.0 and seen[0].elapsed >= 0
    # Inside the colour tile, the network's blocks report the share done (the bicubic alpha has no blocks).
    inside = [p for p in seen if p.partial > 0]
    assert inside and all(p.stage == "colour" and 0 < p.partial < 1 for p in inside)
    for done in {p.done for p in inside}:
        shares = [p.partial for p in inside if p.done == done]
        assert shares == sorted(shares) and len(shares) > 1


def test_cancel_lands_between_the_blocks_of_a_whole_image_tile(compact_model: LoadedModel, tmp_path: Path) -> None:
    # A whole image is one tile (minutes on a CPU for a large photo): cancel must not wait for its end.
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    source = _save(Image.fromarray(_noise(48, 48, 3)), tmp_path / "in.png")
    assert engine.describe_plan(48, 48).startswith("one tile")
    token = CancelToken()
    seen: list[float] = []

    def cancel_halfway(progress: Progress) -> None:
        seen.append(progress.partial)
        if progress.partial >= 0.5:
            token.cancel()

    with pytest.raises(CancelledError):
        upscale_file(FileJob(source, tmp_path / "out.png"), engine, progress=cancel_halfway, cancel=token)
    assert 0.5 <= seen[-1] < 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]
    # The block hooks live only through a run: the shared network is left as it was.
    assert not any(module._forward_hooks for module in compact_model.network.modules())


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (OutputSize(scale=2), (80, 60)),
        (OutputSize(scale=3), (120, 90)),
        (OutputSize(width=100), (100, 75)),
        (OutputSize(height=45), (60, 45)),
        (OutputSize(width=50, height=20), (50, 20)),
    ],
)
def test_output_size(size: OutputSize, expected: tuple[int, int], engine: PreparedEngine, tmp_path: Path) -> None:
    source = _save(Image.fromarray(_noise(30, 40, 4), "RGBA"), tmp_path / "in.png")
    result = upscale_file(FileJob(source, tmp_path / "out.png", output_size=size), engine)
    assert result.output_size == expected
    written = read_image(tmp_path / "out.png")
    assert (written.width, written.height) == expected and written.alpha is not None


def test_default_precision_is_the_fast_one(compact_model: LoadedModel) -> None:
    expected = Precision.BF16 if cpu_has_native_bf16() else Precision.FP32
    assert choose_target(compact_model.descriptor, "cpu").precision is expected
    with pytest.raises(LdlError, match="fp16 is not supported on the CPU"):
        choose_target(compact_model.descriptor, "cpu", Precision.FP16)
    with pytest.raises(LdlError, match="no CUDA GPU") if not torch.cuda.is_available() else pytest.raises(Exception):
        choose_target(compact_model.descriptor, "cuda")


def test_pixel_budget_is_checked_before_decoding(
    engine: PreparedEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _save(Image.fromarray(_noise(30, 40, 3)), tmp_path / "in.png")

    def must_not_decode(*_: object, **__: object) -> ImageData:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr("ldl_backend.engine.files.read_image", must_not_decode)
    with pytest.raises(ImageTooLargeError, match="307,200-pixel image, over the limit of 10,000") as caught:
        upscale_file(
            FileJob(source, tmp_path / "out.png", output_size=OutputSize(scale=16), max_output_pixels=10_000), engine
        )
    assert "--max-pixels" in caught.value.hint
    assert not (tmp_path / "out.png").exists()
