"""Errors the HTTP API answers with: a stable ``code``, a ``message``, a ``hint`` and an honest status."""

from __future__ import annotations

from ldl_backend.errors import LdlError


class ApiError(LdlError):
    """An error with its HTTP status. ``retry_after`` (seconds) becomes a ``Retry-After`` header."""

    code = "bad_request"

    def __init__(self, status: int, code: str, message: str, hint: str = "", retry_after: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.retry_after = retry_after


def bad_request(message: str, hint: str = "") -> ApiError:
    return ApiError(400, "bad_request", message, hint)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} does not exist", "list the jobs with GET /jobs")


def conflict(message: str, hint: str = "") -> ApiError:
    return ApiError(409, "conflict", message, hint)


def unknown_model(name: str, hint: str = "") -> ApiError:
    return ApiError(
        404, "unknown_model", f"{name!r} is not a model in the catalog", hint or "list the models with GET /models"
    )


# Status codes of the backend's own errors (``LdlError.code``) when they reach the API.
STATUS_OF_CODE = {
    "bad_image": 422,
    "image_too_large": 422,
    "unsupported_image": 415,
    "model_not_found": 404,
    "catalog_error": 404,
    "body_too_large": 413,
    "bad_blend_input": 400,
}


def status_of(error: LdlError) -> int:
    if isinstance(error, ApiError):
        return error.status
    return STATUS_OF_CODE.get(error.code, 400)
