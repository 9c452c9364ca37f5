"""The HTTP edge of staff accounts: login routes, the session cookie, role and CSRF checks.

Other edges (agent console, admin console) guard their views with :func:`require_login` /
:func:`require_role` and their websocket handshakes with :func:`same_origin`. Unsafe methods need
the session's CSRF token in ``X-CSRF-Token`` and, when the browser sends an ``Origin``, our host.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from accounts.errors import AccountLocked, InvalidCredentials
from accounts.login import authenticate
from accounts.models import Account, Role
from accounts.principals import Principal, grids_of, principal_for
from accounts.sessions import end_session, on_sessions_ended, purge_expired_sessions, resolve_session, start_session
from conversations.hub import account_topic, hub_key
from griddesk.db import session_scope, utcnow
from griddesk.settings import Settings
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.keys import settings_key
from griddesk.web.pages import add_pages, add_static
from griddesk.web.ratelimit import client_address
from griddesk.web.tasks import periodic

COOKIE_NAME = "griddesk_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_STORE = {"Cache-Control": "no-store"}
MAX_FIELD_CHARS = 256
MAX_LOGIN_BYTES = 4 * 1024

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Login:
    principal: Principal | None
    csrf_token: str | None


_login_key = web.RequestKey("accounts.login", _Login)


# ---- helpers for the other edges ----------------------------------------------------------------


def _resolve(token: str, now: datetime, hours: int) -> _Login:
    with session_scope() as session:
        found = resolve_session(session, token, now, hours)
    return _Login(*found) if found else _Login(None, None)


async def _login_of(request: web.Request) -> _Login:
    if _login_key in request:
        return request[_login_key]
    token = session_token(request)
    login = _Login(None, None)
    if token:
        hours = request.app[settings_key].session_hours
        login = await asyncio.to_thread(_resolve, token, utcnow(), hours)
    request[_login_key] = login
    return login


async def current_principal(request: web.Request) -> Principal | None:
    """Who is logged in on this request (resolved once per request), or None."""
    return (await _login_of(request)).principal


async def require_login(request: web.Request) -> Principal:
    """The logged-in principal; 401 ``unauthorized`` without a session, 403 ``csrf`` on a forged unsafe request."""
    login = await _login_of(request)
    if login.principal is None:
        raise ApiError(401, "unauthorized", "请先登录。")
    if request.method in UNSAFE_METHODS:
        _check_csrf(request, login.csrf_token or "")
    return login.principal


async def require_role(request: web.Request, *roles: Role) -> Principal:
    """Like :func:`require_login`, and 403 ``forbidden`` unless the principal has one of ``roles``."""
    principal = await require_login(request)
    if principal.role not in roles:
        raise ApiError(403, "forbidden", "没有权限执行此操作。")
    return principal


def _origin_matches(request: web.Request, origin: str, allowed_schemes: frozenset[str]) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    host = request.host.lower()
    return bool(host) and parts.scheme in allowed_schemes and parts.netloc.lower() == host and not parts.path


def _schemes(request: web.Request) -> frozenset[str]:
    # A TLS-terminating proxy in front of the gateway makes the browser's origin https while we see http.
    return frozenset({request.scheme, "https"})


def _check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_matches(request, origin, _schemes(request)):
        raise ApiError(403, "csrf", "请求来源不被允许。")


def _check_csrf(request: web.Request, expected: str) -> None:
    _check_origin(request)
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "csrf", "缺少或无效的 CSRF 令牌，请刷新页面后重试。")


def session_token(request: web.Request) -> str:
    """The login token the request's cookie carries ("" without one): connections that stay open
    re-check it (``accounts.sessions.check_session``)."""
    return request.cookies.get(COOKIE_NAME, "")


def same_origin(request: web.Request) -> bool:
    """For websocket handshakes (browsers send no CSRF header): the Origin must be this gateway's own."""
    origin = request.headers.get("Origin")
    return origin is not None and _origin_matches(request, origin, _schemes(request))


# ---- routes -------------------------------------------------------------------------------------


def account_json(principal: Principal) -> dict[str, object]:
    return {
        "id": principal.account_id,
        "username": principal.username,
        "display_name": principal.display_name,
        "role": principal.role.value,
    }


