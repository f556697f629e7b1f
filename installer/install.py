"""Install LDL Studio's parts for this user.

    python installer/install.py [--krita [--krita-dir DIR] [--config-dir DIR]] [--gimp [--gimp-dir DIR]]

``--krita``: the Krita plugin (see ``installer/steps/krita.py``), enabled in kritarc. ``--gimp``: the GIMP 3 plug-in
(see ``installer/steps/gimp.py``). Run it with the Python that has LDL Studio's backend installed: each plug-in
records this interpreter to start ``ldl serve`` with, together with ``$LDL_STUDIO_HOME`` when it is set. Safe to run
again (after an update, say): the result is the same.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the installer package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer.errors import InstallError
from installer.locations import gimp_locations, krita_locations
from installer.steps.gimp import install_gimp_plugin
from installer.steps.krita import install_krita_plugin
from ldl_client.backend_record import BackendRecord

HOME_VARIABLE = "LDL_STUDIO_HOME"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="install.py", description="Install LDL Studio's parts for this user.")
    parser.add_argument("--krita", action="store_true", help="install the Krita plugin and enable it in kritarc")
    parser.add_argument("--krita-dir", type=Path, metavar="DIR", help="Krita's pykrita folder (default: Krita's own)")
    parser.add_argument(
        "--config-dir", type=Path, metavar="DIR", help="the folder of kritarc (default: Krita's settings folder)"
    )
    parser.add_argument("--gimp", action="store_true", help="install the GIMP 3 plug-in")
    parser.add_argument("--gimp-dir", type=Path, metavar="DIR", help="GIMP's plug-ins folder (default: GIMP 3.0's own)")
    args = parser.parse_args(argv)
    if not (args.krita or args.gimp):
        parser.error("nothing to install: add --krita, --gimp or both")
    record = BackendRecord(python=sys.executable, ldl_studio_home=os.environ.get(HOME_VARIABLE) or None)
    try:
        if args.krita:
            _install_krita(args.krita_dir, args.config_dir, record)
        if args.gimp:
            _install_gimp(args.gimp_dir, record)
    except InstallError as e:
        print(f"error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 1
    print(
        f"backend: {record.python}" + (f" (LDL_STUDIO_HOME={record.ldl_studio_home})" if record.ldl_studio_home else "")
    )
    if not _has_backend(record.python):
        print(
            f"warning: {record.python} cannot import ldl_backend, so the plugins cannot start a backend by themselves; "
            "run this installer with the Python LDL Studio is installed in (or start 'ldl serve' before using them)",
            file=sys.stderr,
        )
    if args.krita:
        print("Restart Krita to load it: Filter › Enhance › Upscale with LDL…")
    if args.gimp:
        print("Restart GIMP to load it: Filters › Enhance › Upscale with LDL…")
    return 0


def _install_krita(krita_dir: Path | None, config_dir: Path | None, record: BackendRecord) -> None:
    locations = krita_locations()
    pykrita = (krita_dir or locations.pykrita).expanduser().absolute()
    kritarc = (config_dir / "kritarc").expanduser().absolute() if config_dir else locations.kritarc
    result = install_krita_plugin(pykrita, kritarc, record)
    print(f"Krita plugin installed in {result.package}")
    state = "enabled" if result.kritarc_changed else "already enabled"
    print(f"{state} in {result.kritarc}")


def _install_gimp(gimp_dir: Path | None, record: BackendRecord) -> None:
    plug_ins = (gimp_dir or gimp_locations().plug_ins).expanduser().absolute()
    result = install_gimp_plugin(plug_ins, record)
    print(f"GIMP plug-in installed in {result.folder}")


def _has_backend(python: str) -> bool:
    # From an empty folder, so the checkout this script sits in does not count as an installation.
    with tempfile.TemporaryDirectory() as empty:
        try:
            done = subprocess.run(
                [python, "-c", "import ldl_backend.cli"], cwd=empty, capture_output=True, timeout=120, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
