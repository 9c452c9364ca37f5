"""The reports API through the gateway app: who may read which grid, the period and its bounds, the shape."""

from __future__ import annotations

import dataclasses

import pytest

from accounts.models import Role
from gateway.app import create_app
from griddesk.db import session_scope
from knowledge_base.search import KnowledgeBase
from reports.catalogue import KPIS
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.reports.fixture import build

pytestmark = pytest.mark.usefixtures("fast_hashing")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
async def app_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False))


@pytest.fixture
def people(settings):
    with session_scope() as session:
        build(session)
        make_staff(session, "wang.min", Role.MANAGER, ("cd-wuhou",), display_name="王敏")
        make_staff(session, "zhang.wei", Role.AGENT, ("cd-wuhou",))
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")


async def login(client, username: str) -> str:
    client.session.cookie_jar.clear()
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def get(client, **params):
    return await client.get("/api/v1/reports/kpis", params=params)


async def test_a_manager_reads_the_kpis_of_their_grid_with_every_kpi_name(app_client, people):
    await login(app_client, "wang.min")
    response = await get(app_client, grid="cd-wuhou", **MARCH)
    assert response.status == 200
    body = await response.json()
    assert body["grid"] == "cd-wuhou" and body["grids"] == ["cd-wuhou"] and body["time_zone"] == "Asia/Shanghai"
    assert list(body["kpis"]) == [kpi.name for kpi in KPIS]
    for name in ("conversations", "handoffs", "csat_avg", "csat_count", "tickets_opened", "tickets_overdue"):
        assert name in body["kpis"]
    assert body["kpis"]["conversations"]["value"] == 5
    assert body["kpis"]["first_response_p50_seconds"]["value"] == 50.0
    assert body["kpis"]["bot_resolved_rate"] == {
        "value": 0.2,
        "target": None,
        "op": ">=",
        "met": None,
        "label": "机器人独立解决率",
        "unit": "rate",
    } | {key: value for key, value in body["kpis"]["bot_resolved_rate"].items() if key in ("target", "met")}


async def test_without_a_grid_a_manager_sees_their_grids_and_an_admin_every_grid(app_client, people):
    await login(app_client, "wang.min")
    mine = await (await get(app_client, **MARCH)).json()
    assert mine["grids"] == ["cd-wuhou"] and mine["kpis"]["conversations"]["value"] == 5
    await login(app_client, "admin.chen")
    every = await (await get(app_client, **MARCH)).json()
    assert every["grids"] is None and every["kpis"]["conversations"]["value"] == 7


async def test_groups_carry_labels(app_client, people):
    await login(app_client, "admin.chen")
    body = await (await get(app_client, group_by="grid", **MARCH)).json()
    groups = {group["key"]: group for group in body["groups"]}
    assert groups["cd-wuhou"]["label"] == "成都武侯网格" and groups["cd-wuhou"]["kpis"]["conversations"] == 5
    body = await (await get(app_client, group_by="agent", grid="cd-wuhou", **MARCH)).json()
    assert [group["label"] for group in body["groups"]][-1] == "未指定"  # the handoff no agent accepted


async def test_agents_are_refused_and_managers_kept_to_their_grids(app_client, people):
    await login(app_client, "zhang.wei")
    assert (await get(app_client, **MARCH)).status == 403
    await login(app_client, "wang.min")
    response = await get(app_client, grid="sh-pudong", **MARCH)
    assert response.status == 403
    assert (await response.json())["error"]["message"] == "这个网格不属于您，不能查看它的报表。"


async def test_nobody_logged_in_is_refused(app_client, people):
    assert (await get(app_client, **MARCH)).status == 401


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-3-1"}, "from", "开始日期（from）：必须是 YYYY-MM-DD 格式的有效日期，例如 2026-03-01。"),
        ({"from": "2026-02-30"}, "from", "开始日期（from）：必须是 YYYY-MM-DD 格式的有效日期，例如 2026-03-01。"),
        (
            {"from": "2026-03-01", "to": "三月"},
            "to",
            "结束日期（to）：必须是 YYYY-MM-DD 格式的有效日期，例如 2026-03-01。",
        ),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "结束日期（to）：不能早于开始日期。"),
        ({"from": "2025-01-01", "to": "2026-02-05"}, "to", "结束日期（to）：查询范围最长 400 天。"),
        ({"group_by": "year"}, "group_by", None),
        ({"grid": "x" * 65}, "grid", None),
    ],
)
async def test_bad_parameters_are_400_with_a_chinese_message(app_client, people, params, field, message):
    await login(app_client, "admin.chen")
    response = await get(app_client, **params)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_parameter" and error["field"] == field
    if message:
        assert error["message"] == message


async def test_400_days_are_allowed_and_an_unknown_grid_is_404(app_client, people):
    await login(app_client, "admin.chen")
    assert (await get(app_client, **{"from": "2025-01-01", "to": "2026-02-04"})).status == 200
    response = await get(app_client, grid="nowhere", **MARCH)
    assert response.status == 404 and (await response.json())["error"]["message"] == "找不到网格「nowhere」。"


async def test_the_openapi_document_describes_the_reports_api(app_client):
    body = await (await app_client.get("/api/v1/openapi.json")).json()
    operation = body["paths"]["/api/v1/reports/kpis"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"grid", "from", "to", "group_by"}
    assert set(body["components"]["schemas"]["KpiReport"]["properties"]["kpis"]["properties"]) == {k.name for k in KPIS}
