"""The OpenAPI part of the staff's tickets workspace (``tickets.web.workspace``): staff login only; a ticket
outside the caller's grids answers 404 ``ticket_not_found`` like one that does not exist."""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_GRID_CHARS, after_param, error, json_body, path_id, staff
from tickets.intake import MAX_ACCOUNT_ID, MAX_NOTE_CHARS, MAX_VERSION
from tickets.web.api import MAX_OFFSET
from tickets.web.openapi import NUMBER_PARAM as _NUMBER
from tickets.web.openapi import TICKET_CATEGORIES, TICKET_PRIORITIES, TICKET_STATES
from tickets.web.workspace import MAX_PAGE_SIZE, MAX_TEXT_CHARS, OPEN, PAGE_SIZE, PREFIX

_FLAG = {"type": "string", "enum": ["true", "false"]}
_NOTE = {"type": "string", "maxLength": MAX_NOTE_CHARS}
_VERSION = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_VERSION,
    "description": "the version the change was made against (the one the page shows); another is 409 ticket_conflict",
}
_CARD_REF = {"$ref": "#/components/schemas/WorkspaceTicketCard"}
_ASSIGNEE_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ACCOUNT_ID}
_PERSON = {
    "type": ["object", "null"],
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
_CARD = {
    "allOf": [
        {"$ref": "#/components/schemas/Ticket"},
        {
            "type": "object",
            "required": ["assignee", "late"],
            "properties": {
                "assignee": _PERSON,
                "late": {"type": "boolean", "description": "overdue now: marked, or open and past its step deadline"},
            },
        },
    ]
}
_EVENT = {
    "allOf": [
        {"$ref": "#/components/schemas/TicketEvent"},
        {
            "type": "object",
            "required": ["actor_name"],
            "properties": {"actor_name": {"type": "string", "description": "who, as people read it"}},
        },
    ]
}
_DETAIL = {
    "allOf": [
        _CARD_REF,
        {
            "type": "object",
            "required": ["grid_name", "now", "events", "next_steps", "assignable", "may", "customer", "conversations"],
            "properties": {
                "grid_name": {"type": "string"},
                "now": {"type": "string", "format": "date-time", "description": "the server's clock"},
                "events": {"type": "array", "items": _EVENT, "description": "the audit trail, oldest first"},
                "next_steps": {
                    "type": "array",
                    "items": {"type": "string", "enum": TICKET_STATES},
                    "description": "the states the service flow allows next (reopening last)",
                },
                "assignable": {
                    "type": "array",
                    "description": "the grid's agents and managers the ticket may be assigned to",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "role"],
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "role": {"type": "string", "enum": ["agent", "manager"]},
                        },
                    },
                },
                "may": {
                    "type": "object",
                    "required": ["approve", "assign_others"],
                    "properties": {"approve": {"type": "boolean"}, "assign_others": {"type": "boolean"}},
                },
                "customer": {
                    "type": ["object", "null"],
                    "description": "the verified customer record (null: anonymous); phone and name masked but "
                    "in the answer to …/reveal",
                },
                "conversations": {
                    "type": "array",
                    "description": "the conversations the ticket came from",
                    "items": {
                        "type": "object",
                        "required": ["id", "channel", "started_at", "messages"],
                        "properties": {
                            "id": {"type": "integer"},
                            "channel": {"type": "string"},
                            "started_at": {"type": "string", "format": "date-time"},
                            "messages": {"type": "integer"},
                        },
                    },
                },
            },
        },
    ]
}


def _ticket(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkspaceTicket"}}},
    }


_NOT_FOUND = {"404": error("ticket_not_found: no such ticket, or not one of your grids' (the same answer)")}
_BAD_BODY = {
    "400": error("invalid_json: the body is not a UTF-8 JSON object"),
    "413": error("payload_too_large: body over 16 KB"),
    "422": error("invalid_field: a field is missing, unknown or invalid (the message names it in Chinese)"),
}
_CONFLICT = {
    "409": error(
        "ticket_conflict: changed by someone else since the version sent (the message says what it is now) · "
        "transition_not_allowed · approval_required"
    )
}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    return parameter | {"description": description} if description else parameter


