"""`installer/install.py` against a fresh HOME, offline: everything lands in its place, a second run changes nothing,
``--uninstall`` leaves the HOME as it was file by file, ``--purge`` removes the models too, ``--dry-run`` touches
nothing, and a failed step undoes itself.

The environment step runs for real against an "already installed environment" (``home.existing_environment``): a
venv under ``--prefix`` that sees this venv's packages, so the installer keeps its PyTorch and pip installs the
checkout with ``--no-index`` from a local wheel folder. ``test_full_path.py`` makes a new environment from scratch.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.installer.home import REPO, existing_environment, fresh_environment, run_installer, snapshot

KRITARC = "[General]\ncolorModelDef=RGBA\n\n[python]\nenable_assignprofiledialog=true\n"


def offline(build_wheelhouse: Path, prefix: Path) -> list[str]:
    return ["--prefix", str(prefix), "--no-index", "--find-links", str(build_wheelhouse)]


def test_everything_lands_in_place_a_second_run_changes_nothing_and_uninstall_restores_home(
    tmp_path: Path, build_wheelhouse: Path
) -> None:
    environment = fresh_environment(tmp_path)
    home = Path(environment["HOME"])
    data, config = Path(environment["XDG_DATA_HOME"]), Path(environment["XDG_CONFIG_HOME"])
    # What the user had before: a kritarc with other plug-ins, a command of their own in ~/.local/bin.
    config.mkdir(parents=True)
    (config / "kritarc").write_text(KRITARC)
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "theirs").write_text("#!/bin/sh\n")
    prefix = tmp_path / "prefix"
    python = existing_environment(prefix / "venv")
    before_home = snapshot(home)

    first = run_installer(environment, "--all", *offline(build_wheelhouse, prefix))
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert f"[environment] reusing {prefix / 'venv'}" in out
    assert "[pytorch] kept: torch 2.13.0+cpu (CPU build) is already installed and fits" in out
    assert "[backend] installed ldl-studio [app,models]" in out
    assert "[model] prepared realesrgan-x4plus" in out and "8×8 → 32×32" in out

    # The model, where the backend keeps it.
    model = data / "ldl-studio" / "models" / "realesrgan-x4plus.safetensors"
    assert model.stat().st_size > 60_000_000
    # The commands on PATH, the launcher and its icon.
    assert (home / ".local" / "bin" / "ldl").readlink() == prefix / "venv" / "bin" / "ldl"
    assert (home / ".local" / "bin" / "ldl-studio").readlink() == prefix / "venv" / "bin" / "ldl-studio"
    entry = data / "applications" / "ldl-studio.desktop"
    lines = entry.read_text().splitlines()
    assert f"Exec={prefix / 'venv' / 'bin' / 'ldl-studio'} %F" in lines and "Icon=ldl-studio" in lines
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "ldl-studio.svg").read_text().startswith("<svg")
    validator = shutil.which("desktop-file-validate")
    if validator:
        done = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout
    # The plug-ins record the private environment's Python; kritarc is merged; GIMP's script is executable.
    krita = data / "krita" / "pykrita" / "ldl_krita"
    gimp = config / "GIMP" / "3.0" / "plug-ins" / "ldl_upscale"
    for folder in (krita, gimp):
        assert json.loads((folder / "backend.json").read_text())["python"] == str(python)
    assert (config / "kritarc").read_text() == KRITARC + "enable_ldl_krita=true\n"
    assert stat.S_IMODE((gimp / "ldl_upscale.py").stat().st_mode) == 0o755
    manifest = json.loads((prefix / "install-manifest.json").read_text())
    assert manifest["environment"]["created"] is False  # it was there before: kept on uninstall
    assert manifest["kritarc"]["previous"] is None

    installed_home, installed_prefix = snapshot(home), snapshot(prefix)
    second = run_installer(environment, "--all", *offline(build_wheelhouse, prefix))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing changed: everything asked for is already installed." in second.stdout
    assert "[backend] ldl-studio [app,models] already installed from this source" in second.stdout
    assert "[model] realesrgan-x4plus already prepared and verified" in second.stdout
    assert snapshot(home) == installed_home and snapshot(prefix) == installed_prefix

    # Krita leaves caches in the plug-in folder; they go with it.
    (krita / "__pycache__").mkdir()
    (krita / "__pycache__" / "upscale.cpython-311.pyc").write_bytes(b"cache")
    done = run_installer(environment, "--uninstall", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "your models and settings are kept" in done.stdout
    assert snapshot(home) == before_home
    # The environment it found is kept (with the backend pip put in it); the manifest goes.
    assert [name for name in snapshot(prefix) if not name.startswith("venv")] == []
    assert f"kept {prefix / 'venv'}: it was there before the installer" in done.stdout
    again = run_installer(environment, "--uninstall", "--prefix", str(prefix))
    assert again.returncode == 0 and "nothing to uninstall" in again.stdout


def test_changed_files_are_kept_and_purge_removes_models_and_settings(tmp_path: Path, build_wheelhouse: Path) -> None:
    environment = fresh_environment(tmp_path)
    home, data = Path(environment["HOME"]), Path(environment["XDG_DATA_HOME"])
    config = Path(environment["XDG_CONFIG_HOME"])
    prefix = tmp_path / "prefix"
    existing_environment(prefix / "venv")
    done = run_installer(environment, "--app", *offline(build_wheelhouse, prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    # After the install: the user edits the launcher, imports a model and saves the app's settings.
    entry = data / "applications" / "ldl-studio.desktop"
    entry.write_text(entry.read_text().replace("Terminal=false", "Terminal=true"))
    models = data / "ldl-studio" / "models"
    (models / "mine.safetensors").write_bytes(b"weights")
    settings = Path(environment["XDG_CONFIG_HOME"]) / "ldl-studio" / "app.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{}")
    # The plug-ins' own settings: the Krita plug-in's group in kritarc, the GIMP plug-in's learned speeds.
    (config / "kritarc").write_text("[General]\nx=1\n\n[ldl_krita]\nmodel=realesrgan-x4plus\n")
    rates = config / "GIMP" / "3.0" / "ldl-studio-rates.json"
    rates.parent.mkdir(parents=True)
    rates.write_text("{}")

    done = run_installer(environment, "--uninstall", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"kept {entry}: it was changed after the install" in done.stderr
    assert entry.is_file() and "Terminal=true" in entry.read_text()
    assert not (home / ".local" / "bin" / "ldl").exists() and not (models / "realesrgan-x4plus.safetensors").exists()
    assert (models / "mine.safetensors").read_bytes() == b"weights" and settings.is_file()
    assert "[ldl_krita]" in (config / "kritarc").read_text() and rates.is_file()

    done = run_installer(environment, "--uninstall", "--purge", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (data / "ldl-studio").exists() and not settings.parent.exists()
    assert (config / "kritarc").read_text() == "[General]\nx=1\n" and not rates.exists()
    assert entry.is_file()  # purge takes models and settings, not a file the user changed


def test_dry_run_prints_the_plan_and_touches_nothing(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    before = snapshot(tmp_path)
    done = run_installer(environment, "--all", "--dry-run", "--device", "cpu", "--prefix", str(tmp_path / "p"))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"[environment] would create {tmp_path / 'p' / 'venv'}" in out
    assert (
        "[pytorch] would install torch==2.13.0, CPU build: --device cpu, from https://download.pytorch.org/whl/cpu"
        in out
    )
    for step in ("[backend] would install", "[model] would prepare", "[commands] would link", "[app] would write"):
        assert step in out
    assert "[krita] would install" in out and "[gimp] would install" in out
    assert "nothing was touched" in out
    assert snapshot(tmp_path) == before


def test_a_failed_step_undoes_what_it_began_and_says_how_to_retry(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    environment = {k: v for k, v in environment.items() if not k.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull  # no configured wheel folders: PyTorch cannot be found
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    before = snapshot(tmp_path)
    prefix = tmp_path / "prefix"
    done = run_installer(environment, "--prefix", str(prefix), "--no-index", "--find-links", str(empty))
    assert done.returncode == 1
    assert "[environment] created" in done.stdout
    assert "error: pip could not install PyTorch" in done.stderr
    assert f"removed the environment this run began ({prefix / 'venv'})" in done.stderr
    assert "Retry with: python3 installer/install.py --prefix" in done.stderr
    assert not (prefix / "venv").exists()
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "prefix"} == before


def test_a_file_the_user_owns_is_never_overwritten(tmp_path: Path, build_wheelhouse: Path) -> None:
    environment = fresh_environment(tmp_path)
    home = Path(environment["HOME"])
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "ldl").write_text("#!/bin/sh\necho mine\n")
    prefix = tmp_path / "prefix"
    existing_environment(prefix / "venv")
    done = run_installer(environment, *offline(build_wheelhouse, prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"kept {home / '.local' / 'bin' / 'ldl'}: this installer did not write it" in done.stderr
    assert (home / ".local" / "bin" / "ldl").read_text() == "#!/bin/sh\necho mine\n"
    done = run_installer(environment, "--uninstall", "--prefix", str(prefix))
    assert (home / ".local" / "bin" / "ldl").read_text() == "#!/bin/sh\necho mine\n"


def test_the_wrappers_run_the_same_script(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    environment["PYTHON"] = sys.executable
    before = snapshot(tmp_path)
    done = subprocess.run(
        ["sh", str(REPO / "install.sh"), "--dry-run", "--prefix", str(tmp_path / "p")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[environment] would create" in done.stdout and snapshot(tmp_path) == before
    batch = (REPO / "install.bat").read_bytes()
    assert b"\r\n" in batch and b'"%HERE%installer\\install.py" %*' in batch


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13"])
def test_any_python_from_310_to_313_runs_it_with_the_standard_library_alone(tmp_path: Path, version: str) -> None:
    python = shutil.which(f"python{version}")
    if python is None:
        pytest.skip(f"python{version} is not installed")
    environment = fresh_environment(tmp_path)
    before = snapshot(tmp_path)
    # -I: no site-packages, no user site, no PYTHONPATH: only the standard library and the checkout's own files.
    done = subprocess.run(
        [python, "-I", str(REPO / "installer" / "install.py"), "--all", "--dry-run", "--prefix", str(tmp_path / "p")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if "pyenv: python" in done.stderr and "command not found" in done.stderr:
        pytest.skip(f"python{version} is a pyenv shim without that version")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing was touched" in done.stdout and snapshot(tmp_path) == before
