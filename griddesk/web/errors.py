"""Errors the gateway answers with, as JSON ``{"error": {"code", "message"}}`` (messages in Chinese)."""

from __future__ import annotations

import json
import logging
from functools import partial
from collections.abc import Awaitable, Callable

from aiohttp import web


log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, dumps=partial(json.dumps, ensure_ascii=False))


_HTTP_CODES = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "需要登录或有效的令牌"),
    403: ("forbidden", "没有权限"),
    404: ("not_found", "找不到该地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请求的内容类型不受支持"),
}


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every error on the API and webhook paths into a JSON error; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(("/api/", "/webhooks/")):
            raise
        code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
        return error_response(exc.status, code, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务器内部错误,请稍后再试")
