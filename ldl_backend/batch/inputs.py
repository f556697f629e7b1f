"""Which files a batch covers and where each result goes: ``ldl upscale`` and ``ldl batch`` name outputs alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.errors import LdlError
from ldl_backend.imageio import INPUT_SUFFIXES

_SUFFIX_FOR_FORMAT = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "webp": ".webp"}


@dataclass(frozen=True)
class BatchItem:
    source: Path
    destination: Path


def collect_inputs(paths: Sequence[Path], recursive: bool) -> list[tuple[Path, Path]]:
    """(file, folder it was found in or its own parent) for every image under ``paths``, sorted, de-duplicated.

    Raises ``LdlError`` for a path that does not exist (a typo should not turn into an empty batch).
    """
    found: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for candidate in sorted(path.glob(pattern)):
                if candidate.is_file() and candidate.suffix.lower() in INPUT_SUFFIXES:
                    found.setdefault(candidate.resolve(), path)
        elif path.exists():
            found.setdefault(path.resolve(), path.parent)
        else:
            raise LdlError(f"{path} does not exist", "check the path")
    return [(file, root) for file, root in found.items()]


def plan_outputs(
    inputs: Sequence[tuple[Path, Path]], output: Path | None, suffix_label: str, file_format: str | None
) -> list[BatchItem]:
    """Destinations: ``output`` itself for one input file with a suffix; otherwise a folder (mirroring sub-folders
    of a recursive batch); beside each input when no output is given. Names get ``suffix_label`` (e.g. ``_x4``)."""
    single_file = len(inputs) == 1 and output is not None and output.suffix != "" and not output.is_dir()
    items: list[BatchItem] = []
    for source, root in inputs:
        extension = _SUFFIX_FOR_FORMAT[file_format] if file_format else _default_suffix(source)
        if single_file and output is not None:
            items.append(BatchItem(source, output))
            continue
        name = f"{source.stem}{suffix_label}{extension}"
        if output is None:
            items.append(BatchItem(source, source.with_name(name)))
        else:
            relative = source.parent.relative_to(root.resolve()) if source.is_relative_to(root.resolve()) else Path()
            items.append(BatchItem(source, output / relative / name))
    destinations = [item.destination for item in items]
    if len(set(destinations)) != len(destinations):
        raise LdlError("two inputs would be written to the same output file", "give each input a distinct name")
    return items


def _default_suffix(source: Path) -> str:
    # Keep the input's format; BMP becomes PNG (same pixels, compressed, with room for a profile).
    suffix = source.suffix.lower()
    return ".png" if suffix == ".bmp" else suffix
