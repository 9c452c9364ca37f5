"""What the knowledge-base admin API's views share: who may do what, running the curation services in
the path and query values they read. (Domain errors reach clients through ``griddesk.web.errors``.)

Roles: admins may do everything; grid managers read the global FAQs and their grids' FAQs, edit
drafts scoped to their grids and publish/approve/restore those (``base.may_publish``), and read
the hit-test, the inbox and usage; agents get 403 on every route (they search from their console).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.db import MAX_INTEGER
from griddesk.web import params
from griddesk.web.errors import ApiError
from griddesk.web.json import read_json_object
from griddesk.web.params import path_id
from knowledge_base.curation import base
from knowledge_base.models import Faq
from knowledge_base.web.keys import kb_key

CURATORS = (Role.MANAGER, Role.ADMIN)
MAX_BODY_BYTES = 256 * 1024  # a draft: answer ≤ 5,000 characters, up to 100 similar questions


async def curator(request: web.Request) -> Principal:
    """A logged-in manager or admin (CSRF checked on unsafe methods); 401/403 otherwise."""
    return await require_role(request, *CURATORS)


async def admin(request: web.Request) -> Principal:
    return await require_role(request, Role.ADMIN)


async def body(request: web.Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_BODY_BYTES)


def faq_id(request: web.Request) -> int:
    return path_id(request, "faq_id", "找不到该 FAQ。", code="faq_not_found")


QUERY_LABELS = {
    "limit": "每页条数",
    "offset": "起始位置",
    "a": "版本号 a",
    "b": "版本号 b",
    "days": "天数",
    "k": "返回条数（k）",
}


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    return params.query_int(request, name, QUERY_LABELS.get(name, name), default=default, low=low, high=high)


def ids(value: object, name: str = "item_ids", limit: int = 500) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > limit
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_INTEGER for v in value)
    ):
        raise ApiError(422, "invalid_field", f"问题编号列表：必须是 1 到 {limit} 个编号。", field=name)
    return list(dict.fromkeys(value))


# --- who may do what ----------------------------------------------------------------------------


def may_read(principal: Principal, faq: Faq) -> bool:
    """Admins read every FAQ; managers the global ones and their grids'."""
    return principal.role is Role.ADMIN or faq.grid is None or faq.grid in principal.grid_codes


def may_edit_scope(principal: Principal, grid: str | None) -> bool:
    """Admins edit any scope; managers only drafts scoped to one of their grids."""
    return principal.role is Role.ADMIN or (grid is not None and grid in principal.grid_codes)


def readable_faq(session: Session, principal: Principal, faq_id_: int) -> Faq:
    faq = session.get(Faq, faq_id_)
    if faq is None:
        raise ApiError(404, "faq_not_found", "找不到该 FAQ。")
    if not may_read(principal, faq):
        raise ApiError(403, "forbidden", "这条 FAQ 不属于您的网格。")
    return faq


def editable_faq(session: Session, principal: Principal, faq_id_: int) -> Faq:
    faq = readable_faq(session, principal, faq_id_)
    if not may_edit_scope(principal, faq.grid):
        raise ApiError(403, "forbidden", "您只能编辑本网格的 FAQ；全局 FAQ 可以「为本网格定制」。")
    return faq


def publishable_faq(session: Session, principal: Principal, faq_id_: int) -> Faq:
    faq = readable_faq(session, principal, faq_id_)
    if not base.may_publish(principal, faq):
        raise ApiError(403, "forbidden", "只有管理员或该网格的网格长可以发布这条 FAQ。")
    return faq


def check_grid(principal: Principal, grid: str | None) -> None:
    """A grid named in a query (hit-test, list filter) must be one the principal may see."""
    if grid and grid != "global" and principal.role is not Role.ADMIN and grid not in principal.grid_codes:
        raise ApiError(403, "forbidden", "您不属于这个网格。")


def refresh_index(app: web.Application) -> None:
    """Tell the gateway's own search index that the FAQs changed, so its hit-test sees it at once
    (other processes pick the change up by the table stamp within seconds)."""
    app[kb_key].refresh()
