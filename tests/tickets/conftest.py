from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import aiohttp
import pytest

from gateway.app import create_app
from griddesk.db import session_scope
from grids.sla import SERVICE_TZ
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, make_staff
from tests.encoders import HashingEncoder
from tests.tickets.staff_api import STAFF, Login


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 20, 10, 0, tzinfo=SERVICE_TZ))  # a Friday morning


# --- staff logins to a test gateway (the tickets API and workspace tests; helpers in staff_api.py) ----


@pytest.fixture
def staff(settings) -> dict[str, int]:
    """The accounts of ``STAFF`` (all with ``PASSWORD``): username → account id."""
    ids = {}
    with session_scope() as session:
        for username, (role, grids, name) in STAFF.items():
            ids[username] = make_staff(session, username, role, grids, display_name=name).id
    return ids


@pytest.fixture
async def client(aiohttp_client, gateway_settings, staff):
    """The gateway on plain HTTP, so the login cookie is not marked Secure (the jar would drop it)."""
    settings = dataclasses.replace(gateway_settings, cookie_secure=False)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False))


@pytest.fixture
async def login(client, staff):
    """``await login(username)``: a logged-in :class:`Login` (several may be logged in at once)."""
    sessions: list[aiohttp.ClientSession] = []

    async def log_in(username: str) -> Login:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        response = await http.post(
            client.make_url("/api/v1/auth/login"), json={"username": username, "password": PASSWORD}
        )
        assert response.status == 200, await response.text()
        return Login(client, http, (await response.json())["csrf_token"], staff[username])

    yield log_in
    for http in sessions:
        await http.close()


@pytest.fixture
async def agent(login) -> Login:
    """张伟, an agent of 成都武侯网格 (where the default new ticket goes)."""
    return await login("zhang.wei")
