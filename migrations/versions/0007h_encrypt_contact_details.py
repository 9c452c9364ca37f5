"""encrypt contact details at rest: ticket phones and names (+ keyed hashes)

Revision ID: 0007h
Revises: 0007a
Create Date: 2026-11-24 09:00:00

Every existing row is encrypted with the first data key (``GRIDDESK_DATA_KEY``, else ``data.key`` in the
data directory, generated now if missing) and its phone hashed beside it.

``ticket`` is referenced by ``ticket_event`` and ``alert``: SQLite cannot rebuild a referenced table
inside the migration's transaction (the DROP of the old table fails the foreign keys), so its columns
are added, filled, dropped and renamed in place (``ALTER TABLE … DROP/RENAME COLUMN``: SQLite 3.35+).
Columns added in place must have a default to be NOT NULL; the ``''`` default is never used (the ORM
always writes the value). (``ticket_verified_phone`` is gone since 0007a: per-ticket access grants replaced it.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from griddesk.crypto import get_keyring

revision = "0007h"
down_revision = "0007a"
branch_labels = None
depends_on = None

PHONE = "phone"  # tickets.models.PHONE: the keyed-hash purpose of contact phones


def _rename(table: str, old: str, new: str) -> None:
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")


def upgrade() -> None:
    keyring = get_keyring()
    bind = op.get_bind()

    op.drop_index("ix_ticket_contact_phone", table_name="ticket")
    op.add_column("ticket", sa.Column("contact_phone_enc", sa.Text(), nullable=False, server_default=""))
    op.add_column("ticket", sa.Column("contact_name_enc", sa.Text(), nullable=False, server_default=""))
    op.add_column("ticket", sa.Column("contact_phone_hash", sa.String(length=64), nullable=False, server_default=""))
    rows = bind.execute(sa.text("SELECT id, contact_phone, contact_name FROM ticket")).all()
    for ticket_id, phone, name in rows:
        bind.execute(
            sa.text(
                "UPDATE ticket SET contact_phone_enc = :phone, contact_name_enc = :name, contact_phone_hash = :hash "
                "WHERE id = :id"
            ),
            {
                "phone": keyring.encrypt(phone),
                "name": keyring.encrypt(name),
                "hash": keyring.keyed_hash(PHONE, phone),
                "id": ticket_id,
            },
        )
    op.drop_column("ticket", "contact_phone")
    op.drop_column("ticket", "contact_name")
    _rename("ticket", "contact_phone_enc", "contact_phone")
    _rename("ticket", "contact_name_enc", "contact_name")
    op.create_index("ix_ticket_contact_phone_hash", "ticket", ["contact_phone_hash"], unique=False)


def downgrade() -> None:
    keyring = get_keyring()
    bind = op.get_bind()

    op.drop_index("ix_ticket_contact_phone_hash", table_name="ticket")
    op.add_column("ticket", sa.Column("contact_phone_clear", sa.String(length=32), nullable=False, server_default=""))
    op.add_column("ticket", sa.Column("contact_name_clear", sa.String(length=64), nullable=False, server_default=""))
    for ticket_id, phone, name in bind.execute(sa.text("SELECT id, contact_phone, contact_name FROM ticket")).all():
        bind.execute(
            sa.text("UPDATE ticket SET contact_phone_clear = :phone, contact_name_clear = :name WHERE id = :id"),
            {"phone": keyring.decrypt(phone), "name": keyring.decrypt(name), "id": ticket_id},
        )
    for column in ("contact_phone_hash", "contact_phone", "contact_name"):
        op.drop_column("ticket", column)
    _rename("ticket", "contact_phone_clear", "contact_phone")
    _rename("ticket", "contact_name_clear", "contact_name")
    op.create_index("ix_ticket_contact_phone", "ticket", ["contact_phone"], unique=False)
