"""``ldl`` imports only the command it runs: ``ldl upscale`` pays for neither the server's web stack nor the
trainer, and ``ldl --help`` (or a mistyped command) imports no command and no PyTorch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.archs.srvgg import SRVGGNetCompact

HEAVY = ("torch", "uvicorn", "starlette", "ldl_backend.server", "ldl_backend.training", "ldl_backend.commands")


def last_line_printed(script: str) -> str:
    """The last line ``script`` prints, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip().splitlines()[-1]


def imported_after(argv: list[str]) -> list[str]:
    script = (
        "import json, sys\n"
        "from ldl_backend.cli import build_parser, _chosen\n"
        f"argv = {argv!r}\n"
        "parser = build_parser(_chosen(argv))\n"
        "try:\n"
        "    parser.parse_args(argv)\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {{'torch', 'uvicorn', 'starlette'}}"
        f" or m.startswith({HEAVY!r}))))\n"
    )
    return json.loads(last_line_printed(script))


@pytest.mark.parametrize("argv", [["--help"], ["upscal", "x.png"], []])
def test_help_and_errors_import_no_command(argv: list[str]) -> None:
    assert imported_after(argv) == []


def test_upscale_imports_neither_the_server_nor_the_trainer() -> None:
    modules = imported_after(["upscale", "photo.png", "-o", "out.png"])
    assert "ldl_backend.commands.upscale" in modules and "torch" in modules  # the command itself did load
    assert not [
        m for m in modules if m.startswith(("uvicorn", "starlette", "ldl_backend.server", "ldl_backend.training"))
    ]
    others = {"ldl_backend.commands.evaluate", "ldl_backend.commands.serve", "ldl_backend.commands.train"}
    assert not others & set(modules)


@pytest.mark.parametrize(("users", "expected"), [(None, "10000"), ("300000", "300000")])
def test_openmp_threads_spin_briefly_unless_the_user_says(users: str | None, expected: str) -> None:
    # Long spinning at OpenMP barriers stalls beside other spinning programs (10.5-17.6 s against 7.2-7.5 s for a
    # 16×16 upscale); the setting must reach torch, so it is made before torch is imported.
    script = (
        "import os, sys\n"
        "from ldl_backend.cli import main\n"
        "main(['models', 'list'])\n"
        "print(os.environ['GOMP_SPINCOUNT'], 'torch' in sys.modules)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "GOMP_SPINCOUNT"}
    if users is not None:
        environment["GOMP_SPINCOUNT"] = users
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120, env=environment
    )
    assert done.stdout.strip().splitlines()[-1] == f"{expected} True"


def test_tifffile_loads_only_when_a_tiff_comes() -> None:
    # A tenth of a second of every start-up, for a format most inputs are not.
    script = (
        "import sys\n"
        "from ldl_backend.commands import upscale\n"
        "from ldl_backend.imageio import read_image\n"
        "print('tifffile' in sys.modules)\n"
    )
    assert last_line_printed(script) == "False"


def test_an_upscale_loads_neither_onnx_nor_the_http_client() -> None:
    # torch.onnx (asked whether an export runs) and the client's HTTP, event-stream and discovery code (pulled in by
    # the shared options) took about 80 ms of every start-up; `ldl upscale` needs neither.
    script = (
        "import sys, torch\n"
        "from ldl_backend.commands import upscale\n"
        "from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig\n"
        "network = RRDBNet(RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4)).eval()\n"
        "with torch.inference_mode():\n"
        "    network(torch.zeros(1, 3, 8, 8))\n"
        "loaded = [m for m in sys.modules if m == 'torch.onnx' or m.startswith(('ldl_client.client',"
        " 'ldl_client.transport', 'ldl_client.discovery', 'ldl_client.event_stream'))]\n"
        "print(loaded)\n"
    )
    assert last_line_printed(script) == "[]"


def _console_script(arguments: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    # The `ldl` console script's entry point, with an exit handler that says whether the interpreter was torn down.
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('torn down', gc.isenabled(), gc.get_freeze_count() > 50_000, flush=True))\n"
        f"sys.argv = ['ldl', *{arguments!r}]\n"
        "from ldl_backend.cli import run\n"
        "run()\n"
    )
    environment = {**os.environ, "LDL_STUDIO_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=environment)


def test_upscale_ends_without_tearing_down_the_interpreter(tmp_path: Path, tiny_compact: SRVGGNetCompact) -> None:
    # About 0.7 s of every `ldl upscale` went to tearing down an interpreter holding PyTorch; the output and the
    # summary must all be there all the same, and the exit status kept.
    torch.save({"params": tiny_compact.state_dict()}, tmp_path / "compact.pth")
    Image.fromarray(np.full((20, 24, 3), 90, np.uint8)).save(tmp_path / "in.png")
    done = _console_script(
        ["upscale", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "-m", str(tmp_path / "compact.pth")],
        tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr
    assert "torn down" not in done.stdout and "1 done, 0 failed" in done.stderr
    with Image.open(tmp_path / "out.png") as result:
        result.load()
        assert result.size == (96, 80)

    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    failed = _console_script(
        ["upscale", str(tmp_path / "broken.png"), "-o", str(tmp_path / "no.png"), "-m", str(tmp_path / "compact.pth")],
        tmp_path / "home",
    )
    assert failed.returncode == 1 and "0 done, 1 failed" in failed.stderr and "torn down" not in failed.stdout
    assert not (tmp_path / "no.png").exists()


def test_other_commands_exit_as_usual_with_the_start_ups_objects_set_aside(tmp_path: Path) -> None:
    # The garbage collector is off while PyTorch and the command are imported (0.3 s of a 16×16 upscale), then on
    # again, with what the imports created frozen (never scanned again).
    done = _console_script(["models", "list"], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("torn down True True")
