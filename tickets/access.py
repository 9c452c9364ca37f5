"""Who on the staff may see, change and approve which tickets (no HTTP): grid scope and the approver rule.

- Agents and managers see and change the tickets of the grids they are members of; admins every ticket.
- A ticket is assigned by the managers of its grid and admins (to anyone on the grid's staff); an agent
  takes a ticket for themselves or gives back one that is theirs.
- Only the ticket grid's own manager approves a high-value resolution: an account with the role
  ``manager`` that is a member of the ticket's grid **and** is the one ``grids.models.Grid.manager``
  names (by username, or by display name as the seed file does). Admins do not approve: approval is
  the grid manager's signature, and an admin who must approve makes themselves that grid's manager first.
"""

from __future__ import annotations

from accounts.models import Role
from accounts.principals import Principal
from griddesk.errors import DomainError
from grids.models import Grid


class NotYourGrid(DomainError):
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("这张工单不属于您的网格。")


def visible_grids(principal: Principal) -> tuple[str, ...] | None:
    """The grids whose tickets this person sees (None = all, for admins)."""
    return None if principal.role is Role.ADMIN else principal.grid_codes


def serves(principal: Principal, grid_code: str) -> bool:
    return principal.role is Role.ADMIN or grid_code in principal.grid_codes


def check_grid(principal: Principal, grid_code: str) -> None:
    """``NotYourGrid`` unless the ticket's grid is one of this person's (admins: any)."""
    if not serves(principal, grid_code):
        raise NotYourGrid()


class NotAllowedToAssign(DomainError):
    code = "not_allowed"

    def __init__(self) -> None:
        super().__init__("只有网格经理可以把工单指派给他人；客服可以领取工单或放弃自己负责的工单。")


def check_assign(principal: Principal, grid_code: str, current: int | None, assignee: int | None) -> None:
    """``NotAllowedToAssign`` unless this person may move the ticket from ``current`` to ``assignee``:
    the grid's managers and admins any way; an agent only to themselves, or from themselves to nobody."""
    if principal.is_manager_of(grid_code):
        return
    me = principal.account_id
    if assignee == me or (assignee is None and current == me):
        return
    raise NotAllowedToAssign()


def may_approve(principal: Principal, grid: Grid) -> bool:
    """Whether this person is the manager of ``grid`` (role, membership and the grid's named manager)."""
    named = grid.manager.strip()
    return (
        principal.role is Role.MANAGER
        and grid.code in principal.grid_codes
        and bool(named)
        and named in (principal.username, principal.display_name)
    )
