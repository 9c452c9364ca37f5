"""The staffing forecast API (``GET /api/v1/reports/staffing``): who may read which grid, its parameters, its
shape and its OpenAPI description. The figures themselves: tests/reports/test_staffing.py."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.reports.test_web import login

pytestmark = pytest.mark.usefixtures("fast_hashing")
PATH = "/api/v1/reports/staffing"


async def test_a_manager_reads_the_forecast_of_their_grid_with_its_roster(app_client, people):
    await login(app_client, "wang.min")
    response = await app_client.get(PATH, params={"grid": "cd-wuhou"})
    assert response.status == 200
    body = await response.json()
    assert (body["grid"], body["name"], body["weeks"]) == ("cd-wuhou", "成都武侯网格", 4)
    assert body["time_zone"] == "Asia/Shanghai"
    assert len(body["hours"]) == 168
    assert body["handoffs"] == 0 and body["handle_time_source"] == "default"  # the fixture's March is long past
    status = {agent["name"]: agent["status"] for agent in body["roster"]}
    assert status == {"agent.a": "offline", "agent.b": "offline", "王敏": "online", "张伟": "offline"}
    assert body["online_now"] == 1  # the manager serves too: logged in, online


async def test_agents_are_refused_managers_kept_to_their_grids_and_admins_read_any(app_client, people):
    await login(app_client, "zhang.wei")
    assert (await app_client.get(PATH, params={"grid": "cd-wuhou"})).status == 403
    await login(app_client, "wang.min")
    other = await app_client.get(PATH, params={"grid": "sh-pudong"})
    assert other.status == 403
    assert (await other.json())["error"]["message"] == "这个网格不属于您，不能查看它的报表。"
    unknown = await app_client.get(PATH, params={"grid": "不存在的网格"})  # the same answer: nothing revealed
    assert unknown.status == 403
    assert (await unknown.json())["error"]["message"] == "这个网格不属于您，不能查看它的报表。"
    await login(app_client, "admin.chen")
    assert (await app_client.get(PATH, params={"grid": "sh-pudong", "weeks": "12"})).status == 200
    missing = await app_client.get(PATH, params={"grid": "nowhere"})
    assert missing.status == 404 and (await missing.json())["error"]["message"] == "找不到网格「nowhere」。"


async def test_nobody_logged_in_is_refused(app_client, people):
    assert (await app_client.get(PATH, params={"grid": "cd-wuhou"})).status == 401


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "grid", "网格（grid）：请指定网格。"),
        ({"grid": "x" * 65}, "grid", None),
        ({"grid": "cd-wuhou", "weeks": "0"}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "27"}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "四"}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "1.5"}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "-4"}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "9" * 40}, "weeks", "参考周数（weeks）：必须是 1 到 26 之间的整数。"),
        ({"grid": "cd-wuhou", "weeks": "4'; drop table grid; --"}, "weeks", None),
        ({"grid": "cd-\x00wuhou"}, "grid", "网格（grid）：最多 64 个字符，不能含控制字符。"),
    ],
)
async def test_bad_parameters_are_400_with_a_chinese_message(app_client, people, params, field, message):
    await login(app_client, "admin.chen")
    response = await app_client.get(PATH, params=params)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_parameter" and error["field"] == field
    if message:
        assert error["message"] == message


async def test_the_openapi_document_describes_the_forecast(app_client):
    body = await (await app_client.get("/api/v1/openapi.json")).json()
    operation = body["paths"][PATH]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["grid"]["required"] is True
    assert (parameters["weeks"]["schema"]["minimum"], parameters["weeks"]["schema"]["maximum"]) == (1, 26)
    schema = body["components"]["schemas"]["StaffingForecast"]
    assert schema["properties"]["hours"]["minItems"] == 168
    hour = schema["properties"]["hours"]["items"]["properties"]
    assert {"handoffs", "agents_needed", "agents_available", "short", "slots_needed"} <= set(hour)
