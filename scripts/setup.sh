#!/usr/bin/env bash
# Create .venv and install the project. torch is pinned and installed first: an unpinned torch would pull a
# multi-GB CUDA build. Usage: scripts/setup.sh [EXTRAS]   (e.g. "dev" or "samples")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="models${1:+,$1}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
