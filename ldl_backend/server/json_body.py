"""JSON request bodies: small, shallow objects only, so no body can cost the server more than a few kilobytes or
escape as a 500 (the standard parser raises ``RecursionError`` on deep nesting, which is no ``ValueError``)."""

from __future__ import annotations

import json
from typing import Any

from ldl_backend.server.errors import ApiError, bad_request

# Every JSON body the API takes is a handful of fields; 64 KiB leaves room for any of them and bounds the parse.
MAX_JSON_BYTES = 64 * 1024


def parse_object(body: bytes, example: str) -> dict[str, Any]:
    """``body`` as a JSON object. 413 ``body_too_large`` over ``MAX_JSON_BYTES``; 400 ``bad_request`` for text that is
    not UTF-8 JSON, nested too deeply to parse, or not an object. ``example``: a valid body, for the hint."""
    if len(body) > MAX_JSON_BYTES:
        raise ApiError(
            413,
            "body_too_large",
            f"the JSON body has {len(body):,} bytes, more than the limit of {MAX_JSON_BYTES:,}",
            f"send {example}",
        )
    try:
        document = json.loads(body)
    except RecursionError as error:
        raise bad_request("the JSON body is nested too deeply", f"send {example}") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_request(f"the body is not JSON: {error}", f"send {example}") from error
    if not isinstance(document, dict):
        raise bad_request(f"the body must be a JSON object, not {type(document).__name__}", f"send {example}")
    return document
