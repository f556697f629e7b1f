"""Step "gimp": copy the GIMP 3 plug-in and the client library into GIMP's plug-ins folder and record where the
backend lives.

Result in ``PLUG_INS``::

    ldl_upscale/            plugin/gimp/ldl_upscale, without caches
        ldl_upscale.py      mode 0755: GIMP runs it as a program (#!/usr/bin/env python3)
        ldl_gimp/
        ldl_client/         ldl_client (standard library only, relative imports)
        backend.json        {"python": ..., "ldl_studio_home": ... or null}

GIMP 3 registers ``NAME/NAME.py`` files of its plug-ins folders at start-up, so the folder and the script share a
name. The folder is assembled in a temporary folder beside it and swapped in with renames, so an older copy is
replaced whole and an interrupted run leaves the previous one working. Running the step twice gives the same files.
There is nothing to enable: GIMP loads every plug-in it finds.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ldl_client.backend_record import BackendRecord

from ..errors import InstallError
from ..files import replace_folder, same_tree, writable_folder
from ..plugin_package import REPO_ROOT, assemble_package, default_client_source

PLUGIN_NAME = "ldl_upscale"
HOST_PACKAGE = "ldl_gimp"
EXECUTABLE = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH  # 0755


@dataclass(frozen=True)
class GimpInstall:
    folder: Path  # PLUG_INS/ldl_upscale
    script: Path  # the executable GIMP starts
    record: BackendRecord
    changed: bool = True  # the plug-in's files were (re)written; False: they were already these


def install_gimp_plugin(
    plug_ins: Path,
    record: BackendRecord,
    plugin_source: Path | None = None,
    client_source: Path | None = None,
) -> GimpInstall:
    """Install into ``plug_ins`` (created when missing). ``plugin_source``: the folder holding ``ldl_upscale/``
    (default: the checkout's ``plugin/gimp``). Raises ``InstallError``."""
    folder_source = (plugin_source or REPO_ROOT / "plugin" / "gimp") / PLUGIN_NAME
    client = client_source or default_client_source()
    script_name = f"{PLUGIN_NAME}.py"
    for needed in (folder_source / script_name, folder_source / HOST_PACKAGE / "__init__.py", client / "__init__.py"):
        if not needed.is_file():
            raise InstallError(f"{needed} is missing", "run the installer from a complete LDL Studio checkout")
    writable_folder(plug_ins, "GIMP plug-ins folder", "--gimp-dir")
    staging = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_NAME}-new-", dir=plug_ins))
    try:
        folder = staging / PLUGIN_NAME
        assemble_package(folder_source, folder, client, record)
        # The checkout's mode does not count (a zip download or a Windows checkout loses it): GIMP on Unix only
        # starts a plug-in file it may execute.
        (folder / script_name).chmod(EXECUTABLE)
        changed = not same_tree(folder, plug_ins / PLUGIN_NAME)
        if changed:
            replace_folder(folder, plug_ins / PLUGIN_NAME)
    except OSError as e:
        raise InstallError(
            f"cannot install the GIMP plug-in into {plug_ins}: {e}", "check the folder's permissions and free space"
        ) from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return GimpInstall(plug_ins / PLUGIN_NAME, plug_ins / PLUGIN_NAME / script_name, record, changed)


def gimp_plugin_is_current(plug_ins: Path, record: BackendRecord) -> bool:
    """The plug-in in ``plug_ins`` is already what ``install_gimp_plugin`` would write (for ``--dry-run``)."""
    with tempfile.TemporaryDirectory(prefix="ldl-plan-") as scratch:
        folder = Path(scratch) / PLUGIN_NAME
        assemble_package(REPO_ROOT / "plugin" / "gimp" / PLUGIN_NAME, folder, default_client_source(), record)
        (folder / f"{PLUGIN_NAME}.py").chmod(EXECUTABLE)
        return same_tree(folder, plug_ins / PLUGIN_NAME)
