"""Helpers of the tickets API and workspace tests: the staff of ``STAFF`` (fixtures ``staff``, ``client``,
``login``, ``agent`` in conftest.py), :class:`Login` (one person's console login), new tickets, error codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from accounts.models import Role

TICKETS = "/api/v1/tickets"
AUTH = {"Authorization": "Bearer test-token"}
TOKEN_ACTOR = "integration:integration"  # GRIDDESK_API_TOKEN_NAME's default
SEED_GRIDS = Path(__file__).resolve().parents[2] / "grids" / "seed" / "grids.json"
# username: (role, grids, display name); 王敏 and 李强 are the managers the seed grids name
STAFF = {
    "zhang.wei": (Role.AGENT, ("cd-wuhou",), "张伟"),
    "li.na": (Role.AGENT, ("cd-wuhou",), "李娜"),
    "huang.lei": (Role.AGENT, ("sh-pudong",), "黄磊"),
    "wang.min": (Role.MANAGER, ("cd-wuhou",), "王敏"),
    "li.qiang": (Role.MANAGER, ("cd-jinjiang",), "李强"),
    "deputy.wu": (Role.MANAGER, ("cd-wuhou",), "吴副经理"),  # a manager of the grid, not the one it names
    "admin": (Role.ADMIN, (), "系统管理员"),
}


def manager_of(grid_code: str) -> str:
    """The grid manager named in the seed file."""
    return next(g["manager"] for g in json.loads(SEED_GRIDS.read_text("utf-8")) if g["code"] == grid_code)


class Login:
    """One person's console login to the test server: its own cookie jar and CSRF token."""

    def __init__(self, client, http: aiohttp.ClientSession, csrf: str, account_id: int) -> None:
        self.client, self.http, self.csrf, self.account_id = client, http, csrf, account_id

    @property
    def actor(self) -> str:
        return f"account:{self.account_id}"

    async def post(self, path: str, body: Any = None, *, csrf: bool = True, **kwargs: Any):
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        if body is not None:
            kwargs["json"] = body
        return await self.http.post(self.client.make_url(path), headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any):
        return await self.http.get(self.client.make_url(path), **kwargs)


def new_ticket(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "fault",
        "description": "宽带一直断网, 重启光猫也没用",
        "contact_phone": "138-1234-5678",
        "contact_name": "张三",
        "region": "成都市武侯区",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def open_ticket(client, **overrides: Any) -> dict[str, Any]:
    """A ticket opened with the integration token."""
    response = await client.post(TICKETS, json=new_ticket(**overrides), headers=AUTH)
    assert response.status == 201, await response.text()
    return await response.json()


async def error_code(response) -> str:
    return (await response.json())["error"]["code"]
