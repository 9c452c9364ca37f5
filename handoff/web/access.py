"""Who on the staff may see and do what in the consoles: login, roles and grid scope, in one place."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.web.errors import ApiError
from handoff.customer_history import customer_in_grids
from handoff.models import Handoff
from handoff.ownership import HandoffNotFound

STAFF = (Role.AGENT, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)


async def staff(request: web.Request) -> Principal:
    """A logged-in agent, grid manager or admin (CSRF checked on unsafe methods); 401/403 otherwise."""
    return await require_role(request, *STAFF)


async def manager(request: web.Request) -> Principal:
    return await require_role(request, *MANAGERS)


def actor(principal: Principal) -> str:
    """How a person on the staff is named in audit trails (ownership events, tickets)."""
    return actor_for_account(principal.account_id)


def visible_grids(principal: Principal) -> list[str] | None:
    """The grids whose queues this person sees (None = all, for admins)."""
    return None if principal.role is Role.ADMIN else list(principal.grid_codes)


def visible_handoff(session: Session, principal: Principal, handoff_id: int) -> Handoff:
    """The handoff, when it is in one of this person's grids or theirs (admins: any)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound()
    if (
        principal.role is Role.ADMIN
        or handoff.grid_code in principal.grid_codes
        or handoff.agent_id == principal.account_id
    ):
        return handoff
    raise not_your_grid()


def not_your_grid() -> ApiError:
    return ApiError(403, "forbidden", "这个会话不属于您的网格。")


def can_read_conversation(session: Session, principal: Principal, conversation_id: int) -> bool:
    """Staff read a conversation that was handed to their grid or to them (admins: any)."""
    if principal.role is Role.ADMIN:
        return True
    query = select(Handoff.id).where(Handoff.conversation_id == conversation_id)
    grids = list(principal.grid_codes)
    mine = Handoff.agent_id == principal.account_id
    return session.scalar(query.where(Handoff.grid_code.in_(grids) | mine).limit(1)) is not None


def check_customer_visible(session: Session, principal: Principal, customer_id: int) -> None:
    """Staff see a verified customer's history when the customer was served in one of their grids (or by
    them); admins see everyone. 403 otherwise."""
    if not customer_in_grids(session, customer_id, visible_grids(principal), principal.account_id):
        raise ApiError(403, "forbidden", "这位客户不属于您的网格。")
