"""OpenAPI paths of the knowledge-base admin API (``/api/v1/kb/…`` except ``/api/v1/kb/search``).

Every route needs the ``griddesk_session`` cookie of a grid manager or admin and, on unsafe methods,
the ``X-CSRF-Token`` header; agents get 403. The rules behind the routes are in docs/kb-curation.md.
"""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_GRID_CHARS, MAX_ID, MAX_MESSAGE_CHARS, id_schema, path_id, text_schema
from griddesk.web.openapi import error as _error
from griddesk.web.openapi import json_body as _body
from griddesk.web.openapi import json_content as _json

_SESSION: list[dict[str, list[str]]] = [{"session": []}]
_ERRORS = {
    "401": _error("unauthorized: not logged in"),
    "403": _error("forbidden: not a manager or admin, or not your grid's FAQ · csrf: missing or wrong X-CSRF-Token"),
}
_FAQ_ID = path_id("faq_id")
_NOTE = text_schema(500)
_QUERY = text_schema(MAX_MESSAGE_CHARS, 1, "at most GRIDDESK_MAX_MESSAGE_CHARS (default 2000)")
_GRID = text_schema(MAX_GRID_CHARS)
_NOT_FOUND = {"404": _error("not_found: no such FAQ")}

_CONTENT = {
    "question": {"type": "string", "minLength": 1, "maxLength": 500},
    "similar_questions": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 100},
    "answer": {"type": "string", "minLength": 1, "maxLength": 5000},
    "category": {"type": "string", "maxLength": 64},
    "grid": {
        "type": ["string", "null"],
        "maxLength": MAX_GRID_CHARS,
        "description": "grid code; null or empty = global",
    },
    "overrides_id": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": MAX_ID,
        "description": "the global FAQ this grid FAQ replaces for its grid",
    },
}
_SUMMARY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "external_id": {"type": "string"},
        "question": {"type": "string"},
        "similar_count": {"type": "integer"},
        "category": {"type": "string"},
        "grid": {"type": ["string", "null"]},
        "overrides_id": {"type": ["integer", "null"]},
        "status": {"type": "string", "enum": ["draft", "published", "archived"]},
        "review": {"type": "string", "enum": ["", "draft", "pending", "rejected"]},
        "version": {"type": "integer", "description": "send back as expected_version when saving a draft"},
        "published_version": {"type": ["integer", "null"]},
        "draft_version": {"type": ["integer", "null"]},
        "updated_at": {"type": "string", "format": "date-time"},
        "usage": {"type": "object", "description": "totals per kind (answered, suggested, chosen, helpful, unhelpful)"},
    },
}
_DETAIL = {
    "allOf": [
        _SUMMARY,
        {
            "type": "object",
            "properties": {
                "live": {
                    "type": ["object", "null"],
                    "description": "what customers see (null: never published)",
                    "properties": _CONTENT,
                },
                "draft": {"type": ["object", "null"], "description": "the pending draft version, if any"},
                "review_note": {"type": "string", "description": "why the grid manager rejected the draft"},
                "may_edit": {"type": "boolean"},
                "may_publish": {"type": "boolean"},
                "events": {"type": "array", "description": "history, newest first", "items": {"type": "object"}},
            },
        },
    ]
}
_FAQ = _json("The FAQ: live content, pending draft, history events", _DETAIL)
_REPORT = {
    "type": "object",
    "required": ["errors", "rows"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer", "description": "line (CSV, JSONL) or row (XLSX); 0 = the whole file"},
                    "field": {"type": "string"},
                    "reason": {"type": "string", "description": "in Chinese"},
                },
            },
        },
        "rows": {"type": "integer", "description": "data rows read"},
    },
}
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": ".csv / .xlsx / .jsonl, UTF-8, at most 20 MB",
                    }
                },
            }
        }
    },
}
_UPLOAD_ERRORS = {
    "400": _error("invalid_multipart"),
    "413": _error("payload_too_large: file over 20 MB"),
    "415": _error("unsupported_media_type: not multipart/form-data"),
    "422": _json(
        "invalid_import: the row-by-row report (wrong encoding such as GBK, missing columns, empty "
        "answers, duplicates, formula cells); nothing written",
        _REPORT,
    ),
}
_ITEM_IDS = {"type": "array", "items": id_schema(), "minItems": 1, "maxItems": 500}
_STATE = {"409": _error("faq_conflict · nothing_to_publish · invalid_state")}


def _op(
    method: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "security": _SESSION, "responses": {**responses, **_ERRORS}}
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    return {method: operation}


def _faq_action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return _op(
        "post",
        summary,
        {"200": _FAQ, **_NOT_FOUND, **_STATE, "422": _error("invalid_field")},
        parameters=[_FAQ_ID],
        body=body,
    )


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "query", "schema": schema}
    return param | {"description": description} if description else param


