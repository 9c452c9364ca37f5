"""OpenAPI paths of the messaging channels (docs/channels.md). Mounted only when configured."""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_MESSAGE_CHARS, after_param, error, id_schema, text_schema
from griddesk.web.openapi import error as _error
from griddesk.web.openapi import json_body as _body
from griddesk.web.openapi import json_content as _json
from handoff.rating import MAX_COMMENT_CHARS, MAX_SCORE, MAX_TOKEN_CHARS, MIN_SCORE

_STATUS = {
    "type": "object",
    "properties": {
        "owner": {"type": "string", "enum": ["bot", "queued", "human", "closed"]},
        "grid": {"type": ["object", "null"]},
        "position": {"type": ["integer", "null"]},
        "eta_seconds": {"type": ["integer", "null"]},
        "agent_name": {"type": ["string", "null"]},
        "handoff_id": {"type": ["integer", "null"]},
        "rating_pending": {"type": "boolean"},
    },
}
# a signature (SHA-1 hex), a Unix time, a random string, an encrypted message (base64)
_WECOM_PARAM_CHARS = {"msg_signature": 64, "timestamp": 16, "nonce": 64, "echostr": 4096}
_RATE_LIMITED = {
    **_error("rate_limited: too many requests from this address or for this conversation (GRIDDESK_RATE_*)"),
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
}
SENDER_RULE = (
    "The customer's sender id, made from at least 128 random bits: 22–128 characters of A–Z a–z 0–9 - _ "
    "(a UUID, at least 32 hex digits, or at least 22 URL-safe base64 characters) with at least 8 different "
    "characters; GRIDDESK_LEGACY_SENDER_IDS=true accepts Rasa's 1–128 characters. tg:/wecom: ids are refused."
)
_SENDER_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 128, "description": SENDER_RULE}
_SENDER = {"name": "sender", "in": "query", "required": True, "schema": _SENDER_SCHEMA}
_KEY = {
    "name": "X-GridDesk-Key",
    "in": "header",
    "required": False,
    "description": "The conversation key, for a conversation our chat page bound to one (`new` on the webhook: "
    "bind the conversation and return its key in the response header X-GridDesk-Key). Clients that never ask "
    "for a key send none.",
    "schema": {"type": "string", "maxLength": 128},
}
_KEY_REFUSED = "conversation_key_required · conversation_key_invalid: the conversation is bound to a key"


