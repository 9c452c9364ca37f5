"""The OpenAPI part of the tickets API (``tickets.web.api``; the workspace's: ``tickets.web.workspace_openapi``).

Each route declares exactly the schemes it accepts: reading and opening take a staff login
(``session``) or the integration token (``bearer``); moving, commenting on and approving a ticket
take a staff login only.
"""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import error as _error
from tickets.intake import MAX_VERSION
from tickets.numbers import MAX_NUMBER_CHARS

_STATES = ["accepted", "analysing", "in_progress", "resolved", "closed"]
_PRIORITIES = ["urgent", "high", "normal", "low"]
_CATEGORIES = ["consultation", "fault", "complaint", "suggestion", "billing", "after_sales", "refund"]
_STAMP = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset (UTC)"}
_NOTE = {"type": "string", "maxLength": 2000}
# yuan as a number (0.01 up to a hundred million) or as people write it (5000, 5,000元, ￥5000.50, 五千, 1.2万)
AMOUNT: dict[str, Any] = {
    "type": ["string", "number", "null"],
    "maxLength": 32,
    "minimum": 0.01,
    "maximum": 99999999.99,
}

_TICKET = {
    "type": "object",
    "required": [
        "number",
        "category",
        "description",
        "contact_phone",
        "contact_name",
        "region",
        "amount_yuan",
        "customer_tier",
        "grid",
        "priority",
        "state",
        "needs_approval",
        "approved_by",
        "assignee_id",
        "step_due_at",
        "resolve_due_at",
        "overdue",
        "version",
        "created_at",
        "updated_at",
    ],
    "properties": {
        "number": {"type": "string", "pattern": "^GD-[0-9A-Z]{6}$", "examples": ["GD-7K3QX9"]},
        "category": {"type": "string", "enum": _CATEGORIES},
        "description": {"type": "string"},
        "contact_phone": {
            "type": "string",
            "description": "masked (138****8000) except in GET /api/v1/tickets/{number} (recorded as a reveal event) "
            "and in the answer to opening the ticket",
            "examples": ["138****8000", "13800138000"],
        },
        "contact_name": {
            "type": "string",
            "description": "masked to its first character (张*) where contact_phone is",
            "examples": ["张*"],
        },
        "region": {"type": "string"},
        "amount_yuan": {
            "type": ["string", "null"],
            "pattern": "^[0-9]+\\.[0-9]{2}$",
            "description": 'decimal yuan as a string ("5000.00"), null when there is none',
        },
        "customer_tier": {"type": "string", "enum": ["general", "key", "prospect"]},
        "grid": {"type": "string", "description": "code of the grid that owns the ticket"},
        "priority": {"type": "string", "enum": _PRIORITIES},
        "state": {"type": "string", "enum": _STATES},
        "needs_approval": {"type": "boolean", "description": "amount at or above the grid's approval threshold"},
        "approved_by": {
            "type": ["string", "null"],
            "description": "the approving grid manager's account, as account:<id>",
        },
        "assignee_id": {
            "type": ["integer", "null"],
            "description": "the account of the grid's staff who works on it (assigned in the tickets workspace)",
        },
        "step_due_at": _STAMP | {"type": ["string", "null"], "description": "deadline of the current step"},
        "resolve_due_at": _STAMP | {"type": ["string", "null"]},
        "overdue": {"type": "boolean"},
        "version": {
            "type": "integer",
            "minimum": 1,
            "description": "grows with every change; send it back as "
            "`version` on a transition to refuse it if someone else changed the ticket meanwhile",
        },
        "created_at": _STAMP,
        "updated_at": _STAMP,
    },
}
_TICKET_EVENT = {
    "type": "object",
    "required": ["at", "actor", "kind", "from_state", "to_state", "note"],
    "properties": {
        "at": _STAMP,
        "actor": {
            "type": "string",
            "description": "who did it: account:<id> (staff login), integration:<token name> (the API token), "
            "customer (the chat), system (the overdue watch)",
        },
        "kind": {
            "type": "string",
            "examples": ["created", "transition", "comment", "approval", "overdue", "reveal"],
            "description": "reveal: the actor saw the contact phone and name in full (GET of the ticket)",
        },
        "from_state": {"type": ["string", "null"]},
        "to_state": {"type": ["string", "null"]},
        "note": {"type": "string"},
    },
}
_TICKET_DETAIL = {
    "allOf": [
        {"$ref": "#/components/schemas/Ticket"},
        {
            "type": "object",
            "required": ["events"],
            "properties": {
                "events": {
                    "type": "array",
                    "description": "the audit trail, oldest first",
                    "items": {"$ref": "#/components/schemas/TicketEvent"},
                }
            },
        },
    ]
}
_NEW_TICKET: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["category", "description", "contact_phone", "contact_name", "region"],
    "properties": {
        "category": {"type": "string", "enum": _CATEGORIES},
        "description": {"type": "string", "minLength": 4, "maxLength": 1000},
        "contact_phone": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32,
            "description": "mainland mobile, or landline with area code",
        },
        "contact_name": {"type": "string", "minLength": 1, "maxLength": 32},
        "region": {
            "type": "string",
            "minLength": 2,
            "maxLength": 64,
            "description": "Chinese place name, e.g. 成都市武侯区; routes the ticket",
        },
        "amount_yuan": AMOUNT
        | {
            "description": "refund or compensation amount; "
            "at or above the grid's threshold (default 5000) resolving needs the grid manager's approval",
        },
        "customer_tier": {"type": "string", "enum": ["general", "key", "prospect"], "default": "general"},
    },
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ticket_response(description: str, schema: str = "TicketDetail") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ACTOR_REFUSED = (
    "; a body naming `actor` is refused (invalid_field, field actor): "
    "the caller is recorded, as account:<id> or integration:<token name>"
)
_READ = {
    "401": _error("unauthorized: neither a staff login nor the right API token"),
    "403": _error(
        "api_disabled: API token not configured · csrf: missing or wrong X-CSRF-Token (a login, unsafe method) · "
        "forbidden: the ticket is not in one of your grids (a login)"
    ),
}
_STAFF_ONLY = {
    "401": _error("unauthorized: not logged in"),
    "403": _error(
        "staff_login_required: the API token may only read and open tickets · csrf: missing or wrong "
        "X-CSRF-Token · forbidden: the ticket is not in one of your grids · api_disabled"
    ),
}
_BAD_BODY = {
    "400": _error("invalid_json: the body is not a UTF-8 JSON object"),
    "413": _error("payload_too_large: body over 16 KB"),
    "422": _error(
        "invalid_field: a field is missing, unknown, of the wrong type or invalid (the message names it)"
        + _ACTOR_REFUSED
    ),
}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NUMBER_CHARS},
    "description": "ticket number, e.g. GD-7K3QX9 (case-insensitive, the dash may be left out)",
}
# a staff login or the integration token (either one)
_SESSION_OR_TOKEN: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
# a staff login only: the token's scope is reading and opening
_SESSION_ONLY: list[dict[str, list[str]]] = [{"session": []}]

