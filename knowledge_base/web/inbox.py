"""The hit-test and the unanswered inbox over HTTP: ``GET /api/v1/kb/hit-test`` (managers and admins),
``GET /api/v1/kb/inbox`` (admins: every item; managers: their grids' items and questions of no grid)
and the inbox's actions ``POST /api/v1/kb/inbox/similar``, ``…/draft`` and ``…/dismiss`` (admins).

The hit-test asks the gateway's own search service, so it shows exactly what customers would get;
the inbox is clustered with that service's encoder (``knowledge_base.inbox.clusters``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.models import Role
from griddesk.db import MAX_INTEGER, run_in_session
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from knowledge_base import inbox
from knowledge_base.web.common import (
    admin,
    body,
    check_grid,
    curator,
    ids,
    refresh_index,
)
from knowledge_base.web.keys import kb_key
from knowledge_base.web.search_api import grid_of, hits_json, k_of, search

HIT_TEST_K = 5
MAX_ANSWER_CHARS = 5000
INBOX_CLUSTERS = 50


async def get_hit_test(request: web.Request) -> web.Response:
    principal = await curator(request)
    query = request.query.get("q", "")
    grid = grid_of(request)
    check_grid(principal, grid)
    result = await search(request, query, k_of(request, HIT_TEST_K), grid)
    thresholds = request.app[kb_key].thresholds
    return json_response(
        {
            "query": query,
            "grid": grid,
            "decision": str(result.decision),
            "thresholds": {"answer": thresholds.answer, "suggest": thresholds.suggest, "margin": thresholds.margin},
            "hits": hits_json(result, thresholds),
        }
    )


async def get_inbox(request: web.Request) -> web.Response:
    """Admins see every open item; a grid manager their grids' items and the questions of no grid
    (``knowledge_base.inbox.in_scope``). Items the knowledge base has come to answer are closed first
    (``knowledge_base.inbox.retire_answered``), so the inbox lists only what customers still miss."""
    principal = await curator(request)
    kb = request.app[kb_key]
    grids = None if principal.role is Role.ADMIN else principal.grid_codes
    index = await asyncio.to_thread(kb.index)

    def work(session: Session) -> list[dict[str, object]]:
        inbox.retire_answered(session, index, kb.encoder, grids=grids)
        found = inbox.clusters(session, kb.encoder, limit=INBOX_CLUSTERS, grids=grids)
        return [cluster.as_dict() for cluster in found]

    return json_response({"clusters": await run_in_session(work)})


async def post_similar(request: web.Request) -> web.Response:
    principal = await admin(request)
    raw = await body(request)
    item_ids = ids(raw.get("item_ids"))
    faq_id = raw.get("faq_id")
    if not isinstance(faq_id, int) or isinstance(faq_id, bool) or not 0 < faq_id <= MAX_INTEGER:
        raise ApiError(422, "invalid_field", "问答编号：请选择要加入相似问题的问答。", field="faq_id")

    def work(session: Session) -> dict[str, Any]:
        faq = inbox.resolve_as_similar(session, item_ids, faq_id, principal)
        return {"faq_id": faq.id, "status": str(faq.status), "review": str(faq.review), "version": faq.version}

    result = await run_in_session(work)
    refresh_index(request.app)
    return json_response(result)


async def post_draft(request: web.Request) -> web.Response:
    principal = await admin(request)
    raw = await body(request)
    item_ids = ids(raw.get("item_ids"))
    answer = raw.get("answer")
    if answer is not None and (not isinstance(answer, str) or len(answer) > MAX_ANSWER_CHARS):
        raise ApiError(422, "invalid_field", f"答案：必须是不超过 {MAX_ANSWER_CHARS} 个字符的文字。", field="answer")

    def work(session: Session) -> dict[str, Any]:
        faq = inbox.resolve_as_draft(session, item_ids, principal, answer=(answer or "").strip() or None)
        session.flush()
        return {"faq_id": faq.id, "status": str(faq.status), "review": str(faq.review), "version": faq.version}

    return json_response(await run_in_session(work), status=201)


async def post_dismiss(request: web.Request) -> web.Response:
    principal = await admin(request)
    item_ids = ids((await body(request)).get("item_ids"))

    def work(session: Session) -> int:
        return inbox.dismiss(session, item_ids, principal)

    return json_response({"dismissed": await run_in_session(work)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/kb/hit-test", get_hit_test)
    app.router.add_get("/api/v1/kb/inbox", get_inbox)
    app.router.add_post("/api/v1/kb/inbox/similar", post_similar)
    app.router.add_post("/api/v1/kb/inbox/draft", post_draft)
    app.router.add_post("/api/v1/kb/inbox/dismiss", post_dismiss)
