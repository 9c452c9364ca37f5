"""encrypt the customer record at rest: a verified customer's name and phone

Revision ID: 0008e
Revises: 0008s
Create Date: 2026-12-07 06:20:00

Every existing row is encrypted with the first data key (``GRIDDESK_DATA_KEY``, else ``data.key`` in the
data directory). As in 0007h, the columns are added, filled, dropped and renamed in place.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from griddesk.crypto import get_keyring

revision = "0008e"
down_revision = "0008s"
branch_labels = None
depends_on = None

# the clear columns of 0007d, and their lengths
CLEAR = {"name": 64, "phone": 32}


def _convert(column_type: Callable[[str], sa.types.TypeEngine[str]], convert: Callable[[str], str]) -> None:
    """Each column through ``convert`` into a new column of ``column_type(name)`` that then takes its name."""
    bind = op.get_bind()
    for name in CLEAR:
        op.add_column("customer", sa.Column(f"{name}_new", column_type(name), nullable=True))
    for row in bind.execute(sa.text(f"SELECT id, {', '.join(CLEAR)} FROM customer")).all():
        values = {f"{name}_new": None if value is None else convert(value) for name, value in zip(CLEAR, row[1:])}
        sets = ", ".join(f"{name} = :{name}" for name in values)
        bind.execute(sa.text(f"UPDATE customer SET {sets} WHERE id = :id"), {**values, "id": row[0]})
    for name in CLEAR:
        op.drop_column("customer", name)
        op.execute(f"ALTER TABLE customer RENAME COLUMN {name}_new TO {name}")


def upgrade() -> None:
    _convert(lambda _name: sa.Text(), get_keyring().encrypt)


def downgrade() -> None:
    _convert(lambda name: sa.String(length=CLEAR[name]), get_keyring().decrypt)
