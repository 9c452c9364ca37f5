"""First start: the staff seed and the initial passwords file."""

from __future__ import annotations

import json
import stat

from sqlalchemy import func, select

from accounts.login import authenticate
from accounts.models import Account, Role
from accounts.staff_seed import STAFF_SEED_FILE, seed_staff, write_initial_passwords
from grids.models import Agent, AgentStatus, GridMembership
from grids.service import SEED_FILE as GRIDS_FILE
from tests.accounts.conftest import T0, make_staff


def test_seed_staff_creates_every_account_with_a_fresh_password_that_logs_in(db):
    records = json.loads(STAFF_SEED_FILE.read_text("utf-8"))
    pairs = seed_staff(db)
    db.commit()
    assert [u for u, _ in pairs] == [r["username"] for r in records]
    assert len({p for _, p in pairs}) == len(pairs) and all(len(p) >= 16 for _, p in pairs)
    for username, password in pairs[:3]:
        assert authenticate(db, username, password, T0).username == username
    assert "admin" in dict(pairs)


def test_seed_staff_gives_agents_and_managers_their_agent_row_and_grid(db):
    seed_staff(db)
    by_name = {a.username: a for a in db.scalars(select(Account))}
    agents = {a.account_id: a for a in db.scalars(select(Agent))}
    members: dict[str, set[str]] = {}
    for m in db.scalars(select(GridMembership)):
        members.setdefault(m.grid_code, set()).add(next(u for u, a in by_name.items() if a.id == m.account_id))
    assert by_name["admin"].role == Role.ADMIN and by_name["admin"].id not in agents
    for grid in json.loads(GRIDS_FILE.read_text("utf-8")):
        manager = next(a for a in by_name.values() if a.display_name == grid["manager"])
        assert manager.role == Role.MANAGER and manager.username in members[grid["code"]]
        assert agents[manager.id].max_chats == 2
        staff = [by_name[u] for u in members[grid["code"]] if by_name[u].role == Role.AGENT]
        assert len(staff) >= 2, grid["code"]
    for agent in agents.values():
        assert agent.status == AgentStatus.OFFLINE and agent.skills
    assert any(len([g for g, us in members.items() if u in us]) == 2 for u in by_name)


def test_seed_staff_does_nothing_once_any_account_exists(db):
    assert seed_staff(db)
    count = db.scalar(select(func.count(Account.id)))
    hashes = set(db.scalars(select(Account.password_hash)))
    assert seed_staff(db) == []
    assert db.scalar(select(func.count(Account.id))) == count
    assert set(db.scalars(select(Account.password_hash))) == hashes


def test_seed_staff_leaves_an_existing_installation_alone(db):
    make_staff(db)
    assert seed_staff(db) == []
    assert db.scalar(select(func.count(Account.id))) == 1


def test_initial_passwords_are_written_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "var" / "initial-passwords.txt"
    write_initial_passwords(path, [("admin", "s3cret-one-xyz"), ("zhang.wei", "s3cret-two-xyz")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert "admin\ts3cret-one-xyz" in text and "zhang.wei\ts3cret-two-xyz" in text
    path.chmod(0o644)
    write_initial_passwords(path, [("admin", "another-secret")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "s3cret-one" not in path.read_text("utf-8")
