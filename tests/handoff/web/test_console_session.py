"""The console websocket lives only as long as the login it was opened with: logout, a disabled
account, a new password or an expired login closes it (code 4401) — at once when this process ended
the login, within the re-check interval when another process did (``python -m accounts``) or time did."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

import pytest
from aiohttp import WSMsgType
from sqlalchemy import update

from accounts.management import disable_account, get_account, set_password
from accounts.models import AccountSession
from griddesk.db import session_scope, utcnow
from handoff.web import console_ws
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.handoff.web.test_console import Console, app_client, staff  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("fast_hashing")

AT_ONCE = 2.0  # seconds: "at once", with room for a busy machine


async def open_console(client):
    origin = {"Origin": str(client.make_url("/")).rstrip("/")}
    ws = await client.ws_connect("/api/v1/console/ws", headers=origin)
    assert json.loads((await asyncio.wait_for(ws.receive(), 5)).data)["type"] == "hello"
    return ws


async def close_code_within(ws, seconds: float) -> int | None:
    """The close code the server sends within ``seconds`` (TimeoutError when it keeps the socket open)."""
    async with asyncio.timeout(seconds):
        while True:
            message = await ws.receive()
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return ws.close_code


async def still_open(ws) -> bool:
    await ws.send_json({"type": "ping"})
    async with asyncio.timeout(5):
        while True:
            message = await ws.receive()
            if message.type is not WSMsgType.TEXT:
                return False
            if json.loads(message.data)["type"] == "pong":
                return True


async def test_logout_closes_that_logins_websocket_at_once_and_leaves_the_other_login_open(app_client, staff):  # noqa: F811
    await Console.login(app_client, "zhang.wei")
    first = await open_console(app_client)
    second_login = await Console.login(app_client, "zhang.wei")  # a second browser of the same agent
    second = await open_console(app_client)
    assert (await second_login.post("/api/v1/auth/logout")).status == 204
    assert await close_code_within(second, AT_ONCE) == console_ws.SESSION_ENDED
    assert await still_open(first)
    await first.close()


@pytest.mark.parametrize("change", ["disable", "new_password"])
async def test_disabling_the_account_or_a_new_password_closes_its_websockets_at_once(app_client, staff, change):  # noqa: F811
    await Console.login(app_client, "zhang.wei")
    ws = await open_console(app_client)
    await Console.login(app_client, "li.na")
    colleague = await open_console(app_client)
    with session_scope() as session:
        account = get_account(session, "zhang.wei")
        if change == "disable":
            disable_account(session, account)
        else:
            set_password(session, account, "a brand new passphrase")
    assert await close_code_within(ws, AT_ONCE) == console_ws.SESSION_ENDED
    assert await still_open(colleague)
    await colleague.close()


async def test_an_expired_login_closes_the_websocket_at_the_next_check(app_client, staff, monkeypatch):  # noqa: F811
    monkeypatch.setattr(console_ws, "KEEP_ALIVE_SECONDS", 0.3)
    await Console.login(app_client, "zhang.wei")
    ws = await open_console(app_client)
    with session_scope() as session:  # no event: time simply passed
        session.execute(update(AccountSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await close_code_within(ws, AT_ONCE) == console_ws.SESSION_ENDED


async def test_the_accounts_command_in_another_process_closes_the_websocket_at_the_next_check(
    app_client,  # noqa: F811
    staff,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(console_ws, "KEEP_ALIVE_SECONDS", 0.3)
    await Console.login(app_client, "zhang.wei")
    ws = await open_console(app_client)
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accounts", "disable", "zhang.wei", stdout=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(command.wait(), 60) == 0
    assert await close_code_within(ws, AT_ONCE) == console_ws.SESSION_ENDED


async def test_the_websocket_does_not_extend_the_login(app_client, staff, monkeypatch):  # noqa: F811
    monkeypatch.setattr(console_ws, "KEEP_ALIVE_SECONDS", 0.1)
    await Console.login(app_client, "zhang.wei")
    ws = await open_console(app_client)
    with session_scope() as session:
        session.execute(update(AccountSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        before = session.query(AccountSession).one().expires_at
    await asyncio.sleep(0.5)
    assert await still_open(ws)
    with session_scope() as session:
        assert session.query(AccountSession).one().expires_at == before
    await ws.close()
