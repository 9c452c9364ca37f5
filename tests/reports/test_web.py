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


async def test_a_group_without_rows_of_a_family_that_has_the_dimension_counts_0_and_without_it_null(app_client, people):
    await login(app_client, "admin.chen")
    body = await (await get(app_client, group_by="channel", grid="cd-wuhou", **MARCH)).json()
    api = next(group["kpis"] for group in body["groups"] if group["key"] == "api")
    assert api["tickets_opened"] == 4
    assert api["conversations"] == 0 and api["handoffs"] == 0  # tickets through the API: no conversation
    assert api["bot_resolved_rate"] is None and api["first_response_p90_seconds"] is None  # rates: no data
    body = await (await get(app_client, group_by="category", grid="cd-wuhou", **MARCH)).json()
    assert all(group["kpis"]["conversations"] is None for group in body["groups"])  # no category to group by


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
    scorecard = body["paths"]["/api/v1/reports/scorecard"]["get"]
    assert {p["name"] for p in scorecard["parameters"]} == {"grid", "from", "to"}
    weights = body["components"]["schemas"]["Scorecard"]["properties"]["weights"]["properties"]
    assert {name: schema["const"] for name, schema in weights.items()} == {
        "quality": 0.4,
        "efficiency": 0.3,
        "satisfaction": 0.3,
    }
    export = body["paths"]["/api/v1/reports/export"]["get"]
    parameters = {p["name"]: p["schema"] for p in export["parameters"]}
    assert parameters.keys() == {"format", "grid", "from", "to", "group_by"}
    assert parameters["format"]["enum"] == ["csv", "xlsx"] and parameters["grid"]["maxLength"] == 64
    assert parameters["from"]["maxLength"] == 10 and parameters["group_by"]["enum"][-1] == "channel"
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv; charset=utf-8",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


async def test_each_kpi_carries_its_grids_target_and_whether_it_is_met(app_client, people):
    await login(app_client, "wang.min")
    kpis = (await (await get(app_client, grid="cd-wuhou", **MARCH)).json())["kpis"]
    # the documents' defaults: 满意度 ≥ 90 % (0.5: not met), first response within the grid's 60 s (p90 100 s: not
    # met), a ticket's response within 30 minutes (p90 3000 s: not met)
    assert (kpis["csat_satisfied_share"]["target"], kpis["csat_satisfied_share"]["met"]) == (0.9, False)
    assert (kpis["first_response_p90_seconds"]["target"], kpis["first_response_p90_seconds"]["op"]) == (60.0, "<=")
    assert kpis["first_response_p90_seconds"]["met"] is False
    assert (kpis["ticket_response_p90_seconds"]["target"], kpis["ticket_response_p90_seconds"]["met"]) == (
        1800.0,
        False,
    )
    assert kpis["conversations"]["target"] is None and kpis["conversations"]["met"] is None


async def test_an_admin_changes_a_target_with_csrf_and_the_change_is_recorded(app_client, people):
    csrf = await login(app_client, "admin.chen")
    path = "/api/v1/reports/targets/cd-wuhou"
    change = {"targets": {"csat_satisfied_share": 0.5, "first_response_p90_seconds": 120, "overdue_rate": None}}
    assert (await app_client.put(path, json=change)).status == 403  # no CSRF header
    response = await app_client.put(path, json=change, headers={"X-CSRF-Token": csrf})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["targets"]["csat_satisfied_share"]["value"] == 0.5
    assert {(e["kpi"], e["old_value"], e["new_value"]) for e in body["history"]} == {
        ("csat_satisfied_share", 0.9, 0.5),
        ("first_response_p90_seconds", 60.0, 120.0),
    }  # overdue_rate had no target: nothing changed, nothing recorded
    assert all(e["actor"].startswith("account:") for e in body["history"])
    kpis = (await (await get(app_client, grid="cd-wuhou", **MARCH)).json())["kpis"]
    assert kpis["csat_satisfied_share"]["met"] is True and kpis["first_response_p90_seconds"]["met"] is True
    # the other grids keep theirs
    other = await (await app_client.get("/api/v1/reports/targets", params={"grid": "sh-pudong"})).json()
    assert other["targets"]["csat_satisfied_share"]["value"] == 0.9 and other["history"] == []


async def test_with_several_grids_the_strictest_target_applies(app_client, people):
    await login(app_client, "admin.chen")
    kpis = (await (await get(app_client, **MARCH)).json())["kpis"]
    assert kpis["first_response_p90_seconds"]["target"] == 30.0  # 重要客户网格's 30 s beats the others' 60 s


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"csat_satisfied_share": 90}, "「客户满意度（4–5分占比）」是比率，目标值必须在 0 到 1 之间（0.9 表示 90%）。"),
        ({"conversations": 10}, "指标「conversations」不存在或不能设置目标。"),
        ({"handle_time_avg_seconds": "快"}, "「平均处理时长」的目标值必须是数字或 null。"),
        ({}, "请至少修改一个指标的目标值。"),
    ],
)
async def test_bad_targets_are_422_with_a_chinese_message(app_client, people, targets, message):
    csrf = await login(app_client, "admin.chen")
    response = await app_client.put(
        "/api/v1/reports/targets/cd-wuhou", json={"targets": targets}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 422
    assert (await response.json())["error"]["message"] == message


async def test_only_admins_change_targets_and_managers_read_their_grids(app_client, people):
    csrf = await login(app_client, "wang.min")
    response = await app_client.put(
        "/api/v1/reports/targets/cd-wuhou", json={"targets": {"csat_avg": 4.5}}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 403
    assert (await app_client.get("/api/v1/reports/targets", params={"grid": "cd-wuhou"})).status == 200
    assert (await app_client.get("/api/v1/reports/targets", params={"grid": "sh-pudong"})).status == 403
    csrf = await login(app_client, "admin.chen")
    missing = await app_client.put(
        "/api/v1/reports/targets/nowhere", json={"targets": {"csat_avg": 4.5}}, headers={"X-CSRF-Token": csrf}
    )
    assert missing.status == 404
