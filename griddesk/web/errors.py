"""The gateway's one error policy: every API error is ``{"error": {"code", "message"[, "field"]}}``.

Domain errors (:class:`griddesk.errors.DomainError`) keep their own code and message; their HTTP status
is chosen here, once, from the code. :class:`ApiError` is for what only the edge knows (a missing login,
a malformed request). Nothing else maps errors: views let them propagate to :func:`json_errors`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from griddesk.errors import DomainError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a message for people (and headers, e.g.
    ``Retry-After`` on a 429)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


# HTTP status of each domain error code; a code not listed is refused input (422).
STATUS_BY_CODE: dict[str, int] = {
    # the thing does not exist, or the caller may not see it
    "not_found": 404,
    "ticket_not_found": 404,
    "faq_not_found": 404,
    "version_not_found": 404,
    "inbox_items_not_found": 404,
    # the caller may not do this
    "forbidden": 403,
    "not_allowed": 403,
    "not_in_grid": 403,
    "not_approver": 403,
    "invalid_rating_token": 403,
    "conversation_key_required": 403,
    "conversation_key_invalid": 403,
    # the current state does not allow it (someone else was first, or it changed meanwhile)
    "already_taken": 409,
    "at_capacity": 409,
    "agent_offline": 409,
    "chats_still_open": 409,
    "not_assigned": 409,
    "invalid_transition": 409,
    "transition_not_allowed": 409,
    "ticket_conflict": 409,
    "faq_conflict": 409,
    "already_rated": 409,
    "nothing_to_publish": 409,
    "approval_required": 409,
    "ticket_error": 409,
    # a query the search cannot serve as asked
    "invalid_query": 400,
}


def status_of(error: DomainError) -> int:
    return STATUS_BY_CODE.get(error.code, 422)


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return web.json_response({"error": body}, status=status, dumps=partial(json.dumps, ensure_ascii=False))


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
        response = error_response(exc.status, exc.code, exc.message, exc.field)
        response.headers.update(exc.headers)
        return response
    except DomainError as exc:
        return error_response(status_of(exc), exc.code, exc.message, exc.field)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(("/api/", "/webhooks/")):
            raise
        code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
        response = error_response(exc.status, code, message)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except BadHttpMessage:  # a malformed part of the request found while reading it (multipart headers, encoding)
        return error_response(400, "bad_request", "请求格式无效。")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务器内部错误，请稍后再试。")
