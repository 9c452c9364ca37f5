"""OpenAPI paths of human handoff: the agent console and the manager view.

Console routes need the ``griddesk_session`` cookie from ``POST /api/v1/auth/login`` and, on unsafe
methods, the ``X-CSRF-Token`` header (the token comes with the login and ``GET /api/v1/auth/me``).
Shapes are described in docs/handoff.md; here every route, its parameters and its errors.
"""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_GRID_CHARS, MAX_MESSAGE_CHARS, after_param, id_schema, path_id, text_schema
from griddesk.web.openapi import error as _error
from griddesk.web.openapi import json_body as _body
from griddesk.web.openapi import json_content as _json
from griddesk.web.openapi import staff as _staff_operation
from handoff.web.console_api import MAX_NOTE_CHARS
from tickets.web.openapi import AMOUNT, TICKET_SCHEMAS

_HANDOFF_ID = path_id("handoff_id")
_NEW_TICKET = TICKET_SCHEMAS["NewTicket"]["properties"]
_STATE_ERRORS: dict[str, Any] = {
    "404": _error("not_found"),
    "409": _error("already_taken · at_capacity · agent_offline · not_assigned · invalid_transition"),
}
_MESSAGE = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer"},
        "author": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
        "text": {"type": ["string", "null"]},
        "payload": {},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


def _staff(
    method: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    state_errors: bool = False,
) -> dict[str, Any]:
    return _staff_operation(
        method,
        summary,
        responses,
        parameters=parameters,
        body=body,
        state_errors=_STATE_ERRORS if state_errors else None,
    )


HANDOFF_PATHS: dict[str, Any] = {
    "/api/v1/console/queue": _staff(
        "get", "Waiting conversations of my grids (admins: all)", {"200": _json("Queue items")}
    ),
    "/api/v1/console/chats": _staff("get", "My accepted conversations", {"200": _json("Chats")}),
    "/api/v1/console/handoffs/{handoff_id}": _staff(
        "get",
        "A handoff: packet, events, transcript",
        {"200": _json("Handoff")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
    ),
    "/api/v1/console/conversations/{conversation_id}/messages": _staff(
        "get",
        "Messages of a conversation after a sequence number",
        {
            "200": _json(
                "Messages", {"type": "object", "properties": {"messages": {"type": "array", "items": _MESSAGE}}}
            )
        },
        parameters=[path_id("conversation_id"), after_param()],
    ),
    "/api/v1/console/customers/{customer_id}": _staff(
        "get",
        "A verified customer's record (客户档案) with their conversations and tickets; agents and managers: "
        "customers served in their grids",
        {"200": _json("Customer history"), "403": _error("forbidden"), "404": _error("not_found")},
        parameters=[
            {
                "name": "customer_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999},
            }
        ],
    ),
    "/api/v1/console/handoffs/{handoff_id}/accept": _staff(
        "post",
        "Accept a waiting conversation (exactly one agent wins)",
        {"200": _json("The chat")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
    ),
    "/api/v1/console/handoffs/{handoff_id}/messages": _staff(
        "post",
        "Send a message to the customer",
        {"201": _json("Its seq")},
        parameters=[_HANDOFF_ID],
        body=_body(
            {"text": text_schema(MAX_MESSAGE_CHARS, 1, "at most GRIDDESK_MAX_MESSAGE_CHARS (default 2000)")},
            ["text"],
        ),
        state_errors=True,
    ),
    "/api/v1/console/handoffs/{handoff_id}/transfer": _staff(
        "post",
        "Transfer to another grid's queue or to another agent, with a note",
        {"200": _json("Done")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
        body=_body(
            {
                "grid": text_schema(MAX_GRID_CHARS, 1, "a grid code (or agent_id: one of the two)"),
                "agent_id": id_schema("an agent's account id (or grid: one of the two)"),
                "note": text_schema(MAX_NOTE_CHARS),
            }
        ),
    ),
    "/api/v1/console/handoffs/{handoff_id}/hand-back": _staff(
        "post",
        "Hand the conversation back to the bot",
        {"200": _json("Done")},
        parameters=[_HANDOFF_ID],
        body=_body({"note": text_schema(MAX_NOTE_CHARS)}),
        state_errors=True,
    ),
    "/api/v1/console/handoffs/{handoff_id}/close": _staff(
        "post",
        "Close; the customer is asked for a rating",
        {"200": _json("Done")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
    ),
    "/api/v1/console/handoffs/{handoff_id}/ticket-draft": _staff(
        "get",
        "Ticket fields pre-filled from the packet and the transcript",
        {"200": _json("Draft")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
    ),
    "/api/v1/console/handoffs/{handoff_id}/ticket": _staff(
        "post",
        "Open a ticket from the conversation",
        {"201": _json("The ticket number"), "422": _error("invalid_field")},
        parameters=[_HANDOFF_ID],
        state_errors=True,
        body=_body(
            {
                "category": _NEW_TICKET["category"],
                "description": _NEW_TICKET["description"],
                "contact_phone": _NEW_TICKET["contact_phone"],
                "contact_name": _NEW_TICKET["contact_name"] | {"description": "客户 when left out"},
                "region": _NEW_TICKET["region"],
                "amount": AMOUNT,
                "customer_tier": _NEW_TICKET["customer_tier"],
            },
            ["category", "description", "contact_phone", "region"],
        ),
    ),
    "/api/v1/console/kb/search": _staff(
        "get",
        "Search the knowledge base to insert an answer",
        {"200": _json("Hits"), "400": _error("invalid_query")},
        parameters=[
            {"name": "q", "in": "query", "required": True, "schema": text_schema(MAX_MESSAGE_CHARS, 1)},
            {"name": "grid", "in": "query", "schema": text_schema(MAX_GRID_CHARS)},
        ],
    ),
    "/api/v1/console/canned-replies": _staff("get", "Canned replies of my grids", {"200": _json("Replies")}),
    "/api/v1/console/transfer-targets": _staff(
        "get",
        "Grids and the online colleagues of the chat's grid to transfer it to",
        {"200": _json("Targets"), "400": _error("invalid_parameter")},
        parameters=[{"name": "handoff", "in": "query", "schema": id_schema()}],
    ),
    "/api/v1/console/status": _staff(
        "get",
        "My availability (null for staff without an agent row) and whether my agent console counts as open",
        {"200": _json("The status and presence")},
    )
    | _staff(
        "post",
        "Set my availability (offline only with no chat open; going online may give me a waiting customer)",
        {"200": _json("The status"), "409": _error("chats_still_open"), "422": _error("invalid_status")},
        body=_body({"status": {"type": "string", "enum": ["online", "away", "offline"]}}, ["status"]),
    ),
    "/api/v1/console/manager": _staff(
        "get", "Grid manager's view: queue, agent load, SLA alerts (manager, admin)", {"200": _json("Grid cards")}
    ),
    "/api/v1/console/alerts/{alert_id}/ack": _staff(
        "post",
        "Acknowledge an SLA alert of my grids (manager, admin)",
        {"200": _json("The alert"), "404": _error("not_found")},
        parameters=[path_id("alert_id")],
    ),
    "/api/v1/console/ws": _staff(
        "get",
        "Console websocket (queue, chats, messages, alerts, my status); Origin must be the gateway's;"
        " ?serve=1 from the agent console marks me present (waiting customers may be given to me)",
        {"101": {"description": "Switching protocols"}},
    ),
}