_TICKET_PATHS: dict[str, Any] = {
    "/api/v1/tickets": {
        "get": {
            "summary": "List tickets, most urgent first, then oldest",
            "description": "With a staff login: the tickets of your grids only (admins: all; a `grid` filter "
            "outside them finds nothing). With the API token: every grid's tickets.",
            "security": _SESSION_OR_TOKEN,
            "parameters": [
                {"name": "grid", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": _STATES}},
                {"name": "priority", "in": "query", "schema": {"type": "string", "enum": _PRIORITIES}},
                {"name": "overdue", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0},
                },
            ],
            "responses": {
                "200": {
                    "description": "One page of tickets and the total matching the filters",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["total", "items"],
                                "properties": {
                                    "total": {"type": "integer"},
                                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                                },
                            }
                        }
                    },
                },
                "400": _error("invalid_filter: an unknown parameter or a value out of range"),
                **_READ,
            },
        },
        "post": {
            "summary": "Open a ticket (on a customer's behalf); routed to its grid with SLA deadlines",
            "description": "Any staff login (the ticket goes to the grid that serves it, which may not be "
            "yours) or the API token; the creator is recorded as account:<id> or integration:<token name>.",
            "security": _SESSION_OR_TOKEN,
            "requestBody": _json_body({"$ref": "#/components/schemas/NewTicket"}),
            "responses": {
                "201": _ticket_response("The new ticket (header Location: its URL)"),
                **_BAD_BODY,
                **_READ,
            },
        },
    },
    "/api/v1/tickets/{number}": {
        "get": {
            "summary": "Open a ticket: its contact details in full and its audit trail",
            "description": "With a staff login: a ticket of your grids (admins: any). With the API token: any. "
            "Shows the contact phone and name unmasked and records a reveal event (who, when) in the audit trail "
            "first; lists and change answers show them masked.",
            "security": _SESSION_OR_TOKEN,
            "parameters": [_NUMBER],
            "responses": {
                "200": _ticket_response("The ticket and its events"),
                "404": _error("ticket_not_found"),
                **_READ,
            },
        }
    },
    "/api/v1/tickets/{number}/transition": {
        "post": {
            "summary": "Move a ticket along the service flow",
            "description": "accepted → analysing → in_progress → resolved → closed; resolved → in_progress "
            "reopens. Atomic: of two concurrent changes one wins, the other gets 409. Staff login only "
            "(agents and managers: tickets of their grids; admins: any); recorded as account:<id>.",
            "security": _SESSION_ONLY,
            "parameters": [_NUMBER],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["to"],
                    "properties": {
                        "to": {"type": "string", "enum": _STATES},
                        "note": _NOTE,
                        "version": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_VERSION,
                            "description": "refuse with ticket_conflict unless the ticket is still at this version",
                        },
                    },
                }
            ),
            "responses": {
                "200": _ticket_response("The ticket in its new state"),
                **_BAD_BODY,
                **_STAFF_ONLY,
                "404": _error("ticket_not_found"),
                "409": _error(
                    "transition_not_allowed (not a step of the flow from the current state) · "
                    "ticket_conflict (changed meanwhile) · approval_required (resolving a ticket "
                    "that needs the grid manager's approval)"
                ),
            },
        }
    },
    "/api/v1/tickets/{number}/comments": {
        "post": {
            "summary": "Add a comment to the audit trail",
            "description": "Staff login only (tickets of your grids; admins: any); recorded as account:<id>.",
            "security": _SESSION_ONLY,
            "parameters": [_NUMBER],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["note"],
                    "properties": {"note": _NOTE | {"minLength": 1}},
                }
            ),
            "responses": {
                "201": _ticket_response("The ticket with the comment in its events"),
                **_BAD_BODY,
                **_STAFF_ONLY,
                "404": _error("ticket_not_found"),
                "409": _error("ticket_conflict"),
            },
        }
    },
    "/api/v1/tickets/{number}/approve": {
        "post": {
            "summary": "The grid manager approves a high-value resolution",
            "description": "Staff login only, and only the ticket grid's manager: role manager, a member of "
            "the grid, and the person the grid names as its manager (by username or display name). Admins do "
            "not approve. Recorded as account:<id> (approved_by and the approval event).",
            "security": _SESSION_ONLY,
            "parameters": [_NUMBER],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"note": _NOTE},
                }
            ),
            "responses": {
                "200": _ticket_response("The approved ticket (approved_by set)"),
                **_BAD_BODY,
                **_STAFF_ONLY,
                "403": _error(
                    "not_approver: you are not the ticket grid's manager · staff_login_required: the API token "
                    "may not approve · csrf: missing or wrong X-CSRF-Token · api_disabled"
                ),
                "404": _error("ticket_not_found"),
                "409": _error("ticket_conflict"),
            },
        }
    },
}


TICKET_PATHS = _TICKET_PATHS
TICKET_STATES = _STATES
TICKET_PRIORITIES = _PRIORITIES
TICKET_CATEGORIES = _CATEGORIES
NUMBER_PARAM = _NUMBER
TICKET_SCHEMAS: dict[str, dict[str, Any]] = {
    "Ticket": _TICKET,
    "TicketEvent": _TICKET_EVENT,
    "TicketDetail": _TICKET_DETAIL,
    "NewTicket": _NEW_TICKET,
}
