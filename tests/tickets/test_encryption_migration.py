"""Migration 0007h: contact details stored in clear before it are encrypted (and hashed) by it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
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


def _stored(url: str) -> list[tuple[str, ...]]:
    """What the ticket table holds, read past the models: numbers, phones, names and phone hashes."""
    engine = make_engine(url)
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("ticket")}
        wanted = ["number", "contact_phone", "contact_name"] + (
            ["contact_phone_hash"] if "contact_phone_hash" in columns else []
        )
        rows = [tuple(row) for row in connection.execute(text(f"SELECT {', '.join(wanted)} FROM ticket ORDER BY id"))]
    engine.dispose()
    return rows


@pytest.fixture
def old_database(fresh_database_url, tmp_path, monkeypatch) -> Iterator[str]:
    """A database at revision 0006 with two tickets and a verified phone stored in clear, as before."""
    url = fresh_database_url
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    db_module.reset_engine()
    command.upgrade(alembic_config(url), BEFORE)
    engine = make_engine(url)
    with Session(engine) as session:
        load_grids(session)
        session.commit()
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for number, phone, name, sender in CLEAR:
            connection.execute(
                text(
                    "INSERT INTO ticket (number, category, description, contact_phone, contact_name, region,"
                    " customer_tier, grid_code, priority, state, sender_id, needs_approval, overdue, version,"
                    " created_at, updated_at) VALUES (:number, 'fault', '宽带断网三天了', :phone, :name,"
                    " '成都市武侯区', 'general', 'cd-wuhou', 'high', 'accepted', :sender, false, false, 1, :now, :now)"
                ),
                {"number": number, "phone": phone, "name": name, "sender": sender, "now": now},
            )
        connection.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, at, actor, kind, to_state, note) VALUES (1, :now, 'customer',"
                " 'created', 'accepted', '')"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO ticket_verified_phone (sender_id, phone, verified_at) VALUES ('owner-1', '13955551234',"
                " :now)"
            ),
            {"now": now},
        )
    engine.dispose()
    assert _stored(url) == [(number, phone, name) for number, phone, name, _ in CLEAR]
    yield url
    db_module.reset_engine()
    get_settings.cache_clear()


def test_the_migration_encrypts_and_hashes_what_was_stored_in_clear(old_database):
    command.upgrade(alembic_config(old_database), OURS)
    stored = _stored(old_database)
    for (number, phone, name, _), row in zip(CLEAR, stored, strict=True):
        assert row[0] == number and phone not in row[1] and name not in row[2]
        assert row[3] == crypto.keyed_hash("phone", phone)
    with session_scope() as session:
        assert [
            (t.number, t.contact_phone, t.contact_name) for t in session.scalars(select(Ticket).order_by(Ticket.id))
        ] == [(number, phone, name) for number, phone, name, _ in CLEAR]
        assert [t.number for t in my_tickets(session, "owner-1")] == ["GD-AAAAA2"]
        assert lookup_ticket(session, "stranger", "GD-AAAAA3", "6789").status is LookupStatus.FOUND


@pytest.mark.sqlite
def test_nothing_of_the_clear_text_stays_in_the_sqlite_file(old_database):
    path = Path(old_database.removeprefix("sqlite:///"))
    on_disk = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    assert b"13955551234" in on_disk  # stored in clear before the migration …
    command.upgrade(alembic_config(old_database), OURS)
    on_disk = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    for _, phone, name, _ in CLEAR:
        assert phone.encode() not in on_disk and name.encode() not in on_disk  # … and nowhere in the file after it


def test_the_migration_is_reversible_back_to_clear_text(old_database):
    config = alembic_config(old_database)
    command.upgrade(config, OURS)
    command.downgrade(config, BEFORE)
    assert _stored(old_database) == [(number, phone, name) for number, phone, name, _ in CLEAR]
    command.upgrade(config, OURS)  # and forward again
    with session_scope() as session:
        assert [t.number for t in my_tickets(session, "owner-1")] == ["GD-AAAAA2"]
