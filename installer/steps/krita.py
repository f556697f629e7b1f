"""Step "krita": copy the plugin and the client library into Krita's pykrita folder, enable it in kritarc, and
record where the backend lives.

Result in ``PYKRITA``::

    ldl_krita.desktop
    ldl_krita/              plugin/krita/ldl_krita, without caches
        ldl_client/         ldl_client (standard library only, relative imports)
        backend.json        {"python": ..., "ldl_studio_home": ... or null}

The package is assembled in a temporary folder beside it and swapped in with renames, so an older copy is replaced
whole and an interrupted run leaves the previous one working. Running the step twice gives the same files, and a
plug-in that is already these files is not written again.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ldl_client.backend_record import BackendRecord

from ..errors import InstallError
from ..files import replace_folder, same_tree, writable_folder, write_atomically
from ..kritarc import enable_plugin
from ..plugin_package import REPO_ROOT, assemble_package, default_client_source

PLUGIN_NAME = "ldl_krita"


@dataclass(frozen=True)
class KritaInstall:
    package: Path
    desktop_file: Path
    kritarc: Path
    kritarc_changed: bool
    record: BackendRecord
    changed: bool = True  # the plug-in's files were (re)written; False: they were already these


def install_krita_plugin(
    pykrita: Path,
    kritarc: Path,
    record: BackendRecord,
    plugin_source: Path | None = None,
    client_source: Path | None = None,
) -> KritaInstall:
    """Install into ``pykrita`` and enable in ``kritarc`` (both created when missing). Raises ``InstallError``."""
    plugin_source = plugin_source or REPO_ROOT / "plugin" / "krita"
    client = client_source or default_client_source()
    package_source = plugin_source / PLUGIN_NAME
    desktop_source = plugin_source / f"{PLUGIN_NAME}.desktop"
    for needed in (package_source / "__init__.py", desktop_source, client / "__init__.py"):
        if not needed.is_file():
            raise InstallError(f"{needed} is missing", "run the installer from a complete LDL Studio checkout")
    writable_folder(pykrita, "Krita plugin folder", "--krita-dir")
    existed = (pykrita / PLUGIN_NAME).exists()
    staging = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_NAME}-new-", dir=pykrita))
    try:
        package = staging / PLUGIN_NAME
        assemble_package(package_source, package, client, record)
        shutil.copy2(desktop_source, staging / desktop_source.name)
        desktop = pykrita / desktop_source.name
        changed = not (
            same_tree(package, pykrita / PLUGIN_NAME)
            and desktop.is_file()
            and desktop.read_bytes() == desktop_source.read_bytes()
        )
        if changed:
            replace_folder(package, pykrita / PLUGIN_NAME)
            (staging / desktop_source.name).replace(desktop)
    except OSError as e:
        raise InstallError(
            f"cannot install the Krita plugin into {pykrita}: {e}", "check the folder's permissions and free space"
        ) from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        enabled = _enable(kritarc)
    except InstallError:
        if not existed:  # undo the copy this run made: a plug-in Krita does not enable is of no use
            shutil.rmtree(pykrita / PLUGIN_NAME, ignore_errors=True)
            (pykrita / desktop_source.name).unlink(missing_ok=True)
        raise
    return KritaInstall(pykrita / PLUGIN_NAME, pykrita / desktop_source.name, kritarc, enabled, record, changed)


def _enable(kritarc: Path) -> bool:
    writable_folder(kritarc.parent, "Krita settings folder", "--config-dir")
    try:
        before = kritarc.read_bytes() if kritarc.exists() else b""
    except OSError as e:
        raise InstallError(f"cannot read {kritarc}: {e.strerror or e}", "check the file's permissions") from e
    # surrogateescape: bytes that are not UTF-8 go back out exactly as they came in.
    after = enable_plugin(before.decode("utf-8", "surrogateescape"), PLUGIN_NAME).encode("utf-8", "surrogateescape")
    if after == before:
        return False
    try:
        write_atomically(kritarc, after)
    except OSError as e:
        raise InstallError(f"cannot write {kritarc}: {e.strerror or e}", "check the file's permissions") from e
    return True


def krita_plugin_is_current(pykrita: Path, record: BackendRecord) -> bool:
    """The plug-in in ``pykrita`` is already what ``install_krita_plugin`` would write (assembled in the system's
    temporary folder, so nothing in ``pykrita`` is touched: for ``--dry-run``)."""
    plugin_source = REPO_ROOT / "plugin" / "krita"
    desktop = pykrita / f"{PLUGIN_NAME}.desktop"
    source_desktop = plugin_source / desktop.name
    if not (desktop.is_file() and source_desktop.is_file() and desktop.read_bytes() == source_desktop.read_bytes()):
        return False
    with tempfile.TemporaryDirectory(prefix="ldl-plan-") as scratch:
        package = Path(scratch) / PLUGIN_NAME
        assemble_package(plugin_source / PLUGIN_NAME, package, default_client_source(), record)
        return same_tree(package, pykrita / PLUGIN_NAME)
