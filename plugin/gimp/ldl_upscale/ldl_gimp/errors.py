"""The plug-in's error tree: every error carries a ``message`` and a ``hint``; the procedures return them to GIMP as
one ``GLib.Error`` (``str(error)``), which GIMP shows in its error console or message box."""

from __future__ import annotations


class PluginError(Exception):
    """Base class of every error the plug-in raises on purpose; ``code`` is the backend's error code when it has one."""

    def __init__(self, message: str, hint: str = "", code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class InvalidArgument(PluginError):  # noqa: N818 - reads as what happened, like the client's ConnectionFailed
    """A procedure argument breaks its rule (``argument`` names it)."""

    def __init__(self, argument: str, message: str, hint: str) -> None:
        super().__init__(message, hint, "invalid_argument")
        self.argument = argument


class UnsupportedImage(PluginError):  # noqa: N818
    """The image or drawable cannot be upscaled (indexed, a group or mask as the drawable, an empty selection)."""


class BackendFailed(PluginError):  # noqa: N818
    """The backend could not be reached, refused the job, or the job failed; ``code`` is the backend's error code."""


class NothingToBlend(PluginError):  # noqa: N818
    """ "Blend LDL detail into selection" needs a selection and an LDL group whose detail layer has a mask."""
