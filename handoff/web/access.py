"""Who on the staff may see and do what in the consoles: login, roles and grid scope, in one place."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from conversations.models import Conversation
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
    """The handoff, when its conversation is one this person may read (``can_read_conversation``):
    an earlier handoff of a conversation that moved on to another grid shows nothing any more."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound()
    if can_read_conversation(session, principal, handoff.conversation_id):
        return handoff
    raise not_your_grid()


def not_your_grid() -> ApiError:
    return ApiError(403, "forbidden", "这个会话不属于您的网格。")


def can_read_conversation(session: Session, principal: Principal, conversation_id: int) -> bool:
    """The one read scope of conversations, on every path (handoff view, messages, ticket draft, the
    websocket): staff read a conversation while its current handoff (the open one, else the last) is
    in one of their grids, or while they serve it or served that handoff (admins: any).

    An earlier handoff gives nothing: once the conversation was transferred to another grid (or asked
    for a person again and was routed elsewhere) it is that grid's, also for the agent who handled it
    before. A conversation that never reached a person is no one's."""
    if principal.role is Role.ADMIN:
        return True
    row = session.execute(
        select(Handoff.grid_code, Handoff.agent_id, Conversation.agent_id)
        .join(Conversation, Conversation.handoff_id == Handoff.id)
        .where(Conversation.id == conversation_id, Handoff.conversation_id == conversation_id)
    ).first()
    if row is None:
        return False
    grid_code, handoff_agent, serving_agent = row
    return grid_code in principal.grid_codes or principal.account_id in (handoff_agent, serving_agent)


def check_customer_visible(session: Session, principal: Principal, customer_id: int) -> None:
    """Staff see a verified customer's history when the customer was served in one of their grids (or by
    them); admins see everyone. 403 otherwise."""
    if not customer_in_grids(session, customer_id, visible_grids(principal), principal.account_id):
        raise ApiError(403, "forbidden", "这位客户不属于您的网格。")