WORKSPACE_PATHS: dict[str, Any] = {
    PREFIX: staff(
        "get",
        "The tickets workspace's list: your grids' tickets (admins: all), overdue first, then the nearest "
        "step deadline; contacts masked",
        {
            "200": {
                "description": "One page and the total matching",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["total", "limit", "offset", "now", "items"],
                            "properties": {
                                "total": {"type": "integer"},
                                "limit": {"type": "integer"},
                                "offset": {"type": "integer"},
                                "now": {"type": "string", "format": "date-time"},
                                "items": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/WorkspaceTicketCard"},
                                },
                            },
                        }
                    }
                },
            },
            "400": error("invalid_parameter: an unknown filter or a value out of range (named in Chinese)"),
        },
        parameters=[
            _query("grid", {"type": "string", "maxLength": MAX_GRID_CHARS}),
            _query("state", {"type": "string", "enum": [*TICKET_STATES, OPEN]}, "open: not yet resolved"),
            _query("category", {"type": "string", "enum": TICKET_CATEGORIES}),
            _query("priority", {"type": "string", "enum": TICKET_PRIORITIES}),
            _query("overdue", _FLAG, "true: overdue now (marked, or open and past its step deadline); false: not"),
            _query("awaiting_approval", _FLAG, "true: open tickets waiting for the grid manager's approval"),
            _query("mine", _FLAG, "true: assigned to you"),
            _query(
                "q",
                {"type": "string", "maxLength": MAX_TEXT_CHARS},
                "a ticket number, a full contact phone, or words of the description or region",
            ),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE}),
            _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
        ],
    ),
    f"{PREFIX}/{{number}}": staff(
        "get",
        "One ticket for the workspace: fields (contact masked), assignee, audit trail, next steps, who may be "
        "assigned, the verified customer and the conversations it came from",
        {"200": _ticket("The ticket"), **_NOT_FOUND},
        parameters=[_NUMBER],
    ),
    f"{PREFIX}/{{number}}/reveal": staff(
        "post",
        "Show the contact (and the customer's phone and name) in full; recorded first as a reveal event",
        {"200": _ticket("The ticket with the contact in full"), **_NOT_FOUND},
        parameters=[_NUMBER],
    ),
    f"{PREFIX}/{{number}}/transition": staff(
        "post",
        "Move the ticket along the service flow (受理→分析→处理→解决→关闭, reopen); the customer's chat is told",
        {"200": _ticket("The ticket in its new state"), **_BAD_BODY, **_NOT_FOUND},
        parameters=[_NUMBER],
        body=json_body(
            {"to": {"type": "string", "enum": TICKET_STATES}, "version": _VERSION, "note": _NOTE}, ["to", "version"]
        ),
        state_errors=_CONFLICT,
    ),
    f"{PREFIX}/{{number}}/comments": staff(
        "post",
        "Add a comment to the audit trail",
        {"201": _ticket("The ticket with the comment"), **_BAD_BODY, **_NOT_FOUND},
        parameters=[_NUMBER],
        body=json_body({"note": _NOTE | {"minLength": 1}}, ["note"]),
        state_errors={"409": error("ticket_conflict")},
    ),
    f"{PREFIX}/{{number}}/approve": staff(
        "post",
        "The grid manager approves a high amount, with a note (required)",
        {"200": _ticket("The approved ticket"), **_BAD_BODY, **_NOT_FOUND},
        parameters=[_NUMBER],
        body=json_body({"note": _NOTE | {"minLength": 1}}, ["note"]),
        state_errors={
            "403": error("not_approver: not the manager the ticket's grid names · csrf"),
            "409": error("transition_not_allowed: nothing to approve · ticket_conflict"),
        },
    ),
    f"{PREFIX}/{{number}}/assign": staff(
        "post",
        "Assign the ticket to an agent or manager of its grid (null: nobody). Managers and admins assign anyone "
        "of the grid; an agent takes a ticket for themselves or gives back their own",
        {"200": _ticket("The ticket with its new assignee"), **_BAD_BODY, **_NOT_FOUND},
        parameters=[_NUMBER],
        body=json_body(
            {
                "assignee_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ACCOUNT_ID},
                "version": _VERSION,
            },
            ["assignee_id", "version"],
        ),
        state_errors={
            "403": error("not_allowed: an agent may only take or give back a ticket themselves · csrf"),
            **_CONFLICT,
        },
    ),
    f"{PREFIX}/{{number}}/conversations/{{conversation_id}}/messages": staff(
        "get",
        "The transcript of a conversation the ticket came from (no other conversation)",
        {
            "200": {
                "description": "Messages after `after`, oldest first (at most 200)",
                "content": {"application/json": {"schema": {"type": "object", "required": ["messages"]}}},
            },
            "400": error("invalid_parameter: after out of range"),
            "404": error("ticket_not_found · not_found: not a conversation this ticket came from"),
        },
        parameters=[_NUMBER, path_id("conversation_id"), after_param()],
    ),
}
WORKSPACE_SCHEMAS: dict[str, Any] = {"WorkspaceTicketCard": _CARD, "WorkspaceTicket": _DETAIL}
