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
# A web sender id is the customer's credential, so it must be unguessable: what a client makes from at least
# 128 random bits. Accepted shapes (checked by shape only: a client that picks a non-random id of the right
# shape defeats it): 22-128 characters of the URL-safe base64 alphabet A-Z a-z 0-9 - _ ; when the id is only
# hex digits and dashes (a UUID 8-4-4-4-12, uuid4().hex), at least 32 hex digits; and at least 8 different
# characters (no "aaaa...", no nil UUID). A random UUID4 has 122 random bits: the nearest common shape, accepted.
_RANDOM_ID = re.compile(r"[A-Za-z0-9_-]{22,128}")
_HEX_ID = re.compile(r"[0-9A-Fa-f-]+")
MIN_HEX_DIGITS = 32
MIN_DISTINCT_CHARS = 8
RANDOM_SENDER_RULE = (
    "须由客户端用至少 128 位随机数生成，例如 UUID（8-4-4-4-12 位十六进制）、"
    "至少 32 位十六进制数字，或至少 22 个 URL 安全的 Base64 字符（A–Z、a–z、0–9、-、_），最多 128 个字符"
)


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


def is_random_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id made from at least 128 random bits (see ``_RANDOM_ID``)."""
    if not _RANDOM_ID.fullmatch(value) or len(set(value)) < MIN_DISTINCT_CHARS:
        return False
    return not _HEX_ID.fullmatch(value) or len(value.replace("-", "")) >= MIN_HEX_DIGITS


def check_sender(value: object, status: int = 422, *, legacy: bool = False) -> str:
    """A web client's sender id (Rasa's ``sender``), stripped: the shape of a random id (``is_random_id``);
    with ``legacy``, Rasa's own rule: 1–128 characters, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(status, "invalid_sender", "会话标识（sender）必须是非空文字。", field="sender")
    if not legacy:
        if not is_random_id(value.strip()):
            raise ApiError(status, "invalid_sender", f"会话标识（sender）无效：{RANDOM_SENDER_RULE}。", field="sender")
    elif len(value) > MAX_SENDER_CHARS or CONTROL_CHARS.search(value) or has_surrogate(value):
        raise ApiError(
            status,
            "invalid_sender",
            f"会话标识（sender）无效：最多 {MAX_SENDER_CHARS} 个字符，不能含控制字符。",
            field="sender",
        )
    return value.strip()
