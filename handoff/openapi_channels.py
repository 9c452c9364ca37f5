"""OpenAPI paths of the messaging channels (docs/channels.md). Mounted only when configured."""

from __future__ import annotations

from typing import Any

from handoff.openapi_parts import error

CHANNEL_PATHS: dict[str, Any] = {
    "/webhooks/telegram": {"post": {
        "summary": "Telegram Bot API webhook (setWebhook with secret_token = GRIDDESK_TELEGRAM_SECRET)",
        "description": "Updates as the Bot API sends them: messages, /start, callback queries. Replies go out "
                       "through the Bot API (sendMessage with inline keyboards). Mounted when "
                       "GRIDDESK_TELEGRAM_TOKEN is set.",
        "parameters": [{"name": "X-Telegram-Bot-Api-Secret-Token", "in": "header", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "Taken (or ignored: a replay, an unsupported update)"},
                      "400": error("Malformed update"), "401": error("Missing or wrong secret token"),
                      "413": error("Update too large")}}},
    "/webhooks/wecom": {
        "get": {
            "summary": "WeCom callback URL verification (echostr)",
            "parameters": [{"name": n, "in": "query", "required": True, "schema": {"type": "string"}}
                           for n in ("msg_signature", "timestamp", "nonce", "echostr")],
            "responses": {"200": {"description": "The decrypted echostr (text/plain)"},
                          "400": error("Malformed parameters"), "401": error("Wrong signature")}},
        "post": {
            "summary": "WeCom callback: an encrypted message from a customer",
            "description": "Signature check and AES-256-CBC decryption as the platform documents; replies go "
                           "out through the message API. Mounted when the GRIDDESK_WECOM_* settings are set.",
            "parameters": [{"name": n, "in": "query", "required": True, "schema": {"type": "string"}}
                           for n in ("msg_signature", "timestamp", "nonce")],
            "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "Taken"}, "400": error("Malformed or undecryptable message"),
                          "401": error("Wrong signature or replayed message")}},
    },
}
