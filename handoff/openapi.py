"""The OpenAPI document of the gateway's HTTP interface, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

_ERROR = {
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


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "GridDesk gateway", "version": "0.1.0"},
    "paths": {
        "/webhooks/rest/webhook": {
            "post": {
                "summary": "Rasa REST channel: send a customer message, get the replies",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["sender", "message"],
                        "properties": {
                            "sender": {"type": "string", "minLength": 1, "maxLength": 128},
                            "message": {"type": "string", "minLength": 1},
                            "metadata": {"type": "object"},
                        },
                    }}},
                },
                "responses": {
                    "200": {
                        "description": "Replies in Rasa's format (header X-GridDesk-Degraded when the bot was unreachable)",
                        "content": {"application/json": {"schema": {
                            "type": "array",
                            "items": {"type": "object", "required": ["recipient_id"], "properties": {
                                "recipient_id": {"type": "string"},
                                "text": {"type": "string"},
                                "buttons": {"type": "array", "items": {"type": "object", "properties": {
                                    "title": {"type": "string"}, "payload": {"type": "string"}}}},
                                "custom": {},
                                "image": {"type": "string"},
                            }},
                        }}},
                    },
                    "400": _error("Invalid JSON or body"),
                    "413": _error("Message or body too large"),
                    "422": _error("Fields of the wrong type, empty or with control characters"),
                },
            }
        },
        "/api/v1/kb/search": {
            "get": {
                "summary": "Search the knowledge base (hit-test)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 3}},
                    {"name": "grid", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "Decision and ranked hits",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["decision", "hits"],
                            "properties": {
                                "decision": {"type": "string", "enum": ["answer", "suggest", "fallback"]},
                                "hits": {"type": "array", "items": {"type": "object", "properties": {
                                    "id": {"type": "integer"}, "external_id": {"type": "string"},
                                    "question": {"type": "string"}, "answer": {"type": "string"},
                                    "score": {"type": "number"}}}},
                            },
                        }}},
                    },
                    "400": _error("Empty or too long query, k out of range"),
                    "401": _error("Missing or wrong API token"),
                    "403": _error("API token not configured"),
                },
            }
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "OK"}}}},
    },
    "components": {
        "schemas": {"Error": _ERROR},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
