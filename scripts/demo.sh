#!/usr/bin/env bash
# The main job: upscale a sample photo (scikit-image's "chelsea") ×4 with the default model, offline, with its
# artifact map and the blend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh samples
mkdir -p out
.venv/bin/python -c "import skimage.data, PIL.Image; PIL.Image.fromarray(skimage.data.chelsea()).save('out/chelsea.png')"
# The result keeps generated detail only where the artifact map says it looks real; every layer goes to out/layers.
.venv/bin/ldl upscale out/chelsea.png --output out/chelsea_x4.png --blend auto --layers out/layers --overwrite "$@"
