"""``python -m ops.rotate_keys``: re-encrypt every encrypted value with the first key and re-hash it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from griddesk import db as db_module
from griddesk.crypto import DataKeyError, Keyring, generate_key
from griddesk.db import session_scope
from griddesk.settings import get_settings
from ops import rotate_keys
from tests.tickets.factories import make_ticket
from tickets.lookup import LookupStatus, lookup_ticket, my_tickets
from tickets.models import Ticket

PHONE = "13955551234"


def use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    monkeypatch.setenv("GRIDDESK_DATA_KEY", ",".join(keys))
    get_settings.cache_clear()
    db_module.reset_engine()


def stored(settings) -> list[tuple[str, str, str]]:
    """What the database holds, read past the models (which decrypt)."""
    with db_module.get_engine().connect() as connection:
        rows = connection.execute(
            text("SELECT contact_phone, contact_name, contact_phone_hash FROM ticket ORDER BY id")
        )
        return [tuple(row) for row in rows]


def test_rotation_re_encrypts_and_re_hashes_so_the_old_key_can_be_removed(settings, monkeypatch, capsys):
    old = settings.data_key.reveal()
    with session_scope() as session:
        number = make_ticket(session, phone=PHONE, sender_id="owner").number
        make_ticket(session, phone="13800001111", sender_id="other")
    new = generate_key()
    use_keys(monkeypatch, new, old)
    with session_scope() as session:  # a second key decrypts old rows, and lookups work before the rotation ran
        assert session.scalar(select(Ticket.contact_phone).where(Ticket.number == number)) == PHONE
        assert [t.number for t in my_tickets(session, "owner")] == [number]
    assert rotate_keys.main([]) == 0
    output = capsys.readouterr().out
    assert "ticket：重新加密 4 个值，重新计算 2 个哈希。" in output
    new_only = Keyring([new])
    for phone, name, phone_hash in stored(settings):
        assert new_only.decrypt(phone) in (PHONE, "13800001111") and new_only.decrypt(name) == "张三"
        assert phone_hash == new_only.keyed_hash("phone", new_only.decrypt(phone))
    use_keys(monkeypatch, new)  # the old key removed
    with session_scope() as session:
        assert session.scalar(select(Ticket.contact_phone).where(Ticket.number == number)) == PHONE
        assert [t.number for t in my_tickets(session, "owner")] == [number]
        assert lookup_ticket(session, "stranger", number, "1234").status is LookupStatus.FOUND
    assert rotate_keys.main([]) == 0  # a second run has nothing left to do
    output = capsys.readouterr().out
    assert "ticket：重新加密 0 个值，重新计算 0 个哈希。" in output


def test_rotation_without_a_key_that_encrypted_some_rows_changes_nothing(settings, monkeypatch, capsys):
    first = settings.data_key.reveal()
    with session_scope() as session:
        make_ticket(session, phone=PHONE)
    use_keys(monkeypatch, generate_key())
    with session_scope() as session:
        make_ticket(session, phone="13800001111")
    before = stored(settings)
    use_keys(monkeypatch, generate_key(), first)  # the first row rotates, the second's key is forgotten
    assert rotate_keys.main([]) == 1
    assert "没有改动任何数据" in capsys.readouterr().err
    assert stored(settings) == before
    with pytest.raises(DataKeyError):
        rotate_keys.rotate()


def test_generate_prints_a_fresh_key(capsys):
    assert rotate_keys.main(["--generate"]) == 0
    key = capsys.readouterr().out.strip()
    assert Keyring([key]).decrypt(Keyring([key]).encrypt("x")) == "x"
