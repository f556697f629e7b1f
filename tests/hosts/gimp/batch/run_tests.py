"""Run by GIMP 3's Python batch interpreter (``gimp-console-3.0 -i --batch-interpreter=python-fu-eval``), started by
tests/plugin/test_gimp_host.py: pytest on the in-GIMP tests, the report and the outcome written to files, then a
failed assert when they did not pass, so that GIMP itself exits with status 64 as well.

``$LDL_GIMP_HOST_TEST`` names the run's JSON configuration: this file reads ``tests`` (the folder), ``report`` and
``result`` (files to write) and ``pytest_args``; the in-GIMP tests read the rest (photo, ldl_studio_home, model,
client_dir, out_dir). Paths are as GIMP sees them (inside the chroot, where there is one).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

CONFIG_VARIABLE = "LDL_GIMP_HOST_TEST"


def _write_json(path: Path, value: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=2), "utf-8")
    partial.replace(path)


def _gimp_version() -> str:
    import gi  # pyright: ignore[reportMissingImports]

    gi.require_version("Gimp", "3.0")
    from gi.repository import Gimp  # pyright: ignore[reportMissingImports]

    return str(Gimp.version())


def _run_pytest(config: dict[str, Any]) -> int:
    """pytest on the in-GIMP tests, isolated from the repository's settings (its conftest files import torch)."""
    import pytest

    tests = str(config["tests"])
    arguments = [tests, "-c", os.devnull, "--rootdir", tests, "--confcutdir", tests, "-p", "no:cacheprovider"]
    arguments += [str(argument) for argument in config.get("pytest_args", [])]
    previous = Path.cwd()
    os.chdir(tests)  # test ids relative to the tests' folder
    # The terminal report goes to a file as it is written: a hang or crash still leaves the report so far.
    try:
        with (
            Path(config["report"]).open("w", encoding="utf-8", buffering=1) as stream,
            contextlib.redirect_stdout(stream),
            contextlib.redirect_stderr(stream),
        ):
            return int(pytest.main(arguments))
    finally:
        os.chdir(previous)


def main() -> int | None:
    started = time.monotonic()
    outcome: dict[str, object] = {"exit_code": None, "error": None, "python": sys.version}
    result_path: Path | None = None
    try:
        config = json.loads(Path(os.environ[CONFIG_VARIABLE]).read_text("utf-8"))
        result_path = Path(config["result"])
        outcome["gimp"] = _gimp_version()
        outcome["exit_code"] = _run_pytest(config)
    except BaseException:  # SystemExit included: the outcome is written whatever happened
        outcome["error"] = traceback.format_exc()
    outcome["seconds"] = round(time.monotonic() - started, 3)
    if result_path is not None:
        _write_json(result_path, outcome)
    exit_code = outcome["exit_code"]
    return exit_code if isinstance(exit_code, int) else None


if __name__ == "__main__":
    code = main()
    assert code == 0, f"the in-GIMP tests did not pass (pytest exit code {code})"
