"""Install LDL Studio's parts for this user.

    python installer/install.py --krita [--krita-dir DIR] [--config-dir DIR]

``--krita``: the Krita plugin (see ``installer/steps/krita.py``), enabled in kritarc. Run it with the Python that
has LDL Studio's backend installed: the plugin records this interpreter to start ``ldl serve`` with, together with
``$LDL_STUDIO_HOME`` when it is set. Safe to run again (after an update, say): the result is the same.
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
from installer.locations import krita_locations
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
    args = parser.parse_args(argv)
    if not args.krita:
        parser.error("nothing to install: add --krita")
    locations = krita_locations()
    pykrita = (args.krita_dir or locations.pykrita).expanduser().absolute()
    kritarc = (args.config_dir / "kritarc").expanduser().absolute() if args.config_dir else locations.kritarc
    record = BackendRecord(python=sys.executable, ldl_studio_home=os.environ.get(HOME_VARIABLE) or None)
    try:
        result = install_krita_plugin(pykrita, kritarc, record)
    except InstallError as e:
        print(f"error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 1
    print(f"Krita plugin installed in {result.package}")
    state = "enabled" if result.kritarc_changed else "already enabled"
    print(f"{state} in {result.kritarc}")
    print(
        f"backend: {record.python}" + (f" (LDL_STUDIO_HOME={record.ldl_studio_home})" if record.ldl_studio_home else "")
    )
    if not _has_backend(record.python):
        print(
            f"warning: {record.python} cannot import ldl_backend, so the plugin cannot start a backend by itself; "
            "run this installer with the Python LDL Studio is installed in (or start 'ldl serve' before using it)",
            file=sys.stderr,
        )
    print("Restart Krita to load it: Filter › Enhance › Upscale with LDL…")
    return 0


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
