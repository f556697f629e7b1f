"""Install LDL Studio for this user: one command for the backend, the desktop app and the host plug-ins.

    python3 installer/install.py [--app] [--krita] [--gimp] [--all] [--prefix DIR] [--device auto|cpu|cuda]
                                 [--uninstall [--purge]] [--dry-run]

Steps, each printing what it did (``--dry-run``: what it would do, touching nothing):

1. environment: a private virtual environment in ``PREFIX/venv`` (``PREFIX``: the user data folder, see
   ``locations.user_locations``) with the PyTorch build that fits this machine and the backend
   (``steps/environment.py``);
2. model: the default model prepared offline and verified with an 8×8 upscale (``steps/model.py``);
3. commands: ``ldl`` (and ``ldl-studio`` with ``--app``) linked into ``~/.local/bin`` (``steps/app.py``);
4. app (``--app``): the desktop launcher; krita (``--krita``): the Krita plug-in, enabled in kritarc; gimp
   (``--gimp``): the GIMP 3 plug-in. The plug-ins record the environment's Python to start ``ldl serve`` with.

``--python PATH`` uses an environment you manage yourself (a development venv): steps 1–3 are skipped and the parts
asked for record ``PATH``. Everything written is listed in ``PREFIX/install-manifest.json`` with its sha256, so a
second run changes nothing (and says so) and ``--uninstall`` removes exactly that. Standard library only: it runs
with any Python 3.10–3.13 before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the installer package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer.errors import InstallError
from installer.kritarc import has_group, plugin_value
from installer.locations import UserLocations, gimp_locations, krita_locations, user_locations
from installer.manifest import MANIFEST_NAME, KritarcEdit, Manifest, load_manifest, save_manifest
from installer.owned import missing_folders
from installer.pip_sources import PipSources
from installer.plugin_package import REPO_ROOT
from installer.report import Report
from installer.steps.app import install_launcher, link_commands
from installer.steps.environment import Environment, prepare_environment
from installer.steps.gimp import gimp_plugin_is_current, install_gimp_plugin
from installer.steps.krita import PLUGIN_NAME as KRITA_PLUGIN
from installer.steps.krita import install_krita_plugin, krita_plugin_is_current
from installer.steps.model import prepare_model
from installer.torch_choice import DEVICES, choose_torch, detect_gpu
from installer.uninstall import uninstall
from ldl_client.backend_record import BackendRecord

HOME_VARIABLE = "LDL_STUDIO_HOME"


@dataclass(frozen=True)
class Backend:
    """The interpreter the plug-ins and launchers use, and the folder of its commands."""

    python: Path
    scripts: Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="install.py",
        description="Install LDL Studio for this user: the backend and the `ldl` command, and the parts chosen.",
    )
    parts = parser.add_argument_group("parts (the backend is always installed)")
    parts.add_argument("--app", action="store_true", help="the desktop app, with a launcher")
    parts.add_argument("--krita", action="store_true", help="the Krita plug-in, enabled in kritarc")
    parts.add_argument("--gimp", action="store_true", help="the GIMP 3 plug-in")
    parts.add_argument("--all", action="store_true", help="the app and both plug-ins")
    parser.add_argument(
        "--prefix",
        type=Path,
        metavar="DIR",
        help="where the environment and the manifest go (default: the data folder)",
    )
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="PyTorch build: auto (CUDA where nvidia-smi sees a GPU)"
    )
    parser.add_argument("--uninstall", action="store_true", help="remove what the installer added")
    parser.add_argument("--purge", action="store_true", help="with --uninstall: the models and settings too")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    sources = parser.add_argument_group("package sources (offline installs, tests)")
    sources.add_argument("--find-links", type=Path, action="append", default=[], metavar="DIR", help="wheels here too")
    sources.add_argument("--no-index", action="store_true", help="no package index: local folders only")
    sources.add_argument(
        "--python",
        type=Path,
        metavar="PATH",
        help="use this existing interpreter, which has the backend: no environment, model or commands are installed",
    )
    hosts = parser.add_argument_group("host folders")
    hosts.add_argument("--krita-dir", type=Path, metavar="DIR", help="Krita's pykrita folder (default: Krita's own)")
    hosts.add_argument("--config-dir", type=Path, metavar="DIR", help="the folder of kritarc (default: Krita's)")
    hosts.add_argument("--gimp-dir", type=Path, metavar="DIR", help="GIMP's plug-ins folder (default: GIMP 3.0's)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.all:
        args.app = args.krita = args.gimp = True
    if args.purge and not args.uninstall:
        parser.error("--purge goes with --uninstall")
    if args.uninstall and (args.app or args.krita or args.gimp or args.python):
        parser.error("--uninstall removes everything the manifest lists; it takes no parts and no --python")
    locations = user_locations()
    prefix = (args.prefix or locations.data).expanduser().absolute()
    report = Report(dry_run=args.dry_run)
    home = os.environ.get(HOME_VARIABLE) or None
    try:
        if args.uninstall:
            uninstall(prefix, args.purge, locations, home, report)
        else:
            _install(args, locations, prefix, home, report)
    except InstallError as e:
        print(f"error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        command = shlex.join(["installer/install.py", *(sys.argv[1:] if argv is None else argv)])
        print(
            f"The failed step undid what it began; the steps before it are kept. Retry with: python3 {command}",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        print(f"Dry run: {report.changes} change(s) planned; nothing was touched.")
    elif report.changes == 0:
        print("Nothing changed: everything asked for is already installed.")
    else:
        print(f"Done: {report.changes} change(s).")
    return 0


def _install(
    args: argparse.Namespace, locations: UserLocations, prefix: Path, home: str | None, report: Report
) -> None:
    platform = sys.platform
    manifest_path = prefix / MANIFEST_NAME
    manifest = load_manifest(manifest_path) or Manifest()
    new_prefix_folders = missing_folders(prefix)
    if args.python:
        python = args.python.expanduser().absolute()
        backend = Backend(python, python.parent)
        report.same("environment", f"using {python} (--python: nothing is installed into it)")
        if not _has_backend(python):
            report.warn(
                "environment",
                f"{python} cannot import ldl_backend, so the plug-ins cannot start a backend by themselves; "
                "give the Python LDL Studio is installed in (or start 'ldl serve' before using them)",
            )
    else:
        backend = _install_backend(args, platform, locations, prefix, manifest, report)
    if args.app:
        executable = backend.scripts / ("ldl-studio.exe" if platform == "win32" else "ldl-studio")
        install_launcher(platform, locations, executable, manifest, report)
    record = BackendRecord(python=str(backend.python), ldl_studio_home=home)
    if args.krita:
        _install_krita(args.krita_dir, args.config_dir, record, manifest, report)
    if args.gimp:
        _install_gimp(args.gimp_dir, record, manifest, report)
    if report.dry_run:
        return
    for folder in new_prefix_folders:
        manifest.add_folder(folder, "environment")
    if save_manifest(manifest_path, manifest):
        report.changed("manifest", f"wrote {manifest_path}")
    print(f"backend: {record.python}" + (f" ({HOME_VARIABLE}={home})" if home else ""))
    if args.app:
        print("Start the app from your applications menu (LDL Studio) or with `ldl-studio`.")
    if args.krita:
        print("Restart Krita to load it: Filter › Enhance › Upscale with LDL…")
    if args.gimp:
        print("Restart GIMP to load it: Filters › Enhance › Upscale with LDL…")


def _install_backend(
    args: argparse.Namespace,
    platform: str,
    locations: UserLocations,
    prefix: Path,
    manifest: Manifest,
    report: Report,
) -> Backend:
    gpu, found = detect_gpu()
    try:
        choice = choose_torch(platform, args.device, gpu, found)
    except ValueError as e:
        raise InstallError(str(e), "choose --device auto or cpu") from e
    environment = Environment(prefix / "venv", platform)
    extras = ("app", "models") if args.app else ("models",)
    sources = PipSources(tuple(p.expanduser().absolute() for p in args.find_links), args.no_index)
    entry = prepare_environment(environment, REPO_ROOT, extras, choice, sources, manifest.environment, report)
    if entry is None:  # a dry run that would create the environment: what follows needs it
        report.changed("model", "prepare the default model offline and verify it with an 8×8 upscale")
    else:
        manifest.environment = entry
        previous = next((e for e in manifest.files.values() if e.part == "model"), None)
        model = prepare_model(environment.python, environment.scripts, previous, report)
        if model is not None:
            manifest.forget_part("model")
            if model.owned:
                manifest.add_file(model.path, "model")
                for folder in model.new_folders:
                    manifest.add_folder(folder, "model")
    names = ("ldl", "ldl-studio") if args.app else ("ldl",)
    link_commands(platform, locations, environment.scripts, names, manifest, report)
    return Backend(environment.python, environment.scripts)


def _install_krita(
    krita_dir: Path | None, config_dir: Path | None, record: BackendRecord, manifest: Manifest, report: Report
) -> None:
    locations = krita_locations()
    pykrita = (krita_dir or locations.pykrita).expanduser().absolute()
    kritarc = (config_dir / "kritarc").expanduser().absolute() if config_dir else locations.kritarc
    if report.dry_run:
        if krita_plugin_is_current(pykrita, record):
            report.same("krita", f"the Krita plug-in in {pykrita} is up to date")
        else:
            report.changed("krita", f"install the Krita plug-in into {pykrita}")
        text = kritarc.read_bytes().decode("utf-8", "surrogateescape") if kritarc.is_file() else ""
        if plugin_value(text, KRITA_PLUGIN) == "true":
            report.same("krita", f"already enabled in {kritarc}")
        else:
            report.changed("krita", f"enable it in {kritarc}")
        return
    new_folders = missing_folders(pykrita) + missing_folders(kritarc.parent)
    existed = kritarc.is_file()
    before = kritarc.read_bytes().decode("utf-8", "surrogateescape") if existed else ""
    result = install_krita_plugin(pykrita, kritarc, record)
    _record_folder(result.package, "krita", manifest, new_folders)
    manifest.add_file(result.desktop_file, "krita")
    if result.kritarc_changed and (manifest.kritarc is None or manifest.kritarc.path != str(kritarc)):
        previous = plugin_value(before, KRITA_PLUGIN)
        manifest.kritarc = KritarcEdit(str(kritarc), KRITA_PLUGIN, previous, not has_group(before), not existed)
    if result.changed:
        report.changed("krita", f"installed the Krita plug-in in {result.package}")
    else:
        report.same("krita", f"the Krita plug-in in {result.package} is up to date")
    if result.kritarc_changed:
        report.changed("krita", f"enabled in {result.kritarc}")
    else:
        report.same("krita", f"already enabled in {result.kritarc}")


def _install_gimp(gimp_dir: Path | None, record: BackendRecord, manifest: Manifest, report: Report) -> None:
    plug_ins = (gimp_dir or gimp_locations().plug_ins).expanduser().absolute()
    if report.dry_run:
        if gimp_plugin_is_current(plug_ins, record):
            report.same("gimp", f"the GIMP plug-in in {plug_ins} is up to date")
        else:
            report.changed("gimp", f"install the GIMP plug-in into {plug_ins}")
        return
    new_folders = missing_folders(plug_ins)
    result = install_gimp_plugin(plug_ins, record)
    _record_folder(result.folder, "gimp", manifest, new_folders)
    if result.changed:
        report.changed("gimp", f"installed the GIMP plug-in in {result.folder}")
    else:
        report.same("gimp", f"the GIMP plug-in in {result.folder} is up to date")


def _record_folder(folder: Path, part: str, manifest: Manifest, new_folders: list[Path]) -> None:
    """A plug-in folder the step replaced whole: every file and folder in it is the installer's."""
    manifest.forget_part(part)
    for path in [*new_folders, folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        if path.name != "__pycache__":
            manifest.add_folder(path, part)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            manifest.add_file(path, part)


def _has_backend(python: Path) -> bool:
    # From an empty folder, so the checkout this script sits in does not count as an installation.
    with tempfile.TemporaryDirectory() as empty:
        try:
            done = subprocess.run(
                [str(python), "-c", "import ldl_backend.cli"], cwd=empty, capture_output=True, timeout=120, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
