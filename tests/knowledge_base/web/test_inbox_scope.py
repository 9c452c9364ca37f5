"""The unanswered inbox over HTTP is scoped like every other read: a grid manager sees their grids'
items and questions that belong to no grid, never another grid's items or agents' answers; admins
see everything."""

from __future__ import annotations

import pytest

from accounts.models import Role
from griddesk.db import session_scope
from knowledge_base.models import Miss
from tests.accounts.conftest import fast_hashing, make_staff  # noqa: F401 - fixture
from tests.knowledge_base.web.test_admin_api import Staff, app_client, ok  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def people(settings):
    with session_scope() as session:
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")
        make_staff(session, "wang.min", Role.MANAGER, ("cd-wuhou",), display_name="王敏")
        make_staff(session, "liu.yang", Role.MANAGER, ("sh-pudong",), display_name="刘洋")


def item(text: str, grid: str | None, answer: str | None = None) -> Miss:
    kind, decision = ("agent_answer", "agent") if answer else ("miss", "fallback")
    return Miss(text=text, normalized=text, decision=decision, kind=kind, proposed_answer=answer, grid=grid)


async def texts_seen_by(client, username: str) -> set[str]:
    await Staff.login(client, username)
    body = await ok(await client.get("/api/v1/kb/inbox"))
    return {i["text"] for cluster in body["clusters"] for i in cluster["items"]}


async def test_a_grid_manager_sees_only_their_grids_inbox_and_gridless_questions(app_client, people):  # noqa: F811
    with session_scope() as session:
        session.add_all(
            [
                item("宽带断网了怎么办", "cd-wuhou"),
                item("网速很慢", "cd-wuhou", answer="请重启光猫。"),
                item("发票抬头写错了", "sh-pudong"),
                item("停机保号怎么办", "sh-pudong", answer="浦东营业厅可办理，地址在某某路。"),
                item("营业厅几点开门", None),
                item("积分怎么兑换", None, answer="在 App 里兑换。"),
            ]
        )
    assert await texts_seen_by(app_client, "wang.min") == {"宽带断网了怎么办", "网速很慢", "营业厅几点开门"}
    assert await texts_seen_by(app_client, "liu.yang") == {"发票抬头写错了", "停机保号怎么办", "营业厅几点开门"}
    assert len(await texts_seen_by(app_client, "admin.chen")) == 6
