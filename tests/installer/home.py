"""What the installer tests share: a fresh HOME (HOME and the XDG folders in ``tmp_path``), a snapshot of a folder
tree to compare file by file, the command itself, and an "already installed environment" made in a second."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "installer" / "install.py"
XDG = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")
FOREIGN = ("LDL_STUDIO_HOME", "GIMP3_DIRECTORY", "VIRTUAL_ENV", "PYTHONPATH", "APPDATA", "LOCALAPPDATA")


def fresh_environment(tmp_path: Path) -> dict[str, str]:
    """HOME and every XDG folder inside ``tmp_path / "home"``; no LDL_STUDIO_HOME, so models go to the data folder."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in XDG + FOREIGN}
    environment.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        # pip asks `rustc --version` for its user agent; rustup's shim would write its settings into HOME.
        RUSTUP_HOME=os.environ.get("RUSTUP_HOME") or str(Path.home() / ".rustup"),
    )
    return environment


def run_installer(environment: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(INSTALL_SCRIPT), *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=REPO,
    )


Snapshot = dict[str, tuple[str, bytes | str, int]]


def snapshot(folder: Path) -> Snapshot:
    """Every file, folder and link under ``folder``: kind, contents (a link's target) and permission bits."""
    found: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[name] = ("link", str(path.readlink()), 0)
        elif stat.S_ISDIR(info.st_mode):
            found[name] = ("folder", b"", stat.S_IMODE(info.st_mode))
        else:
            found[name] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def existing_environment(venv: Path) -> Path:
    """An environment "installed earlier": a venv of this test's base Python that sees this venv's packages (torch,
    the dependencies, pip) through a ``.pth`` line, so the installer keeps its PyTorch and pip finds every
    dependency satisfied. Made without pip, in well under a second. Returns its Python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_path("purelib")
    (Path(purelib) / "_ldl_test_parent.pth").write_text(f"import site; site.addsitedir({ours!r})\n", "utf-8")
    return python
