"""Step "model": the default model, prepared offline from the packaged files and verified with a tiny upscale.

The environment's Python converts the default model (``realesrgan-x4plus``, from the ``models`` extra's ncnn files)
through the backend's model store, where the backend keeps its models; then the environment's ``ldl upscale``
enlarges an 8×8 image and the result must be 32×32. A model this installer prepared earlier and that is unchanged
(same sha256) is not verified again. A file the step created is removed again when the verification fails.
"""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InstallError
from ..manifest import FileEntry, matches
from ..owned import missing_folders
from ..report import Report

STEP = "model"
PART = "model"
SIZE = 8  # input pixels per side; the default model is ×4
_WHERE = """
import json, sys
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root
from ldl_client.options import DEFAULT_MODEL
store = ModelStore(models_root(), builtin_catalog())
if sys.argv[1] == "prepare":
    store.ensure_installed(DEFAULT_MODEL)
status = store.status(DEFAULT_MODEL)
print(json.dumps({"name": DEFAULT_MODEL, "path": str(status.path), "installed": status.installed}))
"""


@dataclass(frozen=True)
class PreparedModel:
    name: str
    path: Path
    owned: bool  # the installer made it (this run or an earlier one), so the manifest lists it
    new_folders: tuple[Path, ...] = ()  # folders this run created for it, deepest first


def prepare_model(python: Path, scripts: Path, previous: FileEntry | None, report: Report) -> PreparedModel | None:
    """Prepare and verify; None in a dry run. Raises ``InstallError`` (after removing a file it created)."""
    name, path, installed = _ask(python, "where")
    if installed and previous is not None and previous.path == str(path) and matches(previous, path):
        report.same(STEP, f"{name} already prepared and verified ({path})")
        return PreparedModel(name, path, True)
    if report.dry_run:
        what = "verify" if installed else "prepare"
        report.changed(STEP, f"{what} {name} in {path.parent} (offline, from the packaged files) with an 8×8 upscale")
        return None
    clock = time.monotonic()
    new_folders = tuple(missing_folders(path.parent))
    try:
        _ask(python, "prepare")
        seconds = _verify(scripts, name)
    except InstallError:
        if not installed:
            path.unlink(missing_ok=True)
            print(f"[{STEP}] removed {path}, which this run began", flush=True)
        raise
    what = "verified the existing" if installed else "prepared"
    report.changed(
        STEP,
        f"{what} {name} ({path}); {SIZE}×{SIZE} → {4 * SIZE}×{4 * SIZE} upscale in {seconds:.1f} s "
        f"({time.monotonic() - clock:.1f} s in all)",
    )
    return PreparedModel(name, path, not installed or previous is not None, new_folders)


def _ask(python: Path, mode: str) -> tuple[str, Path, bool]:
    done = subprocess.run(
        [str(python), "-B", "-c", _WHERE, mode], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise InstallError(
            f"the backend could not {'prepare' if mode == 'prepare' else 'find'} the default model: "
            f"{_last_lines(done)}",
            "run the installer again; if it fails the same way, reinstall with --uninstall first",
        )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return str(data["name"]), Path(data["path"]), bool(data["installed"])


def _verify(scripts: Path, name: str) -> float:
    ldl = next((p for p in (scripts / "ldl", scripts / "ldl.exe") if p.is_file()), scripts / "ldl")
    with tempfile.TemporaryDirectory(prefix="ldl-verify-") as scratch:
        source, result = Path(scratch) / "tiny.png", Path(scratch) / "tiny_x4.png"
        source.write_bytes(tiny_png(SIZE))
        clock = time.monotonic()
        done = subprocess.run(
            [str(ldl), "upscale", str(source), "-o", str(result), "-m", name],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        seconds = time.monotonic() - clock
        if done.returncode != 0 or not result.is_file():
            raise InstallError(f"the test upscale with {name} failed: {_last_lines(done)}", "run the installer again")
        size = png_size(result.read_bytes())
    if size != (4 * SIZE, 4 * SIZE):
        raise InstallError(f"the test upscale with {name} gave {size}, not 32×32", "run the installer again")
    return seconds


def tiny_png(size: int) -> bytes:
    """An RGB PNG of ``size``×``size`` with a colour ramp (stdlib only: the installer runs before Pillow is there)."""
    rows = b"".join(
        b"\0" + bytes(v for x in range(size) for v in (x * 255 // size, y * 255 // size, 128)) for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise InstallError("the test upscale did not write a PNG", "run the installer again")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _last_lines(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return "\n".join(lines[-10:]) or f"exit status {done.returncode}"
