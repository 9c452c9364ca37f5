"""Small builders shared by the OpenAPI documents of the gateway (``handoff/openapi*.py``)."""

from __future__ import annotations

from typing import Any


def error(description: str) -> dict[str, Any]:
    """A JSON error response ``{"error": {"code", "message"}}``."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def json_content(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required or [], "properties": properties}}}}
