"""The transfer dialog's targets and answers (issue 14, item 10): the chat's grid's online colleagues
and the grids; errors in Chinese without field names."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from accounts.models import Account
from griddesk.db import session_scope
from grids.models import Agent, AgentStatus
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.handoff.web.test_console import Console, app_client, queue_handoff, staff  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_hashing")


def set_status(username: str, status: AgentStatus) -> int:
    with session_scope() as session:
        account_id = session.scalar(select(Account.id).where(Account.username == username))
        session.execute(update(Agent).where(Agent.account_id == account_id).values(status=status))
        return account_id


async def test_the_targets_are_the_online_colleagues_of_the_chats_grid_and_every_grid(app_client, staff):  # noqa: F811
    handoff_id = queue_handoff()
    console = await Console.login(app_client, "zhang.wei")
    assert (await console.post(f"/api/v1/console/handoffs/{handoff_id}/accept")).status == 200
    targets = await (await app_client.get(f"/api/v1/console/transfer-targets?handoff={handoff_id}")).json()
    # 李娜 and the grid's manager 王敏 are online in 成都武侯; 周婷 works in 上海浦东; 张伟 is the one asking
    assert sorted(a["name"] for a in targets["agents"]) == ["李娜", "王敏"]
    assert targets["current_grid"] == "cd-wuhou" and {"cd-wuhou", "sh-pudong"} <= {g["code"] for g in targets["grids"]}
    set_status("li.na", AgentStatus.AWAY)
    targets = await (await app_client.get(f"/api/v1/console/transfer-targets?handoff={handoff_id}")).json()
    assert [a["name"] for a in targets["agents"]] == ["王敏"]  # away: no new chats, not even a transfer
    other = await app_client.get(f"/api/v1/console/transfer-targets?handoff={queue_handoff('c2', 'sh-pudong')}")
    assert other.status == 403


async def test_transfer_errors_are_chinese_sentences_without_field_names(app_client, staff):  # noqa: F811
    handoff_id = queue_handoff()
    console = await Console.login(app_client, "zhang.wei")
    assert (await console.post(f"/api/v1/console/handoffs/{handoff_id}/accept")).status == 200
    away = set_status("li.na", AgentStatus.AWAY)
    answers = [
        await console.post(f"/api/v1/console/handoffs/{handoff_id}/transfer", body)
        for body in ({"note": "x"}, {"grid": "sh-pudong", "agent_id": away}, {"agent_id": away})
    ]
    messages = [(await answer.json())["error"]["message"] for answer in answers]
    assert [answer.status for answer in answers] == [422, 422, 422]
    assert messages[0] == messages[1] == "请选择一个转接目标：网格或同事，只能选一个。"
    assert messages[2] == "这位同事当前不在线（忙碌或离线），请选择在线的同事，或转到网格排队。"
    assert not any(re.search(r"[A-Za-z_]{3,}", message) for message in messages)
