"""Writing: format choice, atomicity, overwrite protection, refusals, JPEG settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from imageio_helpers import gradient
from PIL import Image, JpegImagePlugin

from ldl_backend.errors import ImageFileError, OutputExistsError
from ldl_backend.imageio import ImageData, read_image, write_image


def _rgb(dtype: type[np.generic] = np.uint8, alpha: bool = False) -> ImageData:
    colour = gradient(8, 9, 3, dtype)
    return ImageData(colour, gradient(8, 9, 1, dtype, seed=5)[:, :, 0] if alpha else None)


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


@pytest.mark.parametrize(
    ("name", "file_format", "expected"),
    [
        ("a.png", None, "PNG"),
        ("a.PNG", None, "PNG"),
        ("a.tif", None, "TIFF"),
        ("a.tiff", None, "TIFF"),
        ("a.jpg", None, "JPEG"),
        ("a.jpeg", None, "JPEG"),
        ("a.webp", None, "WEBP"),
        ("a.out", "png", "PNG"),
        ("a.png", "jpg", "JPEG"),
        ("a.png", "TIF", "TIFF"),
    ],
)
def test_format_comes_from_the_argument_or_the_suffix(
    tmp_path: Path, name: str, file_format: str | None, expected: str
) -> None:
    write_image(tmp_path / name, _rgb(), file_format=file_format)
    with Image.open(tmp_path / name) as written:
        assert written.format == expected


@pytest.mark.parametrize(("name", "file_format"), [("a.gif", None), ("a", None), ("a.png", "bmp")])
def test_unknown_output_format_is_refused(tmp_path: Path, name: str, file_format: str | None) -> None:
    with pytest.raises(ImageFileError) as caught:
        write_image(tmp_path / name, _rgb(), file_format=file_format)
    assert caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    with pytest.raises(OutputExistsError) as caught:
        write_image(path, _rgb())
    assert caught.value.code == "output_exists"
    assert "--overwrite" in caught.value.hint
    assert path.read_bytes() == b"precious"
    write_image(path, _rgb(), overwrite=True)
    assert read_image(path).width == 9
    assert _leftovers(tmp_path) == []


def test_jpeg_refuses_alpha_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ImageFileError, match="JPEG cannot store transparency") as caught:
        write_image(tmp_path / "out.jpg", _rgb(alpha=True))
    assert "PNG" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_leaves_no_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tifffile, "imwrite", disk_full)
    with pytest.raises(ImageFileError, match="No space left"):
        write_image(tmp_path / "out.tif", _rgb(np.uint16))
    assert list(tmp_path.iterdir()) == []
    # Overwriting: the old file survives a failed write.
    (tmp_path / "old.tif").write_bytes(b"old")
    with pytest.raises(ImageFileError):
        write_image(tmp_path / "old.tif", _rgb(np.uint16), overwrite=True)
    assert (tmp_path / "old.tif").read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_webp_larger_than_the_format_allows_is_refused_before_writing(tmp_path: Path) -> None:
    wide = ImageData(np.zeros((1, 16384, 1), np.uint8))
    with pytest.raises(ImageFileError, match="16383"):
        write_image(tmp_path / "wide.webp", wide)
    assert list(tmp_path.iterdir()) == []


def test_output_folder_is_refused_as_a_target(tmp_path: Path) -> None:
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageFileError, match="folder"):
        write_image(tmp_path / "out.png", _rgb(), overwrite=True)


def test_jpeg_quality_and_chroma_subsampling(tmp_path: Path) -> None:
    photo = ImageData(gradient(64, 64, 3, np.uint8))
    write_image(tmp_path / "q95.jpg", photo, quality=95)
    write_image(tmp_path / "q90.jpg", photo, quality=90)
    write_image(tmp_path / "q50.jpg", photo, quality=50)
    for name, sampling in (("q95.jpg", 0), ("q90.jpg", 0), ("q50.jpg", 2)):  # 0 = 4:4:4, 2 = 4:2:0
        with Image.open(tmp_path / name) as jpeg:
            assert isinstance(jpeg, JpegImagePlugin.JpegImageFile)
            assert JpegImagePlugin.get_sampling(jpeg) == sampling
    assert (tmp_path / "q50.jpg").stat().st_size < (tmp_path / "q95.jpg").stat().st_size
    with pytest.raises(ValueError, match="quality"):
        write_image(tmp_path / "bad.jpg", photo, quality=0)


def test_webp_keeps_alpha(tmp_path: Path) -> None:
    image = _rgb(alpha=True)
    write_image(tmp_path / "out.webp", image, quality=100)
    back = read_image(tmp_path / "out.webp")
    assert back.alpha is not None and image.alpha is not None
    assert np.abs(back.alpha.astype(int) - image.alpha.astype(int)).max() <= 2


def test_tiff_alpha_is_an_unassociated_extra_sample(tmp_path: Path) -> None:
    write_image(tmp_path / "out.tif", _rgb(np.uint16, alpha=True))
    with tifffile.TiffFile(tmp_path / "out.tif") as tiff:
        page = tiff.pages.first
        assert page.photometric == tifffile.PHOTOMETRIC.RGB
        assert page.extrasamples == (tifffile.EXTRASAMPLE.UNASSALPHA,)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.dtype == np.uint16


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    write_image(tmp_path / "a" / "b" / "out.png", _rgb())
    assert (tmp_path / "a" / "b" / "out.png").is_file()
