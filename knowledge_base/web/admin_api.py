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
from knowledge_base.web import files as kb_admin_files, inbox as kb_admin_inbox
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from knowledge_base.web.common import (
    body,
    check_grid,
    curator,
    editable_faq,
    faq_id,
    http_error,
    may_edit_scope,
    publishable_faq,
    query_int,
    readable_faq,
    refresh_index,
    run,
)
from knowledge_base import curation, usage
from knowledge_base.curation_errors import CurationError
from knowledge_base.models import Faq, FaqStatus, FaqVersion, Review

MAX_NOTE_CHARS = 500
MAX_QUERY_CHARS = 200
MAX_PAGE = 200
MAX_EVENTS = 50
MAX_USAGE_DAYS = 365
_STATUSES = {s.value for s in FaqStatus}
_REVIEWS = {"none", *(r.value for r in Review if r.value)}


# --- JSON shapes --------------------------------------------------------------------------------


def _content(source: Faq | FaqVersion) -> dict[str, Any]:
    return {"question": source.question, "similar_questions": list(source.similar_questions or []),
            "answer": source.answer, "category": source.category, "grid": source.grid,
            "overrides_id": source.overrides_id}


def faq_summary(faq: Faq, used: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": faq.id, "external_id": faq.external_id, "question": faq.question,
        "similar_count": len(faq.similar_questions or []), "category": faq.category, "grid": faq.grid,
        "overrides_id": faq.overrides_id, "status": str(faq.status), "review": str(faq.review),
        "version": faq.version, "published_version": faq.published_version, "draft_version": faq.draft_version,
        "updated_at": faq.updated_at.isoformat(), "usage": used or {},
    }


def faq_detail(session: Session, principal: Principal, faq: Faq) -> dict[str, Any]:
    """The live content customers see (None if never published), the pending draft, and what the reader may do."""
    draft = curation.draft_of(session, faq)
    history = curation.events(session, faq.id)[:MAX_EVENTS]
    rejection = next((e.note for e in history if e.kind == "rejected"), "") if faq.review == Review.REJECTED else ""
    return {
        **faq_summary(faq),
        "live": _content(faq) if faq.published_version is not None else None,
        "draft": {**_content(draft), "number": draft.number, "author": draft.author, "note": draft.note,
                  "created_at": draft.created_at.isoformat()} if draft is not None else None,
        "review_note": rejection,
        "may_edit": may_edit_scope(principal, faq.grid),
        "may_publish": curation.may_publish(principal, faq),
        "events": [event.as_dict() for event in history],
    }


# --- parsing ------------------------------------------------------------------------------------


