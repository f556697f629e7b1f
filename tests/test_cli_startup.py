"""``ldl`` imports only the command it runs: ``ldl upscale`` pays for neither the server's web stack nor the
trainer, and ``ldl --help`` (or a mistyped command) imports no command and no PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "uvicorn", "starlette", "ldl_backend.server", "ldl_backend.training", "ldl_backend.commands")


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
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
