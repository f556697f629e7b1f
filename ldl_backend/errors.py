"""One error tree for the whole backend.

Every error carries a ``message`` (what went wrong) and a ``hint`` (what the user can do about it) and a stable
``code`` that the server and the front ends show. The CLI prints both; nothing is printed and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence


class LdlError(Exception):
    """Base class of every error the backend raises on purpose."""

    code = "ldl_error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ModelFileError(LdlError):
    """A model file is missing, truncated, corrupt or in a format we cannot read."""

    code = "bad_model_file"


class UnsafeModelFileError(ModelFileError):
    """A pickle asked for something other than plain tensors; nothing in it was run."""

    code = "unsafe_model_file"


class UnknownArchitectureError(ModelFileError):
    """The weights do not match any architecture we know."""

    code = "unknown_architecture"

    def __init__(
        self, closest: str | None, missing_keys: Sequence[str], detail: str = "", supported: Sequence[str] = ()
    ) -> None:
        self.closest = closest
        self.missing_keys = tuple(missing_keys)
        shown = ", ".join(self.missing_keys[:8]) + (" …" if len(self.missing_keys) > 8 else "")
        if closest is None:
            message = "the weights do not look like any supported super-resolution network"
        else:
            message = f"the weights do not match any supported network; closest is {closest}"
            if shown:
                message += f", which would also need the keys {shown}"
        if detail:
            message += f" ({detail})"
        names = ", ".join(supported) or "none"
        super().__init__(
            message,
            f"supported networks: {names}; check that the file is a generator (not a discriminator or an optimizer "
            "state)",
        )


class ModelNotFoundError(LdlError):
    """No model of that name is in the catalog, or it is listed but not installed."""

    code = "model_not_found"


class CatalogError(LdlError):
    """The catalog could not be changed as asked (name taken, invalid name, damaged catalog file)."""

    code = "catalog_error"


class DownloadError(LdlError):
    """A model download failed or its checksum did not match; nothing was written."""

    code = "download_failed"


class ChecksumMismatchError(DownloadError):
    code = "checksum_mismatch"


class ExportError(LdlError):
    """Exporting a model (e.g. to ONNX) failed or the exported file disagrees with PyTorch."""

    code = "export_failed"


class ImageFileError(LdlError):
    """An image file is missing, unreadable, corrupt, truncated or in a format we do not support."""

    code = "bad_image"


class ImageTooLargeError(ImageFileError):
    """An image has more pixels than the budget allows; it was refused before its pixels were decoded."""

    code = "image_too_large"


class OutputExistsError(LdlError):
    """The output file already exists and overwriting was not asked for."""

    code = "output_exists"


class AssetNotInstalledError(ModelNotFoundError):
    """An auxiliary file a feature needs (NIQE parameters, LPIPS weights) is listed but not installed."""

    code = "asset_not_installed"


class BlendInputError(LdlError, ValueError):
    """A map, mask, edit or layer given to masking or blending cannot be used (shape, dtype, NaN, range)."""

    code = "bad_blend_input"
