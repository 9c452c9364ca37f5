"""Reading and checking what a request carries: integers in the query and the path, texts, sender ids.

Every check raises :class:`griddesk.web.errors.ApiError` with a stable code and a Chinese message that
names the parameter by its Chinese label (the machine name goes in ``field``): bad query parameters are
``400 invalid_parameter``, an id in the path that cannot exist ``404``. Fields of JSON bodies are read
with :mod:`griddesk.fields` (``422 invalid_field``).
"""

from __future__ import annotations

import re

from aiohttp import web

from griddesk.db import MAX_INTEGER
from griddesk.fields import CONTROL_CHARS, has_surrogate
from griddesk.web.errors import ApiError

MAX_SENDER_CHARS = 128


def bad_parameter(name: str, label: str, why: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{label}：{why}。", field=name)


def query_int(request: web.Request, name: str, label: str, *, default: int, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` from the query string (absent or empty: ``default``)."""
    raw = request.query.get(name, "")
    if raw == "":
        return default
    why = f"必须是 {low} 到 {high} 之间的整数"
    if len(raw) > len(str(high)) + 1 or not re.fullmatch(r"-?\d+", raw):
        raise bad_parameter(name, label, why)
    value = int(raw)
    if not low <= value <= high:
        raise bad_parameter(name, label, why)
    return value


def after_seq(request: web.Request) -> int:
    """``after``: the last message sequence number a client has seen (0 = from the start)."""
    return query_int(request, "after", "消息序号（after）", default=0, low=0, high=MAX_INTEGER)


def query_text(request: web.Request, name: str, label: str, *, max_chars: int) -> str | None:
    """An optional short text from the query string (stripped; empty: None)."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    if len(raw) > max_chars or CONTROL_CHARS.search(raw) or has_surrogate(raw):
        raise bad_parameter(name, label, f"最多 {max_chars} 个字符，不能含控制字符")
    return raw


def path_id(request: web.Request, name: str, not_found: str = "找不到该记录。", code: str = "not_found") -> int:
    """A database id from the path; anything that cannot be one is 404 (it names nothing)."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_INTEGER)) or int(raw) > MAX_INTEGER:
        raise ApiError(404, code, not_found)
    return int(raw)


def check_sender(value: object, status: int = 422) -> str:
    """A client's sender id (Rasa's ``sender``): 1–128 characters, no control characters; stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(status, "invalid_sender", "会话标识（sender）必须是非空文字。", field="sender")
    if len(value) > MAX_SENDER_CHARS or CONTROL_CHARS.search(value) or has_surrogate(value):
        raise ApiError(
            status,
            "invalid_sender",
            f"会话标识（sender）无效：最多 {MAX_SENDER_CHARS} 个字符，不能含控制字符。",
            field="sender",
        )
    return value.strip()
