"""Installed assets: one verified file per asset under a root folder (the product's is ``paths.assets_root()``).

A file is installed only after its sha256 matched, and always by an atomic rename, so a file present under its
installed name is the published one; a failure at any step leaves the folder as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.errors import (
    AssetNotInstalledError,
    CatalogError,
    ChecksumMismatchError,
    ModelFileError,
    ModelNotFoundError,
)
from ldl_backend.models.archive import copy_verified, extract_member
from ldl_backend.models.assets import ArchiveMemberSource, AssetEntry, builtin_assets
from ldl_backend.models.download import ProgressCallback, download_verified
from ldl_backend.models.store import sha256_of


@dataclass(frozen=True)
class AssetStatus:
    entry: AssetEntry
    installed: bool
    path: Path


class AssetStore:
    """Assets installed under ``root``; ``entries`` defaults to ``builtin_assets()`` (tests pass their own)."""

    def __init__(self, root: Path, entries: Iterable[AssetEntry] | None = None) -> None:
        self.root = root
        self._entries: dict[str, AssetEntry] = {}
        for entry in builtin_assets() if entries is None else entries:
            if entry.name in self._entries:
                raise CatalogError(f"the asset list names {entry.name!r} twice", "names must be unique")
            self._entries[entry.name] = entry

    # -- reading -------------------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entries(self) -> tuple[AssetEntry, ...]:
        return tuple(self._entries.values())

    def get(self, name: str) -> AssetEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise ModelNotFoundError(f"no asset named {name!r}", f"known assets: {', '.join(self._entries)}") from None

    def location(self, name: str) -> Path:
        """Where the asset is (or would be) installed."""
        return self.root / self.get(name).installed_name

    def path_of(self, name: str) -> Path | None:
        """The installed file, or None when the asset is not installed."""
        path = self.location(name)
        return path if path.is_file() else None

    def status(self, name: str) -> AssetStatus:
        path = self.location(name)
        return AssetStatus(self.get(name), path.is_file(), path)

    def list(self) -> list[AssetStatus]:
        return [self.status(name) for name in self._entries]

    def require(self, name: str) -> Path:
        """The installed file; raises ``AssetNotInstalledError`` saying how to install it."""
        path = self.path_of(name)
        if path is None:
            raise AssetNotInstalledError(f"{name} is not installed", install_hint(self.get(name)))
        return path

    # -- changing ------------------------------------------------------------------------------------------
    def fetch(self, name: str, progress: ProgressCallback | None = None) -> Path:
        """Download the asset (for an archive member: the archive, then the member), verify, install atomically.

        Raises ``DownloadError``/``ChecksumMismatchError`` (network, HTTP, checksum) or ``ModelFileError`` (an
        archive without the member); nothing is left in ``root`` on failure.
        """
        entry = self.get(name)
        source = entry.source
        destination = self.location(name)
        if not isinstance(source, ArchiveMemberSource):
            download_verified(source.url, destination, source.sha256, progress=progress)
            return destination
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".fetch-") as scratch:
            archive = Path(scratch) / "archive"
            download_verified(
                source.url, archive, source.archive_sha256, max_bytes=source.archive_size, progress=progress
            )
            extract_member(archive, source.member, destination, source.sha256)
        return destination

    def import_file(self, name: str, path: Path) -> Path:
        """Install the asset from a local file: the asset file itself or, for an archive member, the archive.

        Raises ``ModelFileError`` when ``path`` is neither (checked by sha256); nothing is installed then.
        """
        entry = self.get(name)
        source = entry.source
        try:
            digest = sha256_of(path)
        except OSError as error:
            raise ModelFileError(f"{path} could not be read: {error.strerror}", "check the path") from error
        if isinstance(source, ArchiveMemberSource) and digest == source.archive_sha256:
            extract_member(path, source.member, self.location(name), source.sha256)
            return self.location(name)
        if digest != entry.sha256:
            raise ModelFileError(
                f"{path.name} is not the file {name} needs: its sha256 is {digest}, expected {entry.sha256}",
                install_hint(entry),
            )
        try:
            with path.open("rb") as stream:
                copy_verified(stream, self.location(name), entry.sha256, path.name)
        except ChecksumMismatchError as error:  # the file changed between hashing and copying
            raise ModelFileError(error.message, "the file changed while it was imported; try again") from error
        return self.location(name)

    def remove(self, name: str) -> None:
        self.location(name).unlink(missing_ok=True)


def install_hint(entry: AssetEntry) -> str:
    """How a user installs ``entry``: fetch on a connected machine, or import a copied file."""
    source = entry.source
    copied = (
        f"{source.file_name} or the archive it comes in ({source.url})"
        if isinstance(source, ArchiveMemberSource)
        else f"{source.file_name} ({source.url})"
    )
    return (
        f"run `ldl models fetch {entry.name}` on a connected machine, "
        f"or copy {copied} to this machine and run `ldl models import FILE --name {entry.name}`"
    )
