"""Principals: which grids a staff member serves and manages."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Role
from accounts.principals import grids_of, principal_for
from grids.models import Grid
from tests.accounts.conftest import make_staff


def test_an_agent_serves_only_their_grids_and_manages_none(db):
    principal = principal_for(db, make_staff(db, grids=("billing", "cd-wuhou")))
    assert principal.grid_codes == ("billing", "cd-wuhou")
    assert principal.can_serve("billing") and not principal.can_serve("central")
    assert not principal.is_manager_of("billing")
    assert [g.code for g in grids_of(db, principal)] == ["billing", "cd-wuhou"]


def test_a_manager_manages_their_grid_only(db):
    principal = principal_for(db, make_staff(db, "wang.min", Role.MANAGER, display_name="王敏"))
    assert principal.is_manager_of("cd-wuhou") and not principal.is_manager_of("cd-city")
    assert principal.can_serve("cd-wuhou") and not principal.can_serve("cd-city")


def test_an_admin_sees_serves_and_manages_every_grid(db):
    principal = principal_for(db, make_staff(db, "admin", Role.ADMIN, grids=(), display_name="系统管理员"))
    every = tuple(sorted(db.scalars(select(Grid.code))))
    assert principal.grid_codes == every and len(every) == 7
    assert all(principal.can_serve(code) and principal.is_manager_of(code) for code in every)
    assert len(grids_of(db, principal)) == 7
