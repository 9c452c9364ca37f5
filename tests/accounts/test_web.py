"""The login edge: cookie flags, me/logout, CSRF and Origin checks, role checks for other edges."""

from __future__ import annotations

import dataclasses
import re

import pytest
from aiohttp import web

from accounts.models import Role
from accounts.web import (
    COOKIE_NAME,
    add_routes,
    current_principal,
    require_login,
    require_role,
    same_origin,
)
from griddesk.db import session_scope
from griddesk.web.errors import json_errors
from griddesk.web.json import json_response
from griddesk.web.keys import settings_key
from tests.accounts.conftest import PASSWORD, make_staff

pytestmark = pytest.mark.usefixtures("fast_hashing")

LOGIN, LOGOUT, ME = "/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/me"


async def managers_only(request: web.Request) -> web.Response:
    principal = await require_role(request, Role.MANAGER, Role.ADMIN)
    return json_response({"username": principal.username})


async def anyone_logged_in(request: web.Request) -> web.Response:
    principal = await require_login(request)
    again = await current_principal(request)
    return json_response({"username": principal.username, "same": again is principal})


async def websocket_origin(request: web.Request) -> web.Response:
    return json_response({"same_origin": same_origin(request)})


def make_app(settings) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[settings_key] = settings
    add_routes(app)
    app.router.add_post("/api/v1/test/managers", managers_only)
    app.router.add_route("*", "/api/v1/test/staff", anyone_logged_in)
    app.router.add_get("/api/v1/test/ws-origin", websocket_origin)
    return app


@pytest.fixture
def staff(settings):
    with session_scope() as session:
        make_staff(session)
        make_staff(session, "wang.min", Role.MANAGER, display_name="王敏")


@pytest.fixture
async def client(aiohttp_client, settings, staff):
    """A client of a plain-HTTP test server, so cookies are not marked Secure (the jar would drop them)."""
    return await aiohttp_client(make_app(dataclasses.replace(settings, cookie_secure=False)))


async def log_in(client, username: str = "zhang.wei", password: str = PASSWORD) -> str:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def error_code(response) -> str:
    return (await response.json())["error"]["code"]


async def test_login_returns_the_account_and_a_csrf_token_and_sets_a_strict_httponly_secure_cookie(
    aiohttp_client, settings, staff
):
    client = await aiohttp_client(make_app(settings))
    response = await client.post(LOGIN, json={"username": "zhang.wei", "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["account"] == {
        "id": body["account"]["id"],
        "username": "zhang.wei",
        "display_name": "张伟",
        "role": "agent",
    }
    assert len(body["csrf_token"]) >= 43
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=Strict" in set_cookie
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_cookie_is_not_secure_when_cookie_secure_is_off(client):
    response = await client.post(LOGIN, json={"username": "zhang.wei", "password": PASSWORD})
    assert "Secure" not in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


async def test_me_without_a_session_is_401(client):
    response = await client.get(ME)
    assert response.status == 401 and await error_code(response) == "unauthorized"


async def test_me_after_login_names_the_account_its_grids_and_the_same_csrf_token(client):
    csrf = await log_in(client)
    response = await client.get(ME)
    assert response.status == 200
    body = await response.json()
    assert body["account"]["username"] == "zhang.wei" and body["csrf_token"] == csrf
    assert body["grids"] == [{"code": "cd-wuhou", "name": "成都武侯网格"}]


async def test_unknown_user_and_wrong_password_both_answer_401_invalid_credentials(client):
    for username, password in [("nobody", PASSWORD), ("zhang.wei", "wrong password!")]:
        response = await client.post(LOGIN, json={"username": username, "password": password})
        assert response.status == 401 and await error_code(response) == "invalid_credentials"
        assert COOKIE_NAME not in response.cookies


async def test_the_fifth_failure_in_a_row_answers_429_locked_with_retry_after(client):
    for _ in range(4):
        response = await client.post(LOGIN, json={"username": "zhang.wei", "password": "wrong password!"})
        assert response.status == 401
    response = await client.post(LOGIN, json={"username": "zhang.wei", "password": "wrong password!"})
    assert response.status == 429 and await error_code(response) == "locked"
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 30 * 60  # until fewer than 5 failures fall within the last 15 minutes
    assert (await response.json())["error"]["message"] == f"登录失败次数过多，请 {-(-seconds // 60)} 分钟后再试。"
    response = await client.post(LOGIN, json={"username": "zhang.wei", "password": PASSWORD})
    assert response.status == 429


def via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


@pytest.fixture
async def behind_proxy(aiohttp_client, settings, staff):
    """The login edge behind a trusted proxy (the test client's 127.0.0.1), at most 6 failures per address."""
    rate = dataclasses.replace(settings.rate, login_failures_per_address=6)
    configured = dataclasses.replace(settings, cookie_secure=False, trusted_proxies=("127.0.0.1",), rate=rate)
    return await aiohttp_client(make_app(configured))


async def test_one_address_trying_many_usernames_is_throttled_and_another_address_still_logs_in(behind_proxy):
    client = behind_proxy
    answers = []
    for username in ("nobody", "zhang.wei", "wang.min", "admin", "root", "nobody2", "zhang.wei", "ghost"):
        response = await client.post(
            LOGIN, json={"username": username, "password": "guess"}, headers=via("203.0.113.9")
        )
        answers.append((response.status, await error_code(response), response.headers.get("Retry-After") is not None))
    assert answers[:5] == [(401, "invalid_credentials", False)] * 5
    assert answers[5:] == [(429, "locked", True)] * 3  # the sixth failure, and every attempt after it
    response = await client.post(
        LOGIN, json={"username": "zhang.wei", "password": PASSWORD}, headers=via("203.0.113.9")
    )
    assert response.status == 429  # not even the right password, from there, for now
    response = await client.post(
        LOGIN, json={"username": "zhang.wei", "password": PASSWORD}, headers=via("198.51.100.7")
    )
    assert response.status == 200


async def test_a_known_and_an_unknown_username_get_the_same_answers_all_the_way_to_the_lock(behind_proxy):
    client = behind_proxy

    async def answers(username: str, address: str) -> list[tuple[int, str, str, int]]:
        seen = []
        for _ in range(6):
            response = await client.post(
                LOGIN, json={"username": username, "password": "wrong password!"}, headers=via(address)
            )
            error = (await response.json())["error"]
            retry_after = int(response.headers.get("Retry-After", "-1"))
            seen.append((response.status, error["code"], re.sub(r"\d+", "N", error["message"]), retry_after))
        return seen

    known, unknown = await answers("zhang.wei", "203.0.113.1"), await answers("no.such.user", "203.0.113.2")
    assert [answer[:3] for answer in known] == [answer[:3] for answer in unknown]
    assert [answer[1] for answer in known] == ["invalid_credentials"] * 4 + ["locked"] * 2
    # the waits differ only by the time between the two series
    assert all(abs(k[3] - u[3]) <= 2 for k, u in zip(known, unknown))


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "zhang.wei"}',
        "not json",
        "[]",
        '{"username": 1, "password": "x"}',
        '{"username": "", "password": ""}',
    ],
)
async def test_a_malformed_login_body_is_422(client, body):
    response = await client.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 422 and await error_code(response) == "invalid_body"


