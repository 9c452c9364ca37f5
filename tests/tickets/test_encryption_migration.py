"""Migration 0007h: contact details stored in clear before it are encrypted (and hashed) by it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from griddesk import crypto
from griddesk import db as db_module
from griddesk.db import make_engine, session_scope
from griddesk.settings import get_settings
from grids.service import load_grids
from ops.setup_db import alembic_config
from tickets.lookup import LookupStatus, lookup_ticket, my_tickets
from tickets.models import Ticket

BEFORE, OURS = "0006", "head"  # through 0007h, which encrypts (later ones need the columns the ORM reads)
CLEAR = [("GD-AAAAA2", "13955551234", "欧阳娜娜", "owner-1"), ("GD-AAAAA3", "02885556789", "司马相如", None)]


def _raw(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


@pytest.fixture
def old_database(tmp_path, monkeypatch) -> Path:
    """A database at revision 0006 with two tickets and a verified phone stored in clear, as before."""
    path = tmp_path / "griddesk.db"
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GRIDDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    db_module.reset_engine()
    command.upgrade(alembic_config(f"sqlite:///{path}"), BEFORE)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        load_grids(session)
        session.commit()
    engine.dispose()
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC).isoformat()
    connection = sqlite3.connect(path)
    for number, phone, name, sender in CLEAR:
        connection.execute(
            "INSERT INTO ticket (number, category, description, contact_phone, contact_name, region, customer_tier,"
            " grid_code, priority, state, sender_id, needs_approval, overdue, version, created_at, updated_at)"
            " VALUES (?, 'fault', '宽带断网三天了', ?, ?, '成都市武侯区', 'general', 'cd-wuhou', 'high', 'accepted',"
            " ?, 0, 0, 1, ?, ?)",
            (number, phone, name, sender, now, now),
        )
    connection.execute(
        "INSERT INTO ticket_event (ticket_id, at, actor, kind, to_state, note) VALUES (1, ?, 'customer', 'created',"
        " 'accepted', '')",
        (now,),
    )
    connection.execute(
        "INSERT INTO ticket_verified_phone (sender_id, phone, verified_at) VALUES ('owner-1', '13955551234', ?)", (now,)
    )
    connection.commit()
    connection.close()
    assert b"13955551234" in _raw(path) and "欧阳娜娜".encode() in _raw(path)
    yield path
    db_module.reset_engine()
    get_settings.cache_clear()


def test_the_migration_encrypts_and_hashes_what_was_stored_in_clear(old_database):
    command.upgrade(alembic_config(f"sqlite:///{old_database}"), OURS)
    stored = _raw(old_database)
    for _, phone, name, _ in CLEAR:
        assert phone.encode() not in stored and name.encode() not in stored
    connection = sqlite3.connect(old_database)
    rows = connection.execute("SELECT number, contact_phone_hash FROM ticket ORDER BY id").fetchall()
    connection.close()
    assert rows == [(number, crypto.keyed_hash("phone", phone)) for number, phone, _, _ in CLEAR]
    with session_scope() as session:
        assert [
            (t.number, t.contact_phone, t.contact_name) for t in session.scalars(select(Ticket).order_by(Ticket.id))
        ] == [(number, phone, name) for number, phone, name, _ in CLEAR]
        assert [t.number for t in my_tickets(session, "owner-1")] == ["GD-AAAAA2"]
        assert lookup_ticket(session, "stranger", "GD-AAAAA3", "6789").status is LookupStatus.FOUND


def test_the_migration_is_reversible_back_to_clear_text(old_database):
    config = alembic_config(f"sqlite:///{old_database}")
    command.upgrade(config, OURS)
    command.downgrade(config, BEFORE)
    connection = sqlite3.connect(old_database)
    assert connection.execute("SELECT number, contact_phone, contact_name FROM ticket ORDER BY id").fetchall() == [
        (number, phone, name) for number, phone, name, _ in CLEAR
    ]
    connection.close()
    command.upgrade(config, OURS)  # and forward again
    with session_scope() as session:
        assert [t.number for t in my_tickets(session, "owner-1")] == ["GD-AAAAA2"]
