"""The OpenAPI 3 description of the routes (hand-written; docs/server-api.md is the prose contract)."""

from __future__ import annotations

from typing import Any

from ldl_client.layers import LAYER_NAMES
from ldl_client.model_upload import MODEL_FILE_TYPE, NCNN_ZIP_TYPE
from ldl_client.options import (
    DEFAULT_MODEL,
    DEFAULT_REFERENCE,
    DEFAULT_SOFTNESS,
    DEFAULT_THRESHOLD,
    DEVICE_PATTERN,
    MAX_SCALE,
    MAX_TILE,
    MIN_TILE,
    MODEL_ID_PATTERN,
    PRECISIONS,
    AlphaMode,
)
from ldl_client.raw_image import RAW_CONTENT_TYPE
from ldl_client.records import JobState
from ldl_client.version import API_VERSION

_ERROR = {"$ref": "#/components/schemas/Error"}
_JOB = {"$ref": "#/components/schemas/Job"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(_ERROR, "error") for status in (401, 403, *statuses)}


_JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}


def openapi_document(version: str) -> dict[str, Any]:
    number = {"type": "number", "minimum": 0, "maximum": 1}
    model = {"type": "string", "pattern": f"^{MODEL_ID_PATTERN}$", "default": DEFAULT_MODEL}
    alpha = {"type": "string", "enum": [mode.value for mode in AlphaMode], "default": AlphaMode.RESIZE.value}
    query = [
        {"name": "model", "in": "query", "schema": model},
        {"name": "scale", "in": "query", "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SCALE}},
        {"name": "reference", "in": "query", "schema": {"type": "string", "default": str(DEFAULT_REFERENCE)}},
        {"name": "threshold", "in": "query", "schema": number | {"default": DEFAULT_THRESHOLD}},
        {"name": "softness", "in": "query", "schema": number | {"default": DEFAULT_SOFTNESS}},
        {"name": "alpha", "in": "query", "schema": alpha},
        {
            "name": "device",
            "in": "query",
            "description": "auto (default), cpu, cuda, cuda:N or mps; GET /health lists the devices of this machine",
            "schema": {"type": "string", "pattern": f"^({DEVICE_PATTERN})$", "default": "auto"},
        },
        {
            "name": "precision",
            "in": "query",
            "description": "auto (default): the fastest that the device and the model support",
            "schema": {"type": "string", "enum": list(PRECISIONS), "default": "auto"},
        },
        {
            "name": "tile",
            "in": "query",
            "description": "tile side in input pixels, or auto (default: sized from free memory)",
            "schema": {
                "oneOf": [
                    {"type": "string", "enum": ["auto"]},
                    {"type": "integer", "minimum": MIN_TILE, "maximum": MAX_TILE},
                ],
                "default": "auto",
            },
        },
    ]
    binary = {"schema": {"type": "string", "format": "binary"}}
    image_body = {
        "required": True,
        "content": {kind: binary for kind in ("image/png", "image/tiff", "image/jpeg", "image/webp", RAW_CONTENT_TYPE)},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "LDL Studio backend", "version": version, "x-api": API_VERSION},
        "servers": [{"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "0"}}}],
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {"responses": {"200": _json({"$ref": "#/components/schemas/Health"}), **_errors()}}},
            "/models": {"get": {"responses": {"200": _json({"type": "object"}), **_errors()}}},
            "/models/import": {
                "post": {
                    "parameters": [
                        {
                            "name": "name",
                            "in": "query",
                            "schema": {"type": "string", "pattern": f"^{MODEL_ID_PATTERN}$"},
                        },
                        {"name": "filename", "in": "query", "schema": {"type": "string"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {kind: binary for kind in (MODEL_FILE_TYPE, NCNN_ZIP_TYPE)},
                    },
                    "responses": {"201": _json({"type": "object"}), **_errors(400, 409, 413, 415, 422)},
                }
            },
            "/openapi.json": {"get": {"responses": {"200": _json({"type": "object"}), **_errors()}}},
            "/jobs": {
                "get": {"responses": {"200": _json({"type": "object"}), **_errors()}},
                "post": {
                    "parameters": query,
                    "requestBody": image_body,
                    "responses": {"202": _json({"type": "object"}), **_errors(400, 404, 413, 415, 422, 429, 503)},
                },
            },
            "/jobs/{id}": {
                "get": {"parameters": [_JOB_ID], "responses": {"200": _json(_JOB), **_errors(404)}},
                "delete": {
                    "parameters": [_JOB_ID],
                    "responses": {"204": {"description": "deleted"}, **_errors(404, 409)},
                },
            },
            "/jobs/{id}/events": {
                "get": {
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": {"description": "progress events", "content": {"text/event-stream": binary}},
                        **_errors(404),
                    },
                }
            },
            "/jobs/{id}/layers/{name}": {
                "get": {
                    "parameters": [
                        _JOB_ID,
                        {"name": "name", "in": "path", "required": True, "schema": {"enum": list(LAYER_NAMES)}},
                        {"name": "format", "in": "query", "schema": {"enum": ["png", "tiff", "raw"]}},
                    ],
                    "responses": {
                        "200": {
                            "description": "the layer",
                            "content": {k: binary for k in ("image/png", "image/tiff", RAW_CONTENT_TYPE)},
                        },
                        **_errors(400, 404, 409),
                    },
                }
            },
            "/jobs/{id}/cancel": {
                "post": {"parameters": [_JOB_ID], "responses": {"202": _json(_JOB), **_errors(404, 409)}}
            },
            "/jobs/{id}/reblend": {
                "post": {
                    "parameters": [_JOB_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Reblend"}},
                            RAW_CONTENT_TYPE: binary,
                        },
                    },
                    "responses": {"200": _json(_JOB), **_errors(400, 404, 409, 413, 415)},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message", "hint"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "hint": {"type": "string"},
                    },
                },
                "Health": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string"},
                        "version": {"type": "string"},
                        "api": {"type": "integer"},
                        "worker": {"enum": ["starting", "ready", "busy", "restarting", "failed"]},
                        "queued": {"type": "integer"},
                        "running": {"type": "integer"},
                        "devices": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "devices jobs can run on: cpu first, then cuda:N and mps where present",
                            "example": ["cpu", "cuda:0"],
                        },
                    },
                },
                "Reblend": {
                    "type": "object",
                    "required": ["threshold", "softness"],
                    "properties": {"threshold": number, "softness": number},
                },
                "Job": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "state": {"enum": [state.value for state in JobState]},
                        "model": {"type": "string"},
                        "created": {"type": "number", "description": "Unix time, seconds"},
                        "updated": {"type": "number", "description": "Unix time, seconds"},
                        "progress": {"type": "object"},
                        "error": {"nullable": True, "allOf": [_ERROR]},
                        "width": {"type": "integer", "nullable": True},
                        "height": {"type": "integer", "nullable": True},
                    },
                },
            },
        },
    }
