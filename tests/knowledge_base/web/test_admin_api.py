"""The knowledge-base admin API through the gateway app (real database, the tiny test encoder):
roles and CSRF on every route, the edit → publish → hit-test loop, conflicts, history, import,
export and the unanswered inbox."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest
from aiohttp import FormData
from openpyxl import load_workbook
from sqlalchemy import func, select

from accounts.models import Role
from gateway.app import create_app
from griddesk.db import session_scope
from knowledge_base.models import Faq, FaqStatus, Miss
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs, make_faq

pytestmark = pytest.mark.usefixtures("fast_hashing")

DRAFT = {
    "question": "宽带怎么办理移机",
    "similar_questions": ["搬家了宽带怎么迁", "宽带移机"],
    "answer": "请携带身份证到营业厅办理移机, 约 3 个工作日完成。",
    "category": "宽带",
    "grid": None,
}


@pytest.fixture
async def app_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(
        create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    )


@pytest.fixture
def staff(settings):
    with session_scope() as session:
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")
        make_staff(session, "wang.min", Role.MANAGER, ("cd-wuhou",), display_name="王敏")
        make_staff(session, "zhang.wei", Role.AGENT, ("cd-wuhou",), display_name="张伟")


class Staff:
    """A logged-in console session on the test client."""

    def __init__(self, client, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    @classmethod
    async def login(cls, client, username: str) -> Staff:
        client.session.cookie_jar.clear()
        response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status == 200, await response.text()
        return cls(client, (await response.json())["csrf_token"])

    async def get(self, path: str, **params):
        return await self.client.get(path, params=params)

    async def post(self, path: str, body: dict | None = None):
        return await self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    async def put(self, path: str, body: dict):
        return await self.client.put(path, json=body, headers={"X-CSRF-Token": self.csrf})

    async def upload(self, path: str, data: bytes, filename: str):
        form = FormData()
        form.add_field("file", io.BytesIO(data), filename=filename, content_type="application/octet-stream")
        return await self.client.post(path, data=form, headers={"X-CSRF-Token": self.csrf})


async def ok(response, status: int = 200) -> dict:
    assert response.status == status, await response.text()
    return await response.json()


async def error_code(response, status: int) -> str:
    assert response.status == status, await response.text()
    return (await response.json())["error"]["code"]


def admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/v1/kb/") and path != "/api/v1/kb/search" and route.method != "HEAD":
            routes.append((route.method, path.replace("{faq_id}", "1")))
    return routes


def faq_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Faq))


def global_faq(question: str = "怎么开发票", answer: str = "请在公众号申请。") -> int:
    with session_scope() as session:
        return make_faq(session, question, answer=answer).id


# --- access ---------------------------------------------------------------------------------------


async def test_every_admin_route_refuses_strangers_agents_and_requests_without_csrf(app_client, staff):
    routes = admin_routes(app_client.app)
    assert len(routes) >= 20
    for method, path in routes:
        assert (await app_client.request(method, path)).status == 401, (method, path)
    agent = await Staff.login(app_client, "zhang.wei")
    for method, path in routes:
        response = await app_client.request(method, path, headers={"X-CSRF-Token": agent.csrf})
        assert await error_code(response, 403) == "forbidden", (method, path)
    await Staff.login(app_client, "admin.chen")
    for method, path in routes:
        if method in {"POST", "PUT"}:
            assert await error_code(await app_client.request(method, path, json={}), 403) == "csrf", (method, path)


async def test_a_manager_sees_global_and_own_grid_faqs_but_publishes_only_their_grids(app_client, staff):
    global_id = global_faq()
    with session_scope() as session:
        other_id = make_faq(session, "浦东营业厅在哪", answer="浦东大道 1 号。", grid="sh-pudong").id
    admin = await Staff.login(app_client, "admin.chen")
    for faq_id in (global_id, other_id):
        detail = await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}"))
        body = {**DRAFT, "grid": detail["grid"], "expected_version": detail["version"]}
        await ok(await admin.put(f"/api/v1/kb/faqs/{faq_id}/draft", body))

    manager = await Staff.login(app_client, "wang.min")
    listed = await ok(await manager.get("/api/v1/kb/faqs"))
    assert {item["id"] for item in listed["items"]} == {global_id}
    assert await error_code(await manager.get(f"/api/v1/kb/faqs/{other_id}"), 403) == "forbidden"
    assert await error_code(await manager.post(f"/api/v1/kb/faqs/{global_id}/publish"), 403) == "forbidden"
    assert await error_code(await manager.post(f"/api/v1/kb/faqs/{other_id}/publish"), 403) == "forbidden"
    assert await error_code(await manager.post("/api/v1/kb/faqs", {**DRAFT, "grid": None}), 403) == "forbidden"
    assert await error_code(await manager.post("/api/v1/kb/faqs", {**DRAFT, "grid": "sh-pudong"}), 403) == "forbidden"
    with session_scope() as session:
        assert session.get(Faq, global_id).answer == "请在公众号申请。"

    own = await ok(await manager.post("/api/v1/kb/faqs", {**DRAFT, "grid": "cd-wuhou"}), 201)
    published = await ok(await manager.post(f"/api/v1/kb/faqs/{own['id']}/publish"))
    assert published["status"] == "published" and published["live"]["answer"] == DRAFT["answer"]


async def test_a_grid_draft_from_an_admin_is_approved_or_rejected_by_the_grid_manager(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    created = await ok(await admin.post("/api/v1/kb/faqs", {**DRAFT, "grid": "cd-wuhou"}), 201)
    faq_id = created["id"]
    assert (await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/submit")))["review"] == "pending"

    manager = await Staff.login(app_client, "wang.min")
    pending = await ok(await manager.get("/api/v1/kb/faqs", review="pending"))
    assert [item["id"] for item in pending["items"]] == [faq_id]
    assert await error_code(await manager.post(f"/api/v1/kb/faqs/{faq_id}/reject", {}), 422) == "invalid_field"
    rejected = await ok(await manager.post(f"/api/v1/kb/faqs/{faq_id}/reject", {"note": "营业厅地址写错了"}))
    assert rejected["review"] == "rejected" and rejected["review_note"] == "营业厅地址写错了"

    admin = await Staff.login(app_client, "admin.chen")
    fixed = {
        **DRAFT,
        "grid": "cd-wuhou",
        "answer": "请到武侯区营业厅办理移机。",
        "expected_version": rejected["version"],
    }
    await ok(await admin.put(f"/api/v1/kb/faqs/{faq_id}/draft", fixed))
    await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/submit"))
    manager = await Staff.login(app_client, "wang.min")
    approved = await ok(await manager.post(f"/api/v1/kb/faqs/{faq_id}/approve"))
    assert approved["status"] == "published" and approved["live"]["answer"] == "请到武侯区营业厅办理移机。"


# --- editing --------------------------------------------------------------------------------------


async def test_a_created_and_published_faq_is_found_by_the_hit_test_at_once(app_client, staff):
    with session_scope() as session:
        make_demo_faqs(session)
    admin = await Staff.login(app_client, "admin.chen")
    before = await ok(await admin.get("/api/v1/kb/hit-test", q="宽带怎么办理移机"))
    assert all(hit["question"] != DRAFT["question"] for hit in before["hits"])

    created = await ok(await admin.post("/api/v1/kb/faqs", {**DRAFT, "answer": "初稿"}), 201)
    assert created["status"] == "draft" and created["live"] is None
    saved = await ok(
        await admin.put(f"/api/v1/kb/faqs/{created['id']}/draft", {**DRAFT, "expected_version": created["version"]})
    )
    assert saved["draft"]["answer"] == DRAFT["answer"]
    hidden = await ok(await admin.get("/api/v1/kb/hit-test", q="宽带怎么办理移机"))
    assert all(hit["faq_id"] != created["id"] for hit in hidden["hits"])
    await ok(await admin.post(f"/api/v1/kb/faqs/{created['id']}/publish"))

    found = await ok(await admin.get("/api/v1/kb/hit-test", q="宽带怎么办理移机"))
    top = found["hits"][0]
    assert (top["faq_id"], top["band"], found["decision"]) == (created["id"], "answer", "answer")
    assert set(found["thresholds"]) == {"answer", "suggest", "margin"}
    assert {"score", "dense", "lexical"} <= top.keys()
    assert all(hit["band"] in {"suggest", "fallback"} for hit in found["hits"][1:])


async def test_the_second_of_two_saves_from_the_same_version_gets_a_conflict(app_client, staff):
    faq_id = global_faq()
    admin = await Staff.login(app_client, "admin.chen")
    version = (await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}")))["version"]
    first = {**DRAFT, "question": "怎么开发票", "answer": "第一位管理员的答案", "expected_version": version}
    second = {**first, "answer": "第二位管理员的答案"}
    await ok(await admin.put(f"/api/v1/kb/faqs/{faq_id}/draft", first))
    assert await error_code(await admin.put(f"/api/v1/kb/faqs/{faq_id}/draft", second), 409) == "faq_conflict"
    detail = await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}"))
    assert detail["draft"]["answer"] == "第一位管理员的答案"


async def test_an_invalid_draft_is_refused_naming_the_field(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    response = await admin.post("/api/v1/kb/faqs", {**DRAFT, "answer": '=HYPERLINK("http://evil")'})
    assert await error_code(response, 422) == "invalid_draft"
    assert await error_code(await admin.post("/api/v1/kb/faqs", {**DRAFT, "answer": ""}), 422) == "invalid_draft"
    assert (
        await error_code(await admin.post("/api/v1/kb/faqs", {**DRAFT, "similar_questions": "x"}), 422)
        == "invalid_field"
    )
    assert faq_count() == 0


async def test_history_diff_and_restore_bring_an_old_answer_back(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    created = await ok(await admin.post("/api/v1/kb/faqs", DRAFT), 201)
    faq_id = created["id"]
    await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/publish"))
    current = await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}"))
    await ok(
        await admin.put(
            f"/api/v1/kb/faqs/{faq_id}/draft",
            {**DRAFT, "answer": "移机请拨打 10000 预约。", "expected_version": current["version"]},
        )
    )
    await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/publish"))

    versions = (await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}/versions")))["versions"]
    assert [(v["number"], v["is_published"]) for v in versions] == [(2, True), (1, False)]
    diff = await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}/diff", a=1, b=2))
    [answer] = [f for f in diff["fields"] if f["field"] == "answer"]
    assert answer["before"] == DRAFT["answer"] and answer["after"] == "移机请拨打 10000 预约。"
    assert {op for op, _ in answer["ops"]} >= {"insert", "delete"}
    assert await error_code(await admin.get(f"/api/v1/kb/faqs/{faq_id}/diff", a=1), 400) == "invalid_parameter"

    restored = await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/restore", {"number": 1}))
    assert restored["live"]["answer"] == DRAFT["answer"] and restored["status"] == "published"
    assert len((await ok(await admin.get(f"/api/v1/kb/faqs/{faq_id}/versions")))["versions"]) == 3
    archived = await ok(await admin.post(f"/api/v1/kb/faqs/{faq_id}/archive"))
    assert archived["status"] == "archived"
    gone = await ok(await admin.get("/api/v1/kb/hit-test", q="宽带怎么办理移机"))
    assert all(hit["faq_id"] != faq_id for hit in gone["hits"])


async def test_usage_of_an_faq_is_a_daily_series(app_client, staff):
    from knowledge_base.models import UsageKind
    from knowledge_base.usage import record_usage

    faq_id = global_faq()
    with session_scope() as session:
        record_usage(session, faq_id, UsageKind.ANSWERED, n=3)
        record_usage(session, faq_id, UsageKind.UNHELPFUL)
    manager = await Staff.login(app_client, "wang.min")
    body = await ok(await manager.get(f"/api/v1/kb/faqs/{faq_id}/usage", days=7))
    assert len(body["series"]) == 7
    assert (body["series"][-1]["answered"], body["series"][-1]["unhelpful"]) == (3, 1)
    listed = await ok(await manager.get("/api/v1/kb/faqs"))
    assert listed["items"][0]["usage"]["answered"] == 3


async def test_the_usage_overview_sums_the_faqs_a_reader_sees_and_ranks_the_most_used(app_client, staff):
    from knowledge_base.models import UsageKind
    from knowledge_base.usage import record_usage

    mine, other = global_faq(), global_faq("浦东营业厅在哪")
    with session_scope() as session:
        theirs = make_faq(session, "浦东营业厅在哪", grid="sh-pudong").id
        record_usage(session, mine, UsageKind.ANSWERED, n=3)
        record_usage(session, other, UsageKind.CHOSEN, n=5)
        record_usage(session, theirs, UsageKind.ANSWERED, n=7)
    admin = await Staff.login(app_client, "admin.chen")
    body = await ok(await admin.get("/api/v1/kb/usage", days=7))
    assert body["days"] == 7 and len(body["series"]) == 7
    assert [(t["id"], t["uses"]) for t in body["top"]] == [(theirs, 7), (other, 5), (mine, 3)]
    assert body["top"][0]["question"] == "浦东营业厅在哪" and body["top"][0]["usage"]["answered"] == 7
    manager = await Staff.login(app_client, "wang.min")
    body = await ok(await manager.get("/api/v1/kb/usage", days=7, limit=1))
    assert [t["id"] for t in body["top"]] == [other]  # another grid's FAQ is neither listed nor counted
    assert (body["series"][-1]["answered"], body["series"][-1]["chosen"]) == (3, 5)
    assert await error_code(await manager.get("/api/v1/kb/usage", days=0), 400) == "invalid_parameter"


# --- import and export ----------------------------------------------------------------------------


def csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["question", "similar_questions", "answer", "category", "grid"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def row(n: int, **changes: str) -> dict[str, str]:
    return {
        "question": f"问题{n}怎么办理",
        "similar_questions": f"问题{n}如何办理|办理问题{n}",
        "answer": f"答案{n}: 请到营业厅办理。",
        "category": "测试",
        "grid": "",
        **changes,
    }


async def test_import_validation_reports_the_bad_lines_and_writes_nothing(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    data = csv_bytes([row(1), row(2, answer="=1+2"), row(3), row(4, answer="")])
    report = await ok(await admin.upload("/api/v1/kb/import/validate", data, "faqs.csv"), 422)
    assert report["error"]["code"] == "invalid_import"
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert "公式" in report["errors"][0]["reason"] and "答案" in report["errors"][1]["reason"]
    assert faq_count() == 0
    assert (await admin.upload("/api/v1/kb/import", data, "faqs.csv")).status == 422
    assert faq_count() == 0
    fine = await ok(await admin.upload("/api/v1/kb/import/validate", csv_bytes([row(1), row(2)]), "faqs.csv"))
    assert (fine["rows"], fine["errors"]) == (2, [])
    assert faq_count() == 0


async def test_a_gbk_file_or_one_without_the_answer_column_is_refused_with_a_hint(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    gbk = await ok(await admin.upload("/api/v1/kb/import/validate", csv_bytes([row(1)], "gbk"), "faqs.csv"), 422)
    assert gbk["errors"][0]["line"] == 0 and "GBK" in gbk["errors"][0]["reason"]
    assert "UTF-8" in gbk["errors"][0]["reason"]
    headless = "question,category\n怎么开发票,发票\n".encode()
    missing = await ok(await admin.upload("/api/v1/kb/import/validate", headless, "faqs.csv"), 422)
    assert "answer" in missing["errors"][0]["reason"]
    manager = await Staff.login(app_client, "wang.min")
    assert (await manager.upload("/api/v1/kb/import/validate", csv_bytes([row(1)]), "faqs.csv")).status == 403


async def test_an_upload_over_20_mb_is_refused_before_it_is_read(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    big = b"question,answer\n" + b"a,b\n" * (21 * 1024 * 1024 // 4)
    response = await admin.upload("/api/v1/kb/import/validate", big, "faqs.csv")
    assert await error_code(response, 413) == "payload_too_large"


async def test_a_streamed_upload_is_cut_off_at_20_mb(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")

    async def body():
        yield b'--cut\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\nquestion,answer\n'
        for _ in range(21):
            yield b"a,b\n" * (256 * 1024)
        yield b"\r\n--cut--\r\n"

    response = await app_client.post(
        "/api/v1/kb/import",
        data=body(),
        headers={"Content-Type": "multipart/form-data; boundary=cut", "X-CSRF-Token": admin.csrf},
    )
    assert await error_code(response, 413) == "payload_too_large"
    assert faq_count() == 0


async def test_a_5000_row_csv_imports_all_or_nothing(app_client, staff):
    admin = await Staff.login(app_client, "admin.chen")
    rows = [row(n) for n in range(5000)]
    broken = csv_bytes([*rows[:-1], row(4999, question="")])
    report = await ok(await admin.upload("/api/v1/kb/import", broken, "faqs.csv"), 422)
    assert [e["line"] for e in report["errors"]] == [5001]
    assert faq_count() == 0

    result = await ok(await admin.upload("/api/v1/kb/import", csv_bytes(rows), "faqs.csv"))
    assert (result["created"], result["updated"], result["unchanged"]) == (5000, 0, 0)
    assert faq_count() == 5000
    again = await ok(await admin.upload("/api/v1/kb/import", csv_bytes(rows), "faqs.csv"))
    assert (again["created"], again["unchanged"]) == (0, 5000)
    hit = await ok(await admin.get("/api/v1/kb/hit-test", q="问题4321怎么办理"))
    assert hit["hits"][0]["question"] == "问题4321怎么办理"


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")],
)
async def test_an_export_downloads_as_a_dated_file_that_reimports_unchanged(app_client, staff, fmt, content_type):
    with session_scope() as session:
        make_demo_faqs(session)
        make_faq(session, "武侯营业厅在哪", answer="- 武侯大道 1 号\n- 周一至周日营业", grid="cd-wuhou")
    admin = await Staff.login(app_client, "admin.chen")
    response = await admin.get("/api/v1/kb/export", format=fmt)
    assert response.status == 200
    assert response.content_type == content_type
    assert re.fullmatch(
        rf'attachment; filename="griddesk-faqs-\d{{8}}\.{fmt}"', response.headers["Content-Disposition"]
    )
    data = await response.read()
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        assert sum(1 for _ in sheet.iter_rows()) == faq_count() + 1
    result = await ok(await admin.upload("/api/v1/kb/import", data, f"export.{fmt}"))
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, faq_count())
    assert await error_code(await admin.get("/api/v1/kb/export", format="pdf"), 400) == "invalid_parameter"


# --- the unanswered inbox -------------------------------------------------------------------------


def log_questions(*texts: str, kind: str = "miss") -> list[int]:
    with session_scope() as session:
        misses = [Miss(text=t, normalized=t, decision="fallback", kind=kind) for t in texts]
        session.add_all(misses)
        session.flush()
        return [m.id for m in misses]


async def _clusters(staff_session: Staff) -> list[dict]:
    return (await ok(await staff_session.get("/api/v1/kb/inbox")))["clusters"]


async def test_the_inbox_turns_questions_into_a_similar_question_a_draft_or_nothing(app_client, staff):
    faq_id = global_faq()
    similar_ids = log_questions("发票在哪里开具", "发票在哪里开具")
    draft_ids = log_questions("宽带可以移机吗")
    dismissed = log_questions("你好")
    manager = await Staff.login(app_client, "wang.min")
    clusters = await _clusters(manager)
    assert clusters[0]["size"] == 2 and clusters[0]["representative"] == "发票在哪里开具"
    assert sum(c["size"] for c in clusters) == 4
    assert await error_code(await manager.post("/api/v1/kb/inbox/dismiss", {"item_ids": dismissed}), 403) == "forbidden"

    admin = await Staff.login(app_client, "admin.chen")
    await ok(await admin.post("/api/v1/kb/inbox/similar", {"item_ids": similar_ids, "faq_id": faq_id}))
    with session_scope() as session:
        assert "发票在哪里开具" in session.get(Faq, faq_id).similar_questions
    hit = await ok(await admin.get("/api/v1/kb/hit-test", q="发票在哪里开具"))
    assert hit["hits"][0]["faq_id"] == faq_id

    drafted = await ok(
        await admin.post("/api/v1/kb/inbox/draft", {"item_ids": draft_ids, "answer": "可以, 请预约。"}), 201
    )
    with session_scope() as session:
        new = session.get(Faq, drafted["faq_id"])
        assert (new.status, new.question) == (FaqStatus.DRAFT, "宽带可以移机吗")
    await ok(await admin.post("/api/v1/kb/inbox/dismiss", {"item_ids": dismissed}))
    assert await _clusters(admin) == []
    bad = await admin.post("/api/v1/kb/inbox/dismiss", {"item_ids": "all"})
    assert await error_code(bad, 422) == "invalid_field"


async def test_the_inbox_names_the_closest_faq_and_drops_what_an_import_came_to_answer(app_client, staff):
    faq_id = global_faq("怎么修改密码")
    with session_scope() as session:
        session.add(
            Miss(
                text="密码改不了", normalized="密码改不了", decision="suggest", kind="low_confidence", top_faq_id=faq_id
            )
        )
    log_questions("宽带能不能暂停一个月")
    admin = await Staff.login(app_client, "admin.chen")
    clusters = await _clusters(admin)
    [named] = [c for c in clusters if c["representative"] == "密码改不了"]
    assert (named["top_faq_id"], named["top_faq_question"]) == (faq_id, "怎么修改密码")
    assert any(c["representative"] == "宽带能不能暂停一个月" for c in clusters)

    rows = [{"question": "宽带能不能暂停一个月", "answer": "可以办理停机保号。", "category": "宽带"}]
    await ok(await admin.upload("/api/v1/kb/import", csv_bytes([row(1, **rows[0])]), "faqs.csv"))
    assert [c["representative"] for c in await _clusters(admin)] == ["密码改不了"]