async def _credentials(request: web.Request) -> tuple[str, str]:
    try:
        body = await read_json_object(request, MAX_LOGIN_BYTES, empty_ok=False)
    except ApiError as exc:  # a login form sent something that is not {"username", "password"}
        if exc.status == 413:
            raise
        raise ApiError(422, "invalid_body", '请求内容必须是 JSON 对象：{"username": …, "password": …}。') from None
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ApiError(422, "invalid_body", "请填写用户名和密码。")
    if len(username) > MAX_FIELD_CHARS or len(password) > MAX_FIELD_CHARS:
        raise ApiError(422, "invalid_body", f"用户名和密码都不能超过 {MAX_FIELD_CHARS} 个字符。")
    return username, password


def _log_in(
    username: str, password: str, old_token: str, now: datetime, address: str, settings: Settings
) -> tuple[Principal, str, str]:
    with session_scope() as session:
        account: Account = authenticate(session, username, password, now, address=address, limits=settings.rate)
        if old_token:
            end_session(session, old_token)
        token, csrf_token = start_session(session, account, now, settings.session_hours)
        return principal_for(session, account), token, csrf_token


async def login(request: web.Request) -> web.Response:
    _check_origin(request)
    username, password = await _credentials(request)
    settings = request.app[settings_key]
    now = utcnow()
    try:
        principal, token, csrf_token = await asyncio.to_thread(
            _log_in, username, password, request.cookies.get(COOKIE_NAME, ""), now, client_address(request), settings
        )
    except InvalidCredentials as exc:
        raise ApiError(401, "invalid_credentials", str(exc)) from None
    except AccountLocked as exc:
        seconds = max(1, math.ceil((exc.until - now).total_seconds()))
        minutes = math.ceil(seconds / 60)
        raise ApiError(
            429, "locked", f"登录失败次数过多，请 {minutes} 分钟后再试。", headers={"Retry-After": str(seconds)}
        ) from None
    response = json_response({"account": account_json(principal), "csrf_token": csrf_token}, headers=NO_STORE)
    response.set_cookie(COOKIE_NAME, token, path="/", httponly=True, samesite="Strict", secure=settings.cookie_secure)
    return response


def _log_out(token: str) -> None:
    with session_scope() as session:
        end_session(session, token)


async def logout(request: web.Request) -> web.Response:
    login_ = await _login_of(request)
    if login_.principal is not None:
        await require_login(request)  # the CSRF check: a forged logout is refused
        await asyncio.to_thread(_log_out, request.cookies.get(COOKIE_NAME, ""))
    else:
        _check_origin(request)
    response = web.Response(status=204, headers=NO_STORE)
    response.del_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="Strict", secure=request.app[settings_key].cookie_secure
    )
    return response


def _grids(principal: Principal) -> list[dict[str, str]]:
    with session_scope() as session:
        return [{"code": g.code, "name": g.name} for g in grids_of(session, principal)]


async def me(request: web.Request) -> web.Response:
    principal = await require_login(request)
    login_ = await _login_of(request)
    grids = await asyncio.to_thread(_grids, principal)
    return json_response(
        {"account": account_json(principal), "csrf_token": login_.csrf_token, "grids": grids}, headers=NO_STORE
    )


PURGE_SECONDS = 3600.0


def _purge() -> int:
    with session_scope() as session:
        return purge_expired_sessions(session, utcnow())


async def _purge_expired(_app: web.Application) -> None:
    purged = await asyncio.to_thread(_purge)
    if purged:
        log.info("removed %d expired console logins", purged)


# ``app.cleanup_ctx`` entry: expired logins are deleted every hour (they never resolve anyway).
session_purge = periodic("expired login purge", _purge_expired, lambda _app: PURGE_SECONDS)

SESSION_ENDED_EVENT = "session_ended"


async def session_news(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx`` entry: logins this process ends (logout, a disabled account, a new password)
    become news on the live hub at once (``account_topic``: ``{"type": "session_ended", "account_id"}``),
    so open consoles of that account re-check theirs and close when it ended."""
    loop = asyncio.get_running_loop()
    hub = app[hub_key]

    def publish(account_id: int) -> None:  # in the committing thread
        event = {"type": SESSION_ENDED_EVENT, "account_id": account_id}
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody is listening any more
            loop.call_soon_threadsafe(hub.publish, account_topic(account_id), event)

    stop = on_sessions_ended(publish)
    try:
        yield
    finally:
        stop()


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_post("/api/v1/auth/logout", logout)
    app.router.add_get("/api/v1/auth/me", me)
    add_pages(app, {"/console/login": STATIC / "login.html"})
    add_static(app, "accounts", STATIC)
