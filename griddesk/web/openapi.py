"""Small builders shared by every feature's part of the OpenAPI document (``*/openapi.py``)."""

from __future__ import annotations

from typing import Any


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