KB_PATHS: dict[str, Any] = {
    "/api/v1/kb/search": {
        "get": {
            "summary": "Search the knowledge base (hit-test)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": _QUERY},
                {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 3}},
                {"name": "grid", "in": "query", "schema": _GRID},
            ],
            "responses": {
                "200": {
                    "description": "Decision and ranked hits",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["decision", "hits"],
                                "properties": {
                                    "decision": {"type": "string", "enum": ["answer", "suggest", "fallback"]},
                                    "hits": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "id": {"type": "integer"},
                                                "external_id": {"type": "string"},
                                                "question": {"type": "string"},
                                                "answer": {"type": "string"},
                                                "score": {"type": "number"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "400": _error("Empty or too long query, k out of range"),
                "401": _error("Missing or wrong API token"),
                "403": _error("API token not configured"),
            },
        }
    },
    "/api/v1/kb/faqs": {
        **_op(
            "get",
            "Find FAQs (admins: all; managers: global and their grids')",
            {
                "200": _json(
                    "One page and the total",
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": _SUMMARY}, "total": {"type": "integer"}},
                    },
                ),
                "400": _error("invalid_parameter"),
            },
            parameters=[
                _query("q", text_schema(200), "text in the question, similar questions or answer (or an id)"),
                _query("category", text_schema(64)),
                _query("grid", _GRID, "a grid code, or `global` for global FAQs only"),
                _query("status", {"type": "string", "enum": ["draft", "published", "archived"]}),
                _query("review", {"type": "string", "enum": ["draft", "pending", "rejected"]}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
                _query("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}),
            ],
        ),
        **_op(
            "post",
            "Create an FAQ as a draft (managers: scoped to one of their grids)",
            {"201": _FAQ, "422": _error("invalid_field")},
            body=_body({**_CONTENT, "note": _NOTE}, ["question", "answer"]),
        ),
    },
    "/api/v1/kb/faqs/{faq_id}": _op(
        "get",
        "An FAQ: live content, pending draft, version, history events",
        {"200": _FAQ, **_NOT_FOUND},
        parameters=[_FAQ_ID],
    ),
    "/api/v1/kb/faqs/{faq_id}/draft": _op(
        "put",
        "Save a draft (a new version); refused with 409 faq_conflict if the FAQ changed since expected_version",
        {"200": _FAQ, **_NOT_FOUND, **_STATE, "422": _error("invalid_field")},
        parameters=[_FAQ_ID],
        body=_body(
            {
                **_CONTENT,
                "expected_version": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_ID,
                    "description": "the FAQ's version when editing began",
                },
                "note": _NOTE,
            },
            ["question", "answer", "expected_version"],
        ),
    ),
    "/api/v1/kb/faqs/{faq_id}/submit": _faq_action("Submit the draft for the grid manager's review"),
    "/api/v1/kb/faqs/{faq_id}/approve": _faq_action(
        "Approve (= publish) a pending draft (the grid's manager, admins)", _body({"note": _NOTE})
    ),
    "/api/v1/kb/faqs/{faq_id}/reject": _faq_action(
        "Reject a pending draft with a note", _body({"note": text_schema(500, 1)}, ["note"])
    ),
    "/api/v1/kb/faqs/{faq_id}/publish": _faq_action(
        "Publish the draft: customers get it within seconds",
        _body({"expected_version": {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "note": _NOTE}),
    ),
    "/api/v1/kb/faqs/{faq_id}/archive": _faq_action("Archive: customers no longer see it (publish again to undo)"),
    "/api/v1/kb/faqs/{faq_id}/restore": _faq_action(
        "Restore version N as a new published version",
        _body({"number": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}, ["number"]),
    ),
    "/api/v1/kb/faqs/{faq_id}/versions": _op(
        "get",
        "Every saved version, oldest first",
        {
            "200": _json(
                "Versions",
                {"type": "object", "properties": {"versions": {"type": "array", "items": {"type": "object"}}}},
            ),
            **_NOT_FOUND,
        },
        parameters=[_FAQ_ID],
    ),
    "/api/v1/kb/faqs/{faq_id}/diff": _op(
        "get",
        "Character diff of two versions, field by field",
        {
            "200": _json(
                "Fields that differ",
                {
                    "type": "object",
                    "properties": {
                        "a": {"type": "integer"},
                        "b": {"type": "integer"},
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string"},
                                    "before": {},
                                    "after": {},
                                    "ops": {
                                        "type": "array",
                                        "description": "[op, text] with op equal/insert/delete",
                                        "items": {"type": "array"},
                                    },
                                },
                            },
                        },
                    },
                },
            ),
            **_NOT_FOUND,
            "400": _error("invalid_parameter"),
        },
        parameters=[
            _FAQ_ID,
            _query("a", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
            _query("b", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        ],
    ),
    "/api/v1/kb/faqs/{faq_id}/usage": _op(
        "get",
        "Daily usage: answered, suggested, chosen, helpful, unhelpful",
        {"200": _json("The series, oldest day first"), **_NOT_FOUND, "400": _error("invalid_parameter")},
        parameters=[_FAQ_ID, _query("days", {"type": "integer", "minimum": 1, "maximum": 365, "default": 30})],
    ),
    "/api/v1/kb/usage": _op(
        "get",
        "Usage of every FAQ the reader may see, per day (service time zone), and the most used FAQs",
        {
            "200": _json(
                "The summed series, oldest day first, and the top FAQs (answered + chosen in the window)",
                {
                    "type": "object",
                    "required": ["days", "series", "top"],
                    "properties": {
                        "days": {"type": "integer"},
                        "series": {"type": "array", "items": {"type": "object"}},
                        "top": {"type": "array", "items": {"type": "object"}},
                    },
                },
            ),
            "400": _error("invalid_parameter"),
        },
        parameters=[
            _query("days", {"type": "integer", "minimum": 1, "maximum": 365, "default": 30}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
        ],
    ),
    "/api/v1/kb/import/validate": _op(
        "post",
        "Validate an import file row by row; nothing is written (admins)",
        {"200": _json("No problems: the report", _REPORT), **_UPLOAD_ERRORS},
        body=_UPLOAD,
    ),
    "/api/v1/kb/import": _op(
        "post",
        "Import a file: every row or none (admins)",
        {
            "200": _json(
                "Counts",
                {
                    "type": "object",
                    "properties": {
                        "created": {"type": "integer"},
                        "updated": {"type": "integer"},
                        "unchanged": {"type": "integer"},
                    },
                },
            ),
            **_UPLOAD_ERRORS,
        },
        body=_UPLOAD,
    ),
    "/api/v1/kb/export": _op(
        "get",
        "Download every FAQ in the import format (admins)",
        {
            "200": {
                "description": "Attachment griddesk-faqs-YYYYMMDD.{csv,xlsx,jsonl}",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            "400": _error("invalid_parameter"),
        },
        parameters=[_query("format", {"type": "string", "enum": ["csv", "xlsx", "jsonl"], "default": "csv"})],
    ),
    "/api/v1/kb/hit-test": _op(
        "get",
        "What customers of a grid would get for a question: decision, top hits with scores and bands",
        {
            "200": _json(
                "Decision, thresholds and hits",
                {
                    "type": "object",
                    "properties": {
                        "decision": {"type": "string", "enum": ["answer", "suggest", "fallback"]},
                        "thresholds": {
                            "type": "object",
                            "properties": {
                                "answer": {"type": "number"},
                                "suggest": {"type": "number"},
                                "margin": {"type": "number"},
                            },
                        },
                        "hits": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "faq_id": {"type": "integer"},
                                    "question": {"type": "string"},
                                    "score": {"type": "number"},
                                    "dense": {"type": "number"},
                                    "lexical": {"type": "number"},
                                    "band": {"type": "string", "enum": ["answer", "suggest", "fallback"]},
                                },
                            },
                        },
                    },
                },
            ),
            "400": _error("invalid_query · invalid_k"),
        },
        parameters=[
            _query("q", _QUERY),
            _query("grid", _GRID),
            _query("k", {"type": "integer", "minimum": 1, "maximum": 20, "default": 5}),
        ],
    ),
    "/api/v1/kb/inbox": _op(
        "get",
        "Open unanswered questions grouped by meaning, most frequent first",
        {
            "200": _json(
                "Clusters",
                {
                    "type": "object",
                    "properties": {
                        "clusters": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {},
                                    "representative": {"type": "string"},
                                    "size": {"type": "integer"},
                                    "items": {"type": "array", "items": {"type": "object"}},
                                    "kinds": {"type": "object"},
                                    "top_faq_id": {"type": ["integer", "null"]},
                                    "top_faq_question": {
                                        "type": ["string", "null"],
                                        "description": "the closest FAQ's standard question (null when it is gone)",
                                    },
                                },
                            },
                        }
                    },
                },
            )
        },
    ),
    "/api/v1/kb/inbox/similar": _op(
        "post",
        "Add the questions as similar questions of an FAQ (admins)",
        {"200": _json("The FAQ"), "404": _error("not_found"), "422": _error("invalid_field")},
        body=_body({"item_ids": _ITEM_IDS, "faq_id": id_schema()}, ["item_ids", "faq_id"]),
    ),
    "/api/v1/kb/inbox/draft": _op(
        "post",
        "Start a new FAQ draft from the questions (admins)",
        {"201": _json("The new FAQ"), "422": _error("invalid_field")},
        body=_body({"item_ids": _ITEM_IDS, "answer": {"type": "string", "maxLength": 5000}}, ["item_ids"]),
    ),
    "/api/v1/kb/inbox/dismiss": _op(
        "post",
        "Dismiss the questions (admins)",
        {"200": _json("How many"), "422": _error("invalid_field")},
        body=_body({"item_ids": _ITEM_IDS}, ["item_ids"]),
    ),
}