CHANNEL_PATHS: dict[str, Any] = {
    "/webhooks/rest/webhook": {
        "post": {
            "summary": "Rasa REST channel: send a customer message, get the replies",
            "parameters": [_KEY],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["sender", "message"],
                            "properties": {
                                "sender": _SENDER_SCHEMA,
                                "message": text_schema(
                                    MAX_MESSAGE_CHARS, 1, "at most GRIDDESK_MAX_MESSAGE_CHARS (default 2000)"
                                ),
                                "metadata": {"type": "object"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Replies in Rasa's format (header X-GridDesk-Degraded when the bot was unreachable; "
                    "X-GridDesk-Key: the new conversation key when the request asked for one)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["recipient_id"],
                                    "properties": {
                                        "recipient_id": {"type": "string"},
                                        "text": {"type": "string"},
                                        "buttons": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "title": {"type": "string"},
                                                    "payload": {"type": "string"},
                                                },
                                            },
                                        },
                                        "custom": {},
                                        "image": {"type": "string"},
                                    },
                                },
                            }
                        }
                    },
                },
                "400": error("Invalid JSON or body"),
                "403": error(_KEY_REFUSED),
                "413": error("Message or body too large"),
                "422": error("Fields of the wrong type, empty or with control characters; a guessable sender"),
                "429": _RATE_LIMITED,
            },
        }
    },
    "/webhooks/rest/history": {
        "get": {
            "summary": "The customer's own transcript after a sequence number (chat page polling)",
            "description": "The random sender id is the customer's credential, as in Rasa's REST channel, and the "
            "conversation key when the conversation has one.",
            "parameters": [
                _SENDER,
                after_param(),
                _KEY,
            ],
            "responses": {
                "200": {
                    "description": "Messages in order",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["messages"],
                                "properties": {
                                    "messages": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "seq": {"type": "integer"},
                                                "author": {"type": "string"},
                                                "text": {"type": ["string", "null"]},
                                                "payload": {},
                                                "created_at": {"type": "string", "format": "date-time"},
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
                "400": error("after is not a whole number"),
                "403": error(_KEY_REFUSED),
                "422": error("Missing or invalid sender"),
                "429": _RATE_LIMITED,
            },
        }
    },
    "/webhooks/telegram": {
        "post": {
            "summary": "Telegram Bot API webhook (setWebhook with secret_token = GRIDDESK_TELEGRAM_SECRET)",
            "description": "Updates as the Bot API sends them: messages, /start, callback queries. Replies go out "
            "through the Bot API (sendMessage with inline keyboards). Mounted when "
            "GRIDDESK_TELEGRAM_TOKEN is set.",
            "parameters": [
                {
                    "name": "X-Telegram-Bot-Api-Secret-Token",
                    "in": "header",
                    "required": True,
                    "schema": text_schema(256, 1),
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {"description": "Taken (or ignored: a replay, an unsupported update)"},
                "400": error("Malformed update"),
                "401": error("Missing or wrong secret token"),
                "413": error("Update too large"),
            },
        }
    },
    "/webhooks/wecom": {
        "get": {
            "summary": "WeCom callback URL verification (echostr)",
            "parameters": [
                {"name": n, "in": "query", "required": True, "schema": text_schema(_WECOM_PARAM_CHARS[n], 1)}
                for n in ("msg_signature", "timestamp", "nonce", "echostr")
            ],
            "responses": {
                "200": {"description": "The decrypted echostr (text/plain)"},
                "400": error("Malformed parameters"),
                "401": error("Wrong signature"),
            },
        },
        "post": {
            "summary": "WeCom callback: an encrypted message from a customer",
            "description": "Signature check and AES-256-CBC decryption as the platform documents; replies go "
            "out through the message API. Mounted when the GRIDDESK_WECOM_* settings are set.",
            "parameters": [
                {"name": n, "in": "query", "required": True, "schema": text_schema(_WECOM_PARAM_CHARS[n], 1)}
                for n in ("msg_signature", "timestamp", "nonce")
            ],
            "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
            "responses": {
                "200": {"description": "Taken"},
                "400": error("Malformed or undecryptable message"),
                "401": error("Wrong signature or replayed message"),
            },
        },
    },
    "/webhooks/rest/status": {
        "get": {
            "summary": "The customer's queue status: owner, position, estimated wait, agent, rating due",
            "parameters": [_SENDER, _KEY],
            "responses": {
                "200": _json("Status", _STATUS),
                "403": _error(_KEY_REFUSED),
                "422": _error("Missing or invalid sender"),
                "429": _RATE_LIMITED,
            },
        }
    },
    "/webhooks/rest/live": {
        "get": {
            "summary": "Customer websocket: messages after `after`, then live messages and status",
            "description": "A conversation bound to a key: offer the subprotocols `griddesk.live` and "
            "`griddesk.key.<key>` (browsers cannot set headers on websockets); the server selects `griddesk.live`.",
            "parameters": [_SENDER, after_param()],
            "responses": {
                "101": {"description": "Switching protocols"},
                "403": _error("forbidden_origin: a browser on a site not in GRIDDESK_WIDGET_ORIGINS; " + _KEY_REFUSED),
                "422": _error("Missing or invalid sender"),
                "429": _RATE_LIMITED,
            },
        }
    },
    "/webhooks/rest/rating": {
        "post": {
            "summary": f"Rate a closed handoff ({MIN_SCORE}–{MAX_SCORE}, optional comment)",
            "parameters": [_KEY],
            "description": "`token` is the one-time rating token the close notice's rating buttons carry "
            '(`/griddesk_rate{"score": n, "token": "…"}`, in the customer\'s history and live messages); '
            "staff never see it, so an agent cannot rate their own service.",
            "requestBody": _body(
                {
                    "sender": _SENDER_SCHEMA,
                    "handoff_id": id_schema(),
                    "score": {"type": "integer", "minimum": MIN_SCORE, "maximum": MAX_SCORE},
                    "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS},
                    "token": {"type": "string", "maxLength": MAX_TOKEN_CHARS},
                },
                ["sender", "handoff_id", "score", "token"],
            ),
            "responses": {
                "204": {"description": "Recorded"},
                "403": _error("invalid_rating_token: not the token of this handoff's close notice; " + _KEY_REFUSED),
                "404": _error("not_found: not this sender's closed handoff"),
                "409": _error("already_rated"),
                "422": _error("invalid_rating · invalid_comment"),
                "429": _RATE_LIMITED,
            },
        }
    },
}
