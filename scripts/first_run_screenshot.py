"""Screenshots of the desktop app's first run, for review: a fresh ``LDL_STUDIO_HOME`` (nothing converted, no
settings), a photo opened, and the model list as a new user sees it — the default model selected, the models that
cannot run greyed out with how to get them.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/first_run_screenshot.py [--out out/screenshots]

Writes first_run.png (the window, the model's note under the list) and first_run_models.png (the list opened).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from qtpy.QtWidgets import QApplication

# Run as a file, this script sees only scripts/ on its path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/screenshots"))
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        # Set before the app reads it: the backend this run starts gets its own empty home and discovery folder.
        os.environ["LDL_STUDIO_HOME"] = str(Path(folder) / "home")
        from skimage import data

        from ldl_client import ConnectSettings, read_discovery_file
        from ui.app import build_window
        from ui.state.backend import BackendStatus

        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        photo = Path(folder) / "chelsea.png"
        Image.fromarray(np.ascontiguousarray(data.chelsea()[40:200, 80:340])).save(photo)
        window = build_window([photo], Path(folder) / "config" / "app.json", ConnectSettings(python=sys.executable))
        window.resize(1500, 950)
        window.show()
        deadline = time.monotonic() + 180
        while window.backend.status not in (BackendStatus.READY, BackendStatus.FAILED):
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for the backend")
            settle(app, 0.1)
        if window.backend.status is BackendStatus.FAILED:
            raise SystemExit(f"the backend did not start: {window.backend.message} ({window.backend.hint})")
        settle(app, 0.5)
        note = window.run_panel.note
        print(f"selected: {window.run_panel.model.currentData()}; note: {note.text()}")
        if not window.grab().save(str(out / "first_run.png")):
            raise SystemExit("could not write first_run.png")
        combo = window.run_panel.model
        combo.showPopup()
        settle(app, 0.5)
        # The open list is its own top-level window: the screen holds both, as the user sees them.
        screen = app.primaryScreen()
        assert screen is not None
        if not screen.grabWindow().save(str(out / "first_run_models.png")):
            raise SystemExit("could not write first_run_models.png")
        combo.hidePopup()
        print(f"wrote {out / 'first_run.png'} and {out / 'first_run_models.png'}")
        window.close()
        # The backend this script started lives in the temporary home: stop it before the folder goes.
        endpoint = read_discovery_file(Path(folder) / "home" / "run" / "server.json")
        if endpoint is not None:
            os.kill(endpoint.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
