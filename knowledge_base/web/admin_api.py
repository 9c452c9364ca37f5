"""The admin console's knowledge-base API (``/api/v1/kb/…``): find, read, edit, review, publish,
restore and archive FAQs, their history, diffs and usage. Import/export live in
``knowledge_base.web.files``, the hit-test and the unanswered inbox in ``knowledge_base.web.inbox``;
:func:`add_routes` registers all of them.

Every route needs a logged-in manager or admin (unsafe methods also the CSRF token); the curation
services (``knowledge_base.curation``, ``knowledge_base.usage``) do the work in a thread. Published
changes reach the search index by its table stamp; the gateway's own index is told at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from griddesk import fields
from griddesk.db import MAX_INTEGER, run_in_session
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from griddesk.web.params import bad_parameter, query_text
from knowledge_base import history as faq_history
from knowledge_base import usage
from knowledge_base.curation import base, drafts, finding, review
from knowledge_base.labels import FIELD_LABELS
from knowledge_base.models import Faq, FaqStatus, FaqVersion, Review
from knowledge_base.web import files as kb_admin_files
from knowledge_base.web import inbox as kb_admin_inbox
from knowledge_base.web.common import (
    body,
    check_grid,
    curator,
    editable_faq,
    faq_id,
    may_edit_scope,
    publishable_faq,
    query_int,
    readable_faq,
    refresh_index,
)

MAX_NOTE_CHARS = 500
MAX_QUERY_CHARS = 200
MAX_CATEGORY_CHARS = 64
MAX_GRID_CHARS = 64
MAX_PAGE = 200
MAX_EVENTS = 50
MAX_USAGE_DAYS = 365
MAX_TOP = 50
_STATUSES = {s.value for s in FaqStatus}
_REVIEWS = {"none", *(r.value for r in Review if r.value)}


# --- JSON shapes --------------------------------------------------------------------------------


def _content(source: Faq | FaqVersion) -> dict[str, Any]:
    return {
        "question": source.question,
        "similar_questions": list(source.similar_questions or []),
        "answer": source.answer,
        "category": source.category,
        "grid": source.grid,
        "overrides_id": source.overrides_id,
    }


def faq_summary(faq: Faq, used: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": faq.id,
        "external_id": faq.external_id,
        "question": faq.question,
        "similar_count": len(faq.similar_questions or []),
        "category": faq.category,
        "grid": faq.grid,
        "overrides_id": faq.overrides_id,
        "status": str(faq.status),
        "review": str(faq.review),
        "version": faq.version,
        "published_version": faq.published_version,
        "draft_version": faq.draft_version,
        "updated_at": faq.updated_at.isoformat(),
        "usage": used or {},
    }


def faq_detail(session: Session, principal: Principal, faq: Faq) -> dict[str, Any]:
    """The live content customers see (None if never published), the pending draft, and what the reader may do."""
    draft = base.draft_of(session, faq)
    history = faq_history.events(session, faq.id)[:MAX_EVENTS]
    rejection = next((e.note for e in history if e.kind == "rejected"), "") if faq.review == Review.REJECTED else ""
    return {
        **faq_summary(faq),
        "live": _content(faq) if faq.published_version is not None else None,
        "draft": {
            **_content(draft),
            "number": draft.number,
            "author": draft.author,
            "note": draft.note,
            "created_at": draft.created_at.isoformat(),
        }
        if draft is not None
        else None,
        "review_note": rejection,
        "may_edit": may_edit_scope(principal, faq.grid),
        "may_publish": base.may_publish(principal, faq),
        "events": [event.as_dict() for event in history],
    }


# --- parsing ------------------------------------------------------------------------------------


def _string(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fields.invalid(name, FIELD_LABELS.get(name, name), "必须是文字")
    return value


def _note(raw: dict[str, Any], required: bool = False) -> str:
    label = "驳回理由" if required else FIELD_LABELS["note"]
    return fields.text(raw, "note", label, max_chars=MAX_NOTE_CHARS, required=required)


def _optional_int(raw: dict[str, Any], name: str) -> int | None:
    return fields.integer(raw, name, FIELD_LABELS.get(name, name), low=1, high=MAX_INTEGER, required=False)


def parse_draft(raw: dict[str, Any]) -> base.FaqDraft:
    """The draft in a request body, checked by the curation rules (422 ``invalid_field`` naming the field)."""
    similar = raw.get("similar_questions") or []
    if not isinstance(similar, list) or not all(isinstance(s, str) for s in similar):
        raise fields.invalid("similar_questions", FIELD_LABELS["similar_questions"], "必须是文字的列表")
    grid = _string(raw, "grid").strip() or None
    draft = base.FaqDraft(
        question=_string(raw, "question"),
        similar_questions=list(similar),
        answer=_string(raw, "answer"),
        category=_string(raw, "category"),
        grid=grid,
        overrides_id=_optional_int(raw, "overrides_id"),
    )
    return drafts.validate_draft(draft)


def _check_scope(principal: Principal, draft: base.FaqDraft) -> None:
    if not may_edit_scope(principal, draft.grid):
        raise ApiError(403, "forbidden", "网格长只能编辑本网格范围的 FAQ（全局 FAQ 可以「为本网格定制」）。")


# --- views --------------------------------------------------------------------------------------


async def list_faqs(request: web.Request) -> web.Response:
    principal = await curator(request)
    query = request.query
    text = query.get("q", "").strip()[:MAX_QUERY_CHARS] or None
    category = query_text(request, "category", "分类", max_chars=MAX_CATEGORY_CHARS)
    grid = query_text(request, "grid", "网格", max_chars=MAX_GRID_CHARS)
    check_grid(principal, grid)
    status, review = query.get("status") or None, query.get("review") or None
    if status is not None and status not in _STATUSES:
        raise bad_parameter("status", "状态", "必须是 草稿（draft）、已发布（published）或 已下架（archived）")
    if review is not None and review not in _REVIEWS:
        raise bad_parameter("review", "审核状态", "必须是 none、草稿（draft）、待审核（pending）或 已驳回（rejected）")
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 10_000_000)
    # managers see global FAQs and their own grids'
    visible = None if principal.role is Role.ADMIN else list(principal.grid_codes)

    def work(session: Session) -> dict[str, Any]:
        faqs, total = finding.find_faqs(
            session,
            text=text,
            category=category,
            grid=grid,
            status=status,
            review=review,
            limit=limit,
            offset=offset,
            visible_grids=visible,
        )
        used = usage.usage_totals(session, [f.id for f in faqs])
        return {"items": [faq_summary(f, used.get(f.id)) for f in faqs], "total": total}

    return json_response(await run_in_session(work))


async def create_faq(request: web.Request) -> web.Response:
    principal = await curator(request)
    raw = await body(request)
    draft = parse_draft(raw)
    _check_scope(principal, draft)
    note = _note(raw)

    def work(session: Session) -> dict[str, Any]:
        faq = drafts.create_faq(session, draft, principal, note=note)
        session.flush()
        return faq_detail(session, principal, faq)

    return json_response(await run_in_session(work), status=201)


async def get_faq(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    return json_response(await run_in_session(lambda s: faq_detail(s, principal, readable_faq(s, principal, faq_id_))))


async def put_draft(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    raw = await body(request)
    expected = raw.get("expected_version")
    if not isinstance(expected, int) or isinstance(expected, bool) or not 0 <= expected <= MAX_INTEGER:
        raise fields.invalid(
            "expected_version", FIELD_LABELS["expected_version"], "必须是整数（开始编辑时问答的 version）"
        )
    draft = parse_draft(raw)
    _check_scope(principal, draft)
    note = _note(raw)

    def work(session: Session) -> dict[str, Any]:
        editable_faq(session, principal, faq_id_)
        faq = drafts.save_draft(session, faq_id_, draft, principal, expected, note=note)
        session.flush()
        return faq_detail(session, principal, faq)

    return json_response(await run_in_session(work))


async def post_submit(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)

    def work(session: Session) -> dict[str, Any]:
        editable_faq(session, principal, faq_id_)
        review.submit(session, faq_id_, principal)
        session.flush()
        return faq_detail(session, principal, readable_faq(session, principal, faq_id_))

    return json_response(await run_in_session(work))


async def _publishing(
    request: web.Request, act: Callable[[Session, int, Principal, dict[str, Any]], object]
) -> web.Response:
    """Run a publishing action (approve, reject, publish, restore, archive) for someone allowed to publish."""
    principal = await curator(request)
    faq_id_ = faq_id(request)
    raw = await body(request)

    def work(session: Session) -> dict[str, Any]:
        publishable_faq(session, principal, faq_id_)
        act(session, faq_id_, principal, raw)
        session.flush()
        return faq_detail(session, principal, readable_faq(session, principal, faq_id_))

    result = await run_in_session(work)
    refresh_index(request.app)
    return json_response(result)


async def post_approve(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: review.approve(s, i, p, note=_note(raw)))


async def post_reject(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: review.reject(s, i, p, _note(raw, required=True)))


async def post_publish(request: web.Request) -> web.Response:
    def act(session: Session, faq_id_: int, principal: Principal, raw: dict[str, Any]) -> None:
        review.publish(
            session, faq_id_, principal, expected_version=_optional_int(raw, "expected_version"), note=_note(raw)
        )

    return await _publishing(request, act)


async def post_restore(request: web.Request) -> web.Response:
    def act(session: Session, faq_id_: int, principal: Principal, raw: dict[str, Any]) -> None:
        number = _optional_int(raw, "number")
        if number is None:
            raise fields.invalid("number", FIELD_LABELS["number"], "请指定要恢复的版本号")
        review.restore(session, faq_id_, number, principal)

    return await _publishing(request, act)


async def post_archive(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: review.archive(s, i, p, note=_note(raw)))


async def get_versions(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return [view.as_dict() for view in faq_history.history(session, faq_id_)]

    return json_response({"versions": await run_in_session(work)})


async def get_diff(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    a = query_int(request, "a", 0, 1, 1_000_000)
    b = query_int(request, "b", 0, 1, 1_000_000)
    if not a or not b:
        raise bad_parameter("a", "版本号", "请用 a 和 b 指定要比较的两个版本号")

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return [field.as_dict() for field in faq_history.diff(session, faq_id_, a, b)]

    return json_response({"a": a, "b": b, "fields": await run_in_session(work)})


async def get_usage(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    days = query_int(request, "days", 30, 1, MAX_USAGE_DAYS)

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return usage.usage_series(session, faq_id_, days=days)

    return json_response({"faq_id": faq_id_, "days": days, "series": await run_in_session(work)})


async def get_overall_usage(request: web.Request) -> web.Response:
    """Usage of every FAQ the reader may see, day by day, and the most used FAQs of the window (the
    usage page before an FAQ is picked)."""
    principal = await curator(request)
    days = query_int(request, "days", 30, 1, MAX_USAGE_DAYS)
    limit = query_int(request, "limit", 10, 1, MAX_TOP)
    visible = None if principal.role is Role.ADMIN else list(principal.grid_codes)

    def work(session: Session) -> dict[str, Any]:
        top = usage.top_faqs(session, days=days, limit=limit, visible_grids=visible)
        return {
            "series": usage.overall_series(session, days=days, visible_grids=visible),
            "top": [{**faq_summary(t.faq, t.totals), "uses": t.uses} for t in top],
        }

    return json_response({"days": days, **await run_in_session(work)})


def add_routes(app: web.Application) -> None:
    prefix = "/api/v1/kb"
    app.router.add_get(f"{prefix}/faqs", list_faqs)
    app.router.add_post(f"{prefix}/faqs", create_faq)
    app.router.add_get(f"{prefix}/faqs/{{faq_id}}", get_faq)
    app.router.add_put(f"{prefix}/faqs/{{faq_id}}/draft", put_draft)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/submit", post_submit)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/approve", post_approve)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/reject", post_reject)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/publish", post_publish)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/archive", post_archive)
    app.router.add_post(f"{prefix}/faqs/{{faq_id}}/restore", post_restore)
    app.router.add_get(f"{prefix}/faqs/{{faq_id}}/versions", get_versions)
    app.router.add_get(f"{prefix}/faqs/{{faq_id}}/diff", get_diff)
    app.router.add_get(f"{prefix}/faqs/{{faq_id}}/usage", get_usage)
    app.router.add_get(f"{prefix}/usage", get_overall_usage)
    kb_admin_files.add_routes(app)
    kb_admin_inbox.add_routes(app)
