"""The plugin's error tree: every error carries a ``message`` and a ``hint`` the action shows in a message box."""

from __future__ import annotations


class PluginError(Exception):
    """Base class of every error the plugin raises on purpose; ``code`` is the backend's error code when it has one."""

    def __init__(self, message: str, hint: str = "", code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UnsupportedDocument(PluginError):  # noqa: N818 - reads as what happened, like the client's ConnectionFailed
    """The document's colour model or depth cannot be upscaled (CMYK, Lab, …), or there is no paint layer to read."""


class BackendFailed(PluginError):  # noqa: N818
    """The backend could not be reached, refused the job, or the job failed; ``code`` is the backend's error code."""


class Cancelled(PluginError):  # noqa: N818
    """The user cancelled; nothing in the document changed."""


class NothingToBlend(PluginError):  # noqa: N818
    """ "Blend detail into selection" needs an LDL group with its mask and a selection."""
