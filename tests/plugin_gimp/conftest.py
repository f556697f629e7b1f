"""The GIMP plug-in's pure helpers (``ldl_gimp``, in plugin/gimp/ldl_upscale, on pytest's pythonpath) run here
without GIMP; ``ldl_gimp.gimp_api``, ``host``, ``dialog`` and ``plugin`` import GIMP's modules and are tested inside
GIMP (tests/hosts/gimp)."""

from __future__ import annotations

import sys
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugin" / "gimp" / "ldl_upscale"
if str(PLUGIN_DIR) not in sys.path:  # pyproject's pythonpath does this for pytest; kept for other runners
    sys.path.insert(0, str(PLUGIN_DIR))
