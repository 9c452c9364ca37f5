"""Small builders shared by every feature's part of the OpenAPI document (``*/openapi.py``)."""

from __future__ import annotations

from typing import Any

from griddesk.db import MAX_INTEGER


def error(description: str) -> dict[str, Any]:
    """A JSON error response ``{"error": {"code", "message"}}``."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_content(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "required": required or [], "properties": properties}}
        },
    }


# Bounds every feature's part uses, as the code enforces them (griddesk.web.params, griddesk.fields).
MAX_ID = MAX_INTEGER  # a database id (griddesk.web.params.path_id)
MAX_SEQ = MAX_INTEGER  # ``after``: a message sequence number (griddesk.web.params.after_seq)
MAX_MESSAGE_CHARS = 2000  # GRIDDESK_MAX_MESSAGE_CHARS' default: customer messages, agent replies, search queries
MAX_GRID_CHARS = 64  # a grid code


def id_schema(description: str = "") -> dict[str, Any]:
    """A database id (a path parameter or a body field)."""
    schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return schema | {"description": description} if description else schema


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": id_schema()}


def after_param() -> dict[str, Any]:
    return {
        "name": "after",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "default": 0},
        "description": "the last message sequence number seen (0 = from the start)",
    }


def text_schema(max_length: int, min_length: int = 0, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return schema | {"description": description} if description else schema


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

SESSION: list[dict[str, list[str]]] = [{"session": []}]
STAFF_ERRORS: dict[str, Any] = {
    "401": error("unauthorized: not logged in"),
    "403": error("forbidden: wrong role or not your grid · csrf: missing or wrong X-CSRF-Token"),
}


def staff(
    method: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    state_errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": SESSION,
        "responses": {**responses, **STAFF_ERRORS, **(state_errors or {})},
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    return {method: operation}
