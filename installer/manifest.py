"""The record of what the installer added, so ``--uninstall`` removes exactly that: ``<prefix>/install-manifest.json``.

Every file is listed with its sha256 (a link with its target), so a file the user changed after the install is kept.
Folders are listed only when the installer created them (removed when empty). The environment is one entry (its
thousands of files are the installer's own when it created the folder). The kritarc edit is listed as the line it
added or changed, with the value it replaced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import InstallError
from .files import write_atomically

MANIFEST_NAME = "install-manifest.json"
_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """``sha256``: the contents written; ``link``: a symbolic link's target instead (``sha256`` is then empty)."""

    path: str
    part: str
    sha256: str = ""
    link: str = ""


@dataclass(frozen=True)
class KritarcEdit:
    """``enable_<plugin>=true`` in ``path``; ``previous``: the value it replaced (None: the installer added the line),
    ``added_group``: the installer added the ``[python]`` group, ``created``: the installer created the file."""

    path: str
    plugin: str
    previous: str | None
    added_group: bool
    created: bool


@dataclass(frozen=True)
class EnvironmentEntry:
    """``created``: the installer made the folder (else it was there and is kept); ``source``: the fingerprint of the
    backend source and extras last installed; ``torch``: the PyTorch version kept or installed."""

    path: str
    python: str
    created: bool
    source: str
    torch: str


@dataclass
class Manifest:
    files: dict[str, FileEntry] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # path → part, for folders the installer created
    kritarc: KritarcEdit | None = None
    environment: EnvironmentEntry | None = None

    def add_file(self, path: Path, part: str) -> None:
        if path.is_symlink():
            self.files[str(path)] = FileEntry(str(path), part, link=str(path.readlink()))
        else:
            self.files[str(path)] = FileEntry(str(path), part, sha256=sha256_of(path))

    def add_folder(self, path: Path, part: str) -> None:
        self.folders.setdefault(str(path), part)

    def forget_part(self, part: str) -> None:
        self.files = {k: v for k, v in self.files.items() if v.part != part}

    def owns_unchanged(self, path: Path) -> bool:
        """``path`` is one the installer wrote and it is still as written (so it may be replaced or removed)."""
        entry = self.files.get(str(path))
        return entry is not None and matches(entry, path)

    def to_json(self) -> bytes:
        data = {
            "version": _VERSION,
            "environment": asdict(self.environment) if self.environment else None,
            "files": [asdict(entry) for _, entry in sorted(self.files.items())],
            "folders": [{"path": path, "part": part} for path, part in sorted(self.folders.items())],
            "kritarc": asdict(self.kritarc) if self.kritarc else None,
        }
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def matches(entry: FileEntry, path: Path) -> bool:
    if entry.link:
        return path.is_symlink() and str(path.readlink()) == entry.link
    return path.is_file() and not path.is_symlink() and sha256_of(path) == entry.sha256


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(path: Path) -> Manifest | None:
    """The manifest at ``path``; None when there is none. Raises ``InstallError`` for a file that is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InstallError(f"cannot read the install manifest {path}: {e}", "move it away and install again") from e
    try:
        if data["version"] != _VERSION:
            raise ValueError(f"version {data['version']}")
        environment = data["environment"]
        kritarc = data["kritarc"]
        return Manifest(
            files={entry["path"]: FileEntry(**entry) for entry in data["files"]},
            folders={entry["path"]: entry["part"] for entry in data["folders"]},
            kritarc=KritarcEdit(**kritarc) if kritarc else None,
            environment=EnvironmentEntry(**environment) if environment else None,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise InstallError(
            f"the install manifest {path} is not one this installer writes ({e})", "move it away and install again"
        ) from e


def save_manifest(path: Path, manifest: Manifest) -> bool:
    """Write ``manifest`` when it differs from the file; True when it was written."""
    data = manifest.to_json()
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    return True