async def test_logout_with_the_csrf_token_ends_the_session_and_clears_the_cookie(client):
    csrf = await log_in(client)
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    response = await client.post(LOGOUT, headers={"X-CSRF-Token": csrf})
    assert response.status == 204
    assert response.cookies[COOKIE_NAME].value == ""
    assert (await client.get(ME)).status == 401
    # the old token itself is dead, not just forgotten by the client
    response = await client.get(ME, cookies={COOKIE_NAME: token})
    assert response.status == 401


async def test_logout_without_the_csrf_token_is_403_csrf_and_keeps_the_session(client):
    await log_in(client)
    response = await client.post(LOGOUT)
    assert response.status == 403 and await error_code(response) == "csrf"
    assert (await client.get(ME)).status == 200


async def test_an_unsafe_request_needs_the_sessions_own_csrf_token(client):
    csrf = await log_in(client)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, "/api/v1/test/staff")
        assert response.status == 403 and await error_code(response) == "csrf", method
        response = await client.request(method, "/api/v1/test/staff", headers={"X-CSRF-Token": csrf + "x"})
        assert response.status == 403, method
        response = await client.request(method, "/api/v1/test/staff", headers={"X-CSRF-Token": csrf})
        assert response.status == 200, method
    assert (await client.get("/api/v1/test/staff")).status == 200  # safe methods need no token


async def test_an_unsafe_request_from_another_origin_is_403_csrf_even_with_the_token(client):
    csrf = await log_in(client)
    host = client.make_url("/").host
    port = client.make_url("/").port
    for origin in ("https://evil.example", f"http://{host}:{port + 1}", "null"):
        response = await client.post("/api/v1/test/staff", headers={"X-CSRF-Token": csrf, "Origin": origin})
        assert response.status == 403 and await error_code(response) == "csrf", origin
    response = await client.post(
        "/api/v1/test/staff", headers={"X-CSRF-Token": csrf, "Origin": f"http://{host}:{port}"}
    )
    assert response.status == 200


async def test_a_login_posted_from_another_origin_is_refused(client):
    response = await client.post(
        LOGIN, json={"username": "zhang.wei", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403 and await error_code(response) == "csrf"


async def test_require_role_refuses_the_wrong_role_with_403_forbidden(client):
    csrf = await log_in(client)
    response = await client.post("/api/v1/test/managers", headers={"X-CSRF-Token": csrf})
    assert response.status == 403 and await error_code(response) == "forbidden"


async def test_require_role_lets_the_right_role_through(client):
    csrf = await log_in(client, "wang.min")
    response = await client.post("/api/v1/test/managers", headers={"X-CSRF-Token": csrf})
    assert response.status == 200 and (await response.json())["username"] == "wang.min"


async def test_require_role_without_a_session_is_401_before_any_csrf_check(client):
    response = await client.post("/api/v1/test/managers")
    assert response.status == 401 and await error_code(response) == "unauthorized"


async def test_the_principal_is_resolved_once_per_request(client):
    await log_in(client)
    assert (await (await client.get("/api/v1/test/staff")).json())["same"] is True


async def test_a_websocket_handshake_is_same_origin_only_with_this_gateways_origin(client):
    url = client.make_url("/")
    own = f"http://{url.host}:{url.port}"

    async def check(headers):
        return (await (await client.get("/api/v1/test/ws-origin", headers=headers)).json())["same_origin"]

    assert await check({"Origin": own})
    assert not await check({})
    assert not await check({"Origin": "https://evil.example"})
    assert not await check({"Origin": f"http://evil.example:{url.port}"})
    assert not await check({"Origin": own + "/path"})
