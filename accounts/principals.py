"""Who is asking: a logged-in staff member as the consoles see them, and the grids they work in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from grids.models import Grid, GridMembership


@dataclass(frozen=True)
class Principal:
    """A logged-in staff member as the consoles see them (no ORM object, safe to pass between threads)."""

    account_id: int
    username: str
    display_name: str
    role: Role
    grid_codes: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def is_manager_of(self, grid_code: str) -> bool:
        """Managers oversee their own grids; admins every grid."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.MANAGER and grid_code in self.grid_codes

    def can_serve(self, grid_code: str) -> bool:
        """Whether this person may see and take the queue of ``grid_code`` (admins: every grid)."""
        return self.role is Role.ADMIN or grid_code in self.grid_codes


def principal_for(session: Session, account: Account) -> Principal:
    role = Role(account.role)
    if role is Role.ADMIN:
        codes = session.scalars(select(Grid.code).order_by(Grid.code))
    else:
        codes = session.scalars(
            select(GridMembership.grid_code)
            .where(GridMembership.account_id == account.id)
            .order_by(GridMembership.grid_code)
        )
    return Principal(account.id, account.username, account.display_name, role, tuple(codes))


def grids_of(session: Session, principal: Principal) -> list[Grid]:
    """The grids ``principal`` works in (admins: all), ordered by code."""
    if not principal.grid_codes:
        return []
    return list(session.scalars(select(Grid).where(Grid.code.in_(principal.grid_codes)).order_by(Grid.code)))
