"""JSON in and out at the edge: one response helper and one request-body reader for every route."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from griddesk.web.errors import ApiError

MAX_DEPTH = 32  # no body of ours nests deeper; deeper is refused before it can exhaust the stack


def dumps(obj: object) -> str:
    """JSON with Chinese kept readable (no \\u escapes)."""
    return json.dumps(obj, ensure_ascii=False)


def json_response(obj: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(obj, status=status, headers=headers, dumps=dumps)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"请求内容过大：最多 {max(1, max_bytes // 1024)} KB。")


def _depth_and_text_ok(value: object) -> bool:
    """No deeper than MAX_DEPTH and no lone surrogate in any key or string (they cannot be stored)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return False
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return False
            children: Iterable[object] = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(raw: bytes) -> object:
    """Strict JSON from bytes: UTF-8, no NaN/Infinity, bounded depth, no lone surrogates; ApiError 400."""
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _opens_too_deep(raw):
        raise ApiError(400, "invalid_json", f"请求内容嵌套过深：最多 {MAX_DEPTH} 层。")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "请求内容必须是 UTF-8 编码的 JSON。") from None
    try:
        value = json.loads(decoded, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise ApiError(400, "invalid_json", "请求内容必须是 UTF-8 编码的有效 JSON。") from None
    if not _depth_and_text_ok(value):
        raise ApiError(400, "invalid_json", f"请求内容嵌套过深（最多 {MAX_DEPTH} 层）或含有无效字符。")
    return value


def _opens_too_deep(raw: bytes) -> bool:
    """Whether brackets (outside strings) open deeper than MAX_DEPTH, checked without parsing."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


async def read_json_object(
    request: web.Request, max_bytes: int, *, allowed: Iterable[str] | None = None, empty_ok: bool = True
) -> dict[str, Any]:
    """The request body as a JSON object; ``ApiError`` 400 (not JSON, not an object, unknown field) or 413.

    ``allowed`` lists the only keys a body may have (a misspelt optional field is refused, not dropped);
    ``empty_ok`` reads an empty body as ``{}``.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(max_bytes) from None
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    if not raw and empty_ok:
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "请求内容必须是 JSON 对象。")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ApiError(
                422,
                "invalid_field",
                f"未知字段「{unknown[0][:64]}」；可用字段：{'、'.join(sorted(allowed))}。",
                field=unknown[0][:64],
            )
    return body
