"""OpenAPI paths of staff login (``accounts.web``)."""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import error as _error
from griddesk.web.openapi import json_body as _body
from griddesk.web.openapi import json_content as _json
from griddesk.web.openapi import staff as _staff

ACCOUNT_PATHS: dict[str, Any] = {
    "/api/v1/auth/login": {
        "post": {
            "summary": "Staff login (agent, grid manager, admin): sets the session cookie",
            "requestBody": _body(
                {
                    "username": {"type": "string", "minLength": 1, "maxLength": 256},
                    "password": {"type": "string", "minLength": 1, "maxLength": 256},
                },
                ["username", "password"],
            ),
            "responses": {
                "200": _json("The account and the CSRF token"),
                "401": _error("invalid_credentials"),
                "422": _error("Malformed body"),
                "429": {
                    **_error(
                        "locked: too many failed logins of this username from this address, from this address, "
                        "or of this username (the same answer whether or not the username exists)"
                    ),
                    "headers": {
                        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
                    },
                },
            },
        }
    },
    "/api/v1/auth/logout": _staff("post", "End the session", {"204": {"description": "Logged out"}}),
    "/api/v1/auth/me": _staff("get", "Who is logged in, their grids and the CSRF token", {"200": _json("Account")}),
}
