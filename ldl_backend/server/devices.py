"""The devices this backend can run jobs on, asked of the drivers once per server (they do not change while it
runs, and asking CUDA costs a driver start)."""

from __future__ import annotations

import threading

from ldl_backend.engine.device import available_devices


class DeviceList:
    """``get()`` answers ``available_devices()``, asked the first time and kept. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._devices: tuple[str, ...] | None = None

    def get(self) -> tuple[str, ...]:
        with self._lock:
            if self._devices is None:
                self._devices = available_devices()
            return self._devices
