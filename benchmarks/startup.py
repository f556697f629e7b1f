"""Start-up: what a one-image ``ldl upscale`` spends beyond importing PyTorch (issue 20's target: at most 0.5 s).

Run by hand on a quiet machine:
    .venv/bin/python benchmarks/startup.py [--runs 10] [--size 16] [--model realesrgan-x4plus]

Alternates fresh ``python -c "import torch"`` processes (with and without the interpreter's teardown, which
``ldl upscale`` skips) with fresh ``ldl upscale`` processes on a ``size``×``size`` PNG (the model installed
beforehand in a scratch ``LDL_STUDIO_HOME``, as after a user's first run) and prints each one's median wall time
and the differences. Then, in one more fresh process, the stages of the same job, each timed
once: importing torch, importing the command, reading and checking the model file, building the network, preparing
the engine, and reading, upscaling (the first pass) and writing the PNG.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = """
import sys, time
started = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
import torch
mark("import torch")
from ldl_backend.commands import upscale  # the command's imports, as `ldl upscale` makes them
mark("import the command")
from pathlib import Path
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.artifacts.files import upscale_file
from ldl_backend.engine.files import FileJob
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.safetensors_file import read_safetensors
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root
mark("import the rest")
store = ModelStore(models_root(), builtin_catalog())
state_dict, _ = read_safetensors(store.ensure_installed(sys.argv[1]))
mark("read and check the model file")
descriptor, network = default_registry().load(state_dict)
mark("detect and build the network")
engine = prepare_engine(LoadedModel(descriptor, network), EngineOptions())
mark("prepare the engine")
upscale_file(FileJob(Path(sys.argv[2]), Path(sys.argv[3]), overwrite=True), engine)
mark("read, upscale (first pass), write PNG")
previous = started
for name, at in marks:
    print(f"  {name:<40} {at - previous:6.3f} s")
    previous = at
"""


def seconds(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=environment)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--model", default="realesrgan-x4plus")
    arguments = parser.parse_args()
    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="ldl-startup-") as folder:
        root = Path(folder)
        environment = {**os.environ, "LDL_STUDIO_HOME": str(root / "home")}
        environment.pop("PYTHONDONTWRITEBYTECODE", None)  # users' interpreters keep their bytecode caches
        source, output = root / "in.png", root / "out.png"
        pixels = np.random.default_rng(0).integers(0, 256, (arguments.size, arguments.size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(source)
        ldl = [sys.executable, "-m", "ldl_backend.cli", "upscale", str(source), "-o", str(output), "--overwrite"]
        ldl += ["--model", arguments.model]
        subprocess.run(ldl, check=True, capture_output=True, env=environment)  # installs the model; warms caches
        torch_only = [sys.executable, "-c", "import torch"]
        # The same import without the interpreter's teardown (`ldl upscale` skips it too): the stricter reference.
        torch_no_teardown = [sys.executable, "-c", "import os, torch; os._exit(0)"]
        seconds(torch_only, environment)
        torch_times, bare_times, ldl_times = [], [], []
        for _ in range(arguments.runs):
            torch_times.append(seconds(torch_only, environment))
            bare_times.append(seconds(torch_no_teardown, environment))
            ldl_times.append(seconds(ldl, environment))
        torch_median, ldl_median = statistics.median(torch_times), statistics.median(ldl_times)
        bare_median = statistics.median(bare_times)
        print(f"{arguments.size}×{arguments.size} with {arguments.model}, median of {arguments.runs} alternating runs")
        print(f"  python -c 'import torch'                  {torch_median:.3f} s")
        print(f"  the same, ending without teardown         {bare_median:.3f} s")
        print(f"  ldl upscale                               {ldl_median:.3f} s")
        print(f"  beyond importing torch                    {ldl_median - torch_median:.3f} s (target ≤ 0.5 s)")
        print(f"  beyond importing torch, both untorn       {ldl_median - bare_median:.3f} s")
        print("stages of the same job in one fresh process:")
        stages = [sys.executable, "-c", STAGES, arguments.model, str(source), str(output)]
        spinning = {"GOMP_SPINCOUNT": os.environ.get("GOMP_SPINCOUNT", "10000")}  # as `ldl` sets it
        done = subprocess.run(stages, check=True, capture_output=True, text=True, env={**environment, **spinning})
        print(done.stdout, end="")


if __name__ == "__main__":
    main()