def _string(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{name} 必须是字符串")
    return value


def _note(raw: dict[str, Any], required: bool = False) -> str:
    note = _string(raw, "note").strip()
    if required and not note:
        raise ApiError(422, "invalid_field", "请填写驳回理由 (note)")
    if len(note) > MAX_NOTE_CHARS:
        raise ApiError(422, "invalid_field", f"note 太长, 最多 {MAX_NOTE_CHARS} 个字符")
    return note


def _optional_int(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ApiError(422, "invalid_field", f"{name} 必须是正整数")
    return value


def parse_draft(raw: dict[str, Any]) -> curation.FaqDraft:
    """The draft in a request body, checked by the curation rules (422 ``invalid_field`` naming the field)."""
    similar = raw.get("similar_questions") or []
    if not isinstance(similar, list) or not all(isinstance(s, str) for s in similar):
        raise ApiError(422, "invalid_field", "similar_questions 必须是字符串列表")
    grid = _string(raw, "grid").strip() or None
    draft = curation.FaqDraft(
        question=_string(raw, "question"), similar_questions=list(similar), answer=_string(raw, "answer"),
        category=_string(raw, "category"), grid=grid, overrides_id=_optional_int(raw, "overrides_id"),
    )
    try:
        return curation.validate_draft(draft)
    except CurationError as exc:
        raise http_error(exc) from None


def _check_scope(principal: Principal, draft: curation.FaqDraft) -> None:
    if not may_edit_scope(principal, draft.grid):
        raise ApiError(403, "forbidden", "网格长只能编辑本网格范围的 FAQ (全局 FAQ 可以「为本网格定制」)")


# --- views --------------------------------------------------------------------------------------


async def list_faqs(request: web.Request) -> web.Response:
    principal = await curator(request)
    query = request.query
    text = query.get("q", "").strip()[:MAX_QUERY_CHARS] or None
    category = query.get("category", "").strip() or None
    grid = query.get("grid", "").strip() or None
    check_grid(principal, grid)
    status, review = query.get("status") or None, query.get("review") or None
    if status is not None and status not in _STATUSES:
        raise ApiError(400, "invalid_parameter", "status 必须是 draft、published 或 archived")
    if review is not None and review not in _REVIEWS:
        raise ApiError(400, "invalid_parameter", "review 必须是 none、draft、pending 或 rejected")
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 10_000_000)
    # managers see global FAQs and their own grids'
    visible = None if principal.role is Role.ADMIN else list(principal.grid_codes)

    def work(session: Session) -> dict[str, Any]:
        faqs, total = curation.find_faqs(session, text=text, category=category, grid=grid, status=status,
                                         review=review, limit=limit, offset=offset,
                                         visible_grids=visible)
        used = usage.usage_totals(session, [f.id for f in faqs])
        return {"items": [faq_summary(f, used.get(f.id)) for f in faqs], "total": total}

    return json_response(await run(work))


async def create_faq(request: web.Request) -> web.Response:
    principal = await curator(request)
    raw = await body(request)
    draft = parse_draft(raw)
    _check_scope(principal, draft)
    note = _note(raw)

    def work(session: Session) -> dict[str, Any]:
        faq = curation.create_faq(session, draft, principal, note=note)
        session.flush()
        return faq_detail(session, principal, faq)

    return json_response(await run(work), status=201)


async def get_faq(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    return json_response(await run(lambda s: faq_detail(s, principal, readable_faq(s, principal, faq_id_))))


async def put_draft(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    raw = await body(request)
    expected = raw.get("expected_version")
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise ApiError(422, "invalid_field", "expected_version 必须是整数 (编辑开始时 FAQ 的 version)")
    draft = parse_draft(raw)
    _check_scope(principal, draft)
    note = _note(raw)

    def work(session: Session) -> dict[str, Any]:
        editable_faq(session, principal, faq_id_)
        faq = curation.save_draft(session, faq_id_, draft, principal, expected, note=note)
        session.flush()
        return faq_detail(session, principal, faq)

    return json_response(await run(work))


async def post_submit(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)

    def work(session: Session) -> dict[str, Any]:
        editable_faq(session, principal, faq_id_)
        curation.submit(session, faq_id_, principal)
        session.flush()
        return faq_detail(session, principal, readable_faq(session, principal, faq_id_))

    return json_response(await run(work))


async def _publishing(request: web.Request, act: Callable[[Session, int, Principal, dict[str, Any]], object]) \
        -> web.Response:
    """Run a publishing action (approve, reject, publish, restore, archive) for someone allowed to publish."""
    principal = await curator(request)
    faq_id_ = faq_id(request)
    raw = await body(request)

    def work(session: Session) -> dict[str, Any]:
        publishable_faq(session, principal, faq_id_)
        act(session, faq_id_, principal, raw)
        session.flush()
        return faq_detail(session, principal, readable_faq(session, principal, faq_id_))

    result = await run(work)
    refresh_index(request.app)
    return json_response(result)


async def post_approve(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: curation.approve(s, i, p, note=_note(raw)))


async def post_reject(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: curation.reject(s, i, p, _note(raw, required=True)))


async def post_publish(request: web.Request) -> web.Response:
    def act(session: Session, faq_id_: int, principal: Principal, raw: dict[str, Any]) -> None:
        curation.publish(session, faq_id_, principal, expected_version=_optional_int(raw, "expected_version"),
                         note=_note(raw))

    return await _publishing(request, act)


async def post_restore(request: web.Request) -> web.Response:
    def act(session: Session, faq_id_: int, principal: Principal, raw: dict[str, Any]) -> None:
        number = _optional_int(raw, "number")
        if number is None:
            raise ApiError(422, "invalid_field", "number 必须是要恢复的版本号")
        curation.restore(session, faq_id_, number, principal)

    return await _publishing(request, act)


async def post_archive(request: web.Request) -> web.Response:
    return await _publishing(request, lambda s, i, p, raw: curation.archive(s, i, p, note=_note(raw)))


async def get_versions(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return [view.as_dict() for view in curation.history(session, faq_id_)]

    return json_response({"versions": await run(work)})


async def get_diff(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    a = query_int(request, "a", 0, 1, 1_000_000)
    b = query_int(request, "b", 0, 1, 1_000_000)
    if not a or not b:
        raise ApiError(400, "invalid_parameter", "请用 a 和 b 指定要比较的两个版本号")

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return [field.as_dict() for field in curation.diff(session, faq_id_, a, b)]

    return json_response({"a": a, "b": b, "fields": await run(work)})


async def get_usage(request: web.Request) -> web.Response:
    principal = await curator(request)
    faq_id_ = faq_id(request)
    days = query_int(request, "days", 30, 1, MAX_USAGE_DAYS)

    def work(session: Session) -> list[Any]:
        readable_faq(session, principal, faq_id_)
        return usage.usage_series(session, faq_id_, days=days)

    return json_response({"faq_id": faq_id_, "days": days, "series": await run(work)})


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
    kb_admin_files.add_routes(app)
    kb_admin_inbox.add_routes(app)
