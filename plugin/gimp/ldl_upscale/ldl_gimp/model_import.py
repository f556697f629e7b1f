"""The dialog's "Add model file…": the backend imports the file on a worker thread while GTK keeps drawing; the outcome
comes back on GTK's thread through ``schedule`` (``GLib.idle_add`` inside GIMP). No GTK here, so it is tested without
GIMP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ldl_client import ClientError, ModelInfo

MODEL_PATTERNS = ("*.pth", "*.pt", "*.ckpt", "*.safetensors", "*.param")


class ModelImporter:
    """``import_model(path)`` adds a model file to the backend's catalog (``Client.import_model``); ``on_done(model)``
    or ``on_error(message, hint)`` then run through ``schedule``, which runs a callable on GTK's thread."""

    def __init__(
        self,
        import_model: Callable[[Path], ModelInfo],
        schedule: Callable[[Callable[[], object]], object],
        on_done: Callable[[ModelInfo], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        self._import_model = import_model
        self._schedule = schedule
        self._on_done, self._on_error = on_done, on_error
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, path: Path) -> bool:
        """Import ``path`` in the background; False (and nothing starts) while an import is still running."""
        if self.busy:
            return False
        self._thread = threading.Thread(target=self._run, args=(path,), name="ldl-gimp-import", daemon=True)
        self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, path: Path) -> None:
        try:
            model = self._import_model(path)
        except ClientError as e:
            message, hint = e.message, e.hint
        except Exception as e:  # the thread's boundary: shown in the dialog rather than lost with the thread
            message, hint = f"{type(e).__name__}: {e}", "this is a bug in the LDL Studio plug-in; please report it"
        else:
            self._schedule(lambda: self._on_done(model))
            return
        self._schedule(lambda: self._on_error(message, hint))


def with_model(models: list[ModelInfo], added: ModelInfo) -> list[ModelInfo]:
    """The catalog after ``added`` came in: it replaces an entry of its name (a listed model now installed)."""
    return [*(model for model in models if model.name != added.name), added]
