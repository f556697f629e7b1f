"""Stands in for ``python -m ldl_backend.cli serve`` in the launch tests; the mode comes from ``FAKE_SERVE``.

``serve``: run a fake server and write its discovery file under ``$LDL_STUDIO_HOME/run``, until killed;
``crash``: print a message and exit 3; ``hang``: write the pid to ``$LDL_STUDIO_HOME/hang.pid`` and sleep.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_server import Backend, FakeServer  # found through the path set up just above

if __name__ == "__main__":
    home = Path(os.environ["LDL_STUDIO_HOME"])
    mode = os.environ["FAKE_SERVE"]
    print(f"fake serve {mode} args={sys.argv[1:]}", flush=True)
    if mode == "crash":
        print("boom: no model found", flush=True)
        sys.exit(3)
    if mode == "hang":
        (home / "hang.pid").write_text(str(os.getpid()))
        time.sleep(60)
    server = FakeServer(Backend(token="launched"))
    server.write_discovery(home / "run" / "server.json")
    while True:
        time.sleep(1)
