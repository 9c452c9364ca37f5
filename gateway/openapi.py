"""The OpenAPI document of the gateway's HTTP interface, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from accounts.openapi import ACCOUNT_PATHS
from gateway.channels.openapi import CHANNEL_PATHS
from griddesk.web.openapi import ERROR_SCHEMA, json_content, staff
from handoff.web.openapi import HANDOFF_PATHS
from knowledge_base.web.openapi import KB_PATHS
from reports.openapi import REPORT_PATHS, REPORT_SCHEMAS
from tickets.web.openapi import TICKET_PATHS, TICKET_SCHEMAS
from tickets.web.workspace_openapi import WORKSPACE_PATHS, WORKSPACE_SCHEMAS

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "GridDesk gateway",
        "version": "0.1.0",
        "description": "Customer channels (Rasa's REST protocol, the customer's live status and rating) and "
        "the management API for consoles and integrations. Each operation lists the schemes it accepts. "
        "Console routes (/api/v1/auth/…, /api/v1/console/…) need a staff login: the `griddesk_session` "
        "cookie from POST /api/v1/auth/login, and the `X-CSRF-Token` header on unsafe methods. The "
        "integration routes need the API token: `Authorization: Bearer $GRIDDESK_API_TOKEN` (without a "
        "configured token they answer 403 api_disabled); /api/v1/kb/search takes the token only, the "
        "tickets API takes a staff login or the token for reading and opening tickets, and a staff login "
        "only for moving, commenting on and approving them (with the token: 403 staff_login_required). "
        "A request with an Authorization header is judged by the token alone. What the token does is "
        "recorded as integration:<GRIDDESK_API_TOKEN_NAME>, what staff do as account:<id>. "
        'Errors are JSON {"error": {"code", "message"}} with a stable code and a Chinese message.',
    },
    "paths": {
        "/healthz": {
            "get": {
                "summary": "Liveness: 200 while the gateway serves; how the database, Rasa and the action server are",
                "responses": {"200": json_content("status and components (ok · unavailable)")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: 200 when the database, Rasa and the action server all answer, else 503",
                "responses": {"200": json_content("ready"), "503": json_content("not ready, with the components")},
            }
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1 document"}}}
        },
        "/api/v1/console/labels": staff(
            "get",
            "Chinese labels of every value the consoles show (roles, statuses, categories, reasons…), by kind",
            {"200": json_content("Labels by kind")},
        ),
        **TICKET_PATHS,
        **WORKSPACE_PATHS,
        **ACCOUNT_PATHS,
        **HANDOFF_PATHS,
        **CHANNEL_PATHS,
        **KB_PATHS,
        **REPORT_PATHS,
    },
    "components": {
        "schemas": {"Error": ERROR_SCHEMA, **TICKET_SCHEMAS, **WORKSPACE_SCHEMAS, **REPORT_SCHEMAS},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "griddesk_session"},
        },
    },
}
