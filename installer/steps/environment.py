"""Step "environment": a private virtual environment with the right PyTorch and the backend.

1. ``VENV`` is created with the interpreter running the installer (``python -m venv``), or reused when it is there.
2. PyTorch: an installed one that fits (``torch_choice.fits``) is kept, so nothing multi-GB is downloaded again;
   else ``torch==TORCH_VERSION`` is installed, pinned, from the chosen build's index, before the project, so pip
   never resolves an unpinned torch.
3. The backend: ``pip install CHECKOUT[models(,app)]`` with PyTorch held at the installed version by a constraint.
   Skipped when the same source and extras were installed last time (the fingerprint in the manifest).

A failure undoes the step: an environment created by this run is removed whole. A reused environment cannot be
rolled back by pip; the message says so and how to retry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InstallError
from ..manifest import EnvironmentEntry
from ..pip_sources import PipSources
from ..report import Report
from ..torch_choice import TORCH_VERSION, InstalledTorch, TorchChoice, fits

STEP = "environment"
SOURCE_FOLDERS = ("ldl_backend", "ldl_client", "ui")
SOURCE_FILES = ("pyproject.toml", "README.md")
_TORCH_PROBE = "import json, torch; print(json.dumps({'version': torch.__version__, 'cuda': torch.version.cuda}))"


@dataclass(frozen=True)
class Environment:
    venv: Path
    platform: str

    @property
    def scripts(self) -> Path:
        return self.venv / ("Scripts" if self.platform == "win32" else "bin")

    @property
    def python(self) -> Path:
        return self.scripts / ("python.exe" if self.platform == "win32" else "python")


def source_fingerprint(checkout: Path, extras: tuple[str, ...]) -> str:
    """sha256 over the files ``pip install CHECKOUT`` packages, and the extras: equal means nothing to reinstall."""
    digest = hashlib.sha256(",".join(extras).encode())
    paths = [checkout / name for name in SOURCE_FILES]
    for folder in SOURCE_FOLDERS:
        paths += [p for p in (checkout / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(paths):
        if path.is_file():
            digest.update(path.relative_to(checkout).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_environment(
    environment: Environment,
    checkout: Path,
    extras: tuple[str, ...],
    choice: TorchChoice,
    sources: PipSources,
    previous: EnvironmentEntry | None,
    report: Report,
) -> EnvironmentEntry | None:
    """Create or update the environment; the manifest's entry for it (None in a dry run that would create it).
    Raises ``InstallError`` after undoing what it began."""
    venv = environment.venv
    exists = environment.python.is_file()
    if venv.exists() and not exists:
        raise InstallError(
            f"{venv} exists but is not a virtual environment", "move it away, or choose another folder with --prefix"
        )
    created = previous.created if previous and previous.path == str(venv) and exists else not exists
    fingerprint = source_fingerprint(checkout, extras)
    if report.dry_run:
        _plan(environment, exists, choice, sources, extras, previous, fingerprint, report)
        return previous if exists and previous else None
    if not exists:
        _create(venv)
        report.changed(STEP, f"created {venv} (Python {sys.version.split()[0]})")
    else:
        report.same(STEP, f"reusing {venv}")
    try:
        torch = _ensure_torch(environment, choice, sources, report)
        if (
            previous
            and previous.source == fingerprint
            and previous.torch == torch.version
            and _imports_backend(environment)
        ):
            report.same("backend", f"ldl-studio [{','.join(extras)}] already installed from this source")
        else:
            _install_backend(environment, checkout, extras, torch, sources)
            report.changed("backend", f"installed ldl-studio [{','.join(extras)}] from {checkout}")
    except InstallError:
        if not exists:
            shutil.rmtree(venv, ignore_errors=True)
            print(f"[{STEP}] removed the environment this run began ({venv})", file=sys.stderr)
        else:
            print(f"[{STEP}] {venv} may be partly updated; running the installer again completes it", file=sys.stderr)
        raise
    return EnvironmentEntry(str(venv), str(environment.python), created, fingerprint, torch.version)


def installed_torch(environment: Environment) -> InstalledTorch | None:
    done = subprocess.run(
        [str(environment.python), "-B", "-c", _TORCH_PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        return None
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return InstalledTorch(str(data["version"]), data["cuda"])


def _plan(
    environment: Environment,
    exists: bool,
    choice: TorchChoice,
    sources: PipSources,
    extras: tuple[str, ...],
    previous: EnvironmentEntry | None,
    fingerprint: str,
    report: Report,
) -> None:
    if not exists:
        report.changed(STEP, f"create {environment.venv} (Python {sys.version.split()[0]})")
    torch = installed_torch(environment) if exists else None
    if torch is not None and fits(torch, choice)[0]:
        report.same("pytorch", f"keep: {fits(torch, choice)[1]}")
    else:
        report.changed(
            "pytorch",
            f"install torch=={TORCH_VERSION}, {_build_name(choice)}: {choice.reason}, "
            f"{sources.describe(choice.index_url)}",
        )
    if exists and previous and previous.source == fingerprint:
        report.same("backend", f"ldl-studio [{','.join(extras)}] already installed from this source")
    else:
        report.changed("backend", f"install ldl-studio [{','.join(extras)}] {sources.describe()}")


def _build_name(choice: TorchChoice) -> str:
    return {"cpu": "CPU build", "default": "PyPI's default build"}.get(choice.build, f"CUDA build {choice.build}")


def _create(venv: Path) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise InstallError(
            f"cannot create a virtual environment at {venv}: {_tail(done)}",
            "on Debian/Ubuntu install python3-venv (apt install python3-venv), then run the installer again",
        )


def _ensure_torch(environment: Environment, choice: TorchChoice, sources: PipSources, report: Report) -> InstalledTorch:
    torch = installed_torch(environment)
    requirement = f"torch=={TORCH_VERSION}"
    if torch is not None:
        ok, why = fits(torch, choice)
        if ok:
            report.same("pytorch", f"kept: {why} (wanted: {_build_name(choice)}: {choice.reason})")
            return torch
        report.same("pytorch", f"replacing: {why}")
        if choice.build != "default":
            # The build's local label: plain ==VERSION would count the installed build as satisfying it.
            requirement += f"+{choice.build}"
    report.same(
        "pytorch",
        f"installing {requirement}, {_build_name(choice)}: {choice.reason}, "
        f"{sources.describe(choice.index_url)} (a large download the first time: minutes)",
    )
    _pip(environment, [requirement, *sources.arguments(choice.index_url)], "PyTorch")
    torch = installed_torch(environment)
    if torch is None:
        raise InstallError("PyTorch was installed but does not import", "run the installer again; see pip's output")
    report.changed("pytorch", f"installed torch {torch.version} ({'CUDA ' + torch.cuda if torch.cuda else 'CPU'})")
    return torch


def _install_backend(
    environment: Environment, checkout: Path, extras: tuple[str, ...], torch: InstalledTorch, sources: PipSources
) -> None:
    with tempfile.TemporaryDirectory(prefix="ldl-install-") as scratch:
        constraints = Path(scratch) / "torch.txt"
        constraints.write_text(f"torch=={torch.version}\n", "utf-8")  # pip may not touch the PyTorch just chosen
        target = f"{checkout}[{','.join(extras)}]" if extras else str(checkout)
        _pip(environment, ["--constraint", str(constraints), target, *sources.arguments()], "the backend")


def _imports_backend(environment: Environment) -> bool:
    done = subprocess.run(
        [str(environment.python), "-B", "-c", "import ldl_backend.cli"],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    return done.returncode == 0


def _pip(environment: Environment, arguments: list[str], what: str) -> None:
    command = [str(environment.python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    command += ["--no-warn-script-location", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstallError(
            f"pip could not install {what}: {_tail(done)}",
            "check the network (or the --find-links folders), then run the same command again",
        )


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return "\n".join(lines[-15:]) or f"exit status {done.returncode}"
