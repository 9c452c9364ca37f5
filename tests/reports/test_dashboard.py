"""The dashboard's server side: its pages (CSP, the vendored chart library), the exports of a view (CSV with a BOM,
XLSX, formula-looking names defused) and the agents' scorecard with the 40/30/30 weighting."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from griddesk.web.pages import KIT_STATIC
from reports.scorecard import scores
from reports.web import STATIC
from tests.reports.test_web import MARCH, login

pytestmark = pytest.mark.usefixtures("fast_hashing")


async def test_the_pages_are_served_with_the_strict_csp_and_the_chart_library_from_this_origin(app_client, people):
    for url in ("/console/reports", "/console/reports/monthly"):
        response = await app_client.get(url)
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        text = await response.text()
        assert '<script src="/static/reports/vendor/echarts/echarts.min.js"></script>' in text
        assert "http://" not in text and "https://" not in text  # nothing from elsewhere
    library = await app_client.get("/static/reports/vendor/echarts/echarts.min.js")
    assert library.status == 200 and len(await library.read()) > 500_000


CHINESE_TEXT = re.compile(r'"([^"\n]*[\u4e00-\u9fff][^"\n]*)"|>([^<>\n]*[\u4e00-\u9fff][^<>\n]*)<')
HALF_WIDTH = re.compile(r"[,;:!?()]")


def test_the_report_pages_write_their_chinese_with_full_width_punctuation():
    """What the pages show (their markup, scripts and the console kit's messages, e.g. an error toast)."""
    files = [*STATIC.glob("*.html"), *STATIC.glob("*.js"), KIT_STATIC / "common.js"]
    found = [
        f"{Path(file).name}: {text}"
        for file in files
        for match in CHINESE_TEXT.finditer(file.read_text(encoding="utf-8"))
        for text in [match.group(1) or match.group(2)]
        if HALF_WIDTH.search(text)
    ]
    assert not found, found


async def test_a_manager_exports_the_view_as_csv_with_a_bom_and_as_xlsx(app_client, people):
    await login(app_client, "wang.min")
    response = await app_client.get(
        "/api/v1/reports/export", params={"format": "csv", "grid": "cd-wuhou", "group_by": "channel", **MARCH}
    )
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert (
        'filename="grid-report-cd-wuhou-2026-03-01-2026-03-31-by-channel.csv"'
        in response.headers["Content-Disposition"]
    )
    data = await response.read()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["按渠道", "会话量", "机器人独立解决会话"] and "机器人独立解决率（%）" in rows[0]
    assert rows[1][:2] == ["合计", "5"] and rows[1][rows[0].index("机器人独立解决率（%）")] == "20.0"
    assert {row[0] for row in rows[2:]} >= {"企业微信", "接口"}
    xlsx = await app_client.get("/api/v1/reports/export", params={"format": "xlsx", "grid": "cd-wuhou", **MARCH})
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(await xlsx.read())).active
    assert [cell.value for cell in sheet[2]][:2] == ["合计", 5]


async def test_an_export_in_another_format_or_by_an_agent_is_refused(app_client, people):
    await login(app_client, "wang.min")
    bad = await app_client.get("/api/v1/reports/export", params={"format": "pdf", **MARCH})
    assert bad.status == 400 and "导出格式" in (await bad.json())["error"]["message"]
    await login(app_client, "zhang.wei")
    assert (await app_client.get("/api/v1/reports/export", params=MARCH)).status == 403
    assert (await app_client.get("/api/v1/reports/scorecard", params=MARCH)).status == 403


async def test_the_scorecard_weighs_quality_40_efficiency_30_satisfaction_30(app_client, people):
    await login(app_client, "wang.min")
    response = await app_client.get("/api/v1/reports/scorecard", params={"grid": "cd-wuhou", **MARCH})
    assert response.status == 200
    card = await response.json()
    assert card["weights"] == {"quality": 0.4, "efficiency": 0.3, "satisfaction": 0.3}
    by_name = {agent["name"]: agent for agent in card["agents"]}
    # agent.a: h1 replied in 50 s (target p90 60 s: kept → 100), handled 620 s against the team's 310 s (50),
    # rated 5 (satisfied: 100) → 0.4·100 + 0.3·50 + 0.3·100 = 85; agent.b: 100 s → 60, 310 s → 100, rated 3 → 0
    assert (by_name["agent.a"]["quality"], by_name["agent.a"]["efficiency"], by_name["agent.a"]["satisfaction"]) == (
        100.0,
        50.0,
        100.0,
    )
    assert by_name["agent.a"]["total"] == 85.0
    assert by_name["agent.b"]["total"] == round(0.4 * 60 + 0.3 * 100 + 0.3 * 0, 1)
    assert [agent["name"] for agent in card["agents"]] == ["agent.a", "agent.b"]


def test_a_sub_score_without_data_leaves_the_total_out():
    assert scores({"first_response_p90_seconds": 30, "handle_time_p50_seconds": 100}, 60, 100)["total"] is None
