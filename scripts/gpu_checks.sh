#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, run by hand on a machine that has one (CI has none): the CUDA tests, the
# engine and training benchmarks, the main job on the GPU and a short `ldl train` run. Everything is logged to
# OUTDIR (default out/gpu).
#   PYTHON=python3 bash scripts/gpu_checks.sh [OUTDIR]
# Needs the project's dependencies importable by $PYTHON (the venv's, or an installed CUDA PyTorch plus
# `pip install -e .[dev]`); models are converted into a scratch $LDL_STUDIO_HOME unless one is set.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/gpu}
python=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
export LDL_STUDIO_HOME=${LDL_STUDIO_HOME:-$(mktemp -d)}
scratch=$(mktemp -d)
# step: run a command, and note it in OUTDIR/failed.txt when it fails (pipelines run steps in subshells).
: >"$out/failed.txt"
step() { echo "== $*" >&2; "$@" || { echo "!! failed: $*" >&2; echo "$*" >>"$out/failed.txt"; }; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"

step $python -m pytest tests/gpu -rA -q -p no:cacheprovider 2>&1 | tee "$out/tests.txt"
step $python benchmarks/engine_gpu.py --size 1024 2>&1 | tee "$out/engine.txt"
for precision in bf16 fp16 fp32; do
    step $python benchmarks/train.py --device cuda --precision "$precision" --patch 256 --batch 12 --steps 5
done 2>&1 | tee "$out/train_step.txt"

# The main job on the GPU, timed: detail, the tta:8 reference, the map and the blend.
$python -c "import skimage.data, PIL.Image; PIL.Image.fromarray(skimage.data.chelsea()).save('$scratch/chelsea.png')"
{ time step $python -m ldl_backend.cli upscale "$scratch/chelsea.png" -o "$scratch/chelsea_x4.png" --blend auto \
    --layers "$scratch/layers" --device cuda; } 2>&1 | tee "$out/demo.txt"

# `ldl train` end to end (data workers, CSV log) with the full RRDBNet: the speed users will see per 1k iterations.
mkdir -p "$scratch/photos"
$python - "$scratch/photos" <<'PY'
import sys, PIL.Image, skimage.data
for name in ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry"):
    PIL.Image.fromarray(getattr(skimage.data, name)()).save(f"{sys.argv[1]}/{name}.png")
PY
for precision in bf16 fp32; do
    step $python -m ldl_backend.cli train --preset realworld --data "$scratch/photos" --init realesrgan-x4plus \
        --vgg random --out "$scratch/run_$precision" --iters 40 --batch 12 --patch 256 --workers 8 \
        --device cuda --precision "$precision" --log-every 20 --no-progress 2>&1 | tail -5
    tail -3 "$scratch/run_$precision/log.csv"
done 2>&1 | tee "$out/train_cli.txt"
if [ -s "$out/failed.txt" ]; then echo "failed steps:" >&2; cat "$out/failed.txt" >&2; exit 1; fi
