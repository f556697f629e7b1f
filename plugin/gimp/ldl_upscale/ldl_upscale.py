#!/usr/bin/env python3
"""LDL Studio's GIMP 3 plug-in: two procedures under Filters › Enhance.

``ldl-upscale`` ("Upscale with LDL…") upscales the selected layer through the LDL Studio backend (``ldl serve``,
found running or started the way the installer recorded in ``backend.json``) and adds the group ``LDL`` with the
faithful upscale, the detail upscale with its mask and the hidden artifact map. ``ldl-blend-selection`` ("Blend LDL
detail into selection") makes the mask white inside the selection.

Three phases, as in the Krita plug-in: read the drawable (GIMP), run the job (no GIMP calls but progress), change
the image (GIMP, one undo group). The image changes only after the job succeeded and its layers were converted.
Arguments, return values and errors: see ``register_upscale`` and README's GIMP section.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Installed, this folder also holds the client library (ldl_client/) and the installer's backend.json.
PLUGIN_DIR = Path(__file__).resolve().parent
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from ldl_gimp.plugin import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv)
