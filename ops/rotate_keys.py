"""``python -m ops.rotate_keys``: re-encrypt every encrypted value with the first data key and re-hash
every keyed hash column under the key derived from it, in one transaction (all or nothing).

Key rotation (README, "Encryption at rest"): put a new key *first* in ``GRIDDESK_DATA_KEY`` (or in
``data.key``), keeping the old one after it (``--generate`` prints a new key); restart; run this
command; then remove the old key and restart again. Every table of every feature with an
``EncryptedText`` or keyed hash column (``griddesk.crypto``) is covered; run it again any time: values
already under the first key and hashes already right are left alone.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Connection, MetaData, Table

from griddesk.crypto import (
    KEYED_HASH_OF,
    KEYED_HASH_PURPOSE,
    DataKeyError,
    EncryptedText,
    Keyring,
    generate_key,
    get_keyring,
)
from griddesk.db import Base, get_engine

BATCH = 500


@dataclass(frozen=True)
class Protected:
    """A table's encrypted columns and its keyed hash columns (hash column, source column, purpose)."""

    table: Table
    encrypted: list[Column[Any]]
    hashed: list[tuple[Column[Any], Column[Any], str]]


@dataclass(frozen=True)
class Rotated:
    table: str
    reencrypted: int
    rehashed: int

    def line(self) -> str:
        return f"{self.table}：重新加密 {self.reencrypted} 个值，重新计算 {self.rehashed} 个哈希。"


def _register_every_model() -> None:
    import accounts.models  # noqa: F401 - registers tables on Base.metadata
    import conversations.models  # noqa: F401
    import customers.models  # noqa: F401
    import grids.models  # noqa: F401
    import handoff.models  # noqa: F401
    import knowledge_base.models  # noqa: F401
    import tickets.models  # noqa: F401


def protected_tables(metadata: MetaData) -> list[Protected]:
    """Every table with encrypted or keyed hash columns (a hash names its source by column name)."""
    found = []
    for table in metadata.sorted_tables:
        encrypted = [column for column in table.columns if isinstance(column.type, EncryptedText)]
        hashed = [
            (column, table.columns[column.info[KEYED_HASH_OF]], str(column.info[KEYED_HASH_PURPOSE]))
            for column in table.columns
            if KEYED_HASH_OF in column.info
        ]
        if encrypted or hashed:
            found.append(Protected(table, encrypted, hashed))
    return found


def _raw(column: Column[Any]) -> Any:
    """The column as stored (a ciphertext stays a ciphertext)."""
    return sa.type_coerce(column, sa.Text()).label(column.name)


def rotate_table(connection: Connection, keyring: Keyring, protected: Protected) -> Rotated:
    table = protected.table
    [key] = list(table.primary_key.columns)
    sources = {source.name: source for _, source, _ in protected.hashed}
    columns = {c.name: c for c in [*protected.encrypted, *sources.values(), *(h for h, _, _ in protected.hashed)]}
    reencrypted = rehashed = 0
    last: Any = None
    while True:
        page = sa.select(key.label("_key"), *(_raw(c) for c in columns.values())).order_by(key).limit(BATCH)
        rows = connection.execute(page if last is None else page.where(key > last)).mappings().all()
        if not rows:
            break
        for row in rows:
            last = row["_key"]
            changes: dict[str, str | None] = {}
            for column in protected.encrypted:
                token = row[column.name]
                if token is not None and not keyring.is_current(token):
                    changes[column.name] = keyring.rotate(token)
                    reencrypted += 1
            for hash_column, source, purpose in protected.hashed:
                value = row[source.name]
                if value is not None and isinstance(source.type, EncryptedText):
                    value = keyring.decrypt(value)
                wanted = None if value is None else keyring.keyed_hash(purpose, value)
                if row[hash_column.name] != wanted:
                    changes[hash_column.name] = wanted
                    rehashed += 1
            if changes:
                stored = {table.columns[name]: sa.literal(value, sa.Text()) for name, value in changes.items()}
                connection.execute(sa.update(table).where(key == row["_key"]).values(stored))
    return Rotated(table.name, reencrypted, rehashed)


def rotate(metadata: MetaData | None = None) -> list[Rotated]:
    """Re-encrypt and re-hash every protected table of ``metadata`` (default: every model's)."""
    if metadata is None:
        _register_every_model()
        metadata = Base.metadata
    keyring = get_keyring()
    with get_engine().begin() as connection:
        return [rotate_table(connection, keyring, protected) for protected in protected_tables(metadata)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.rotate_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--generate", action="store_true", help="print a new random key and change nothing")
    args = parser.parse_args(argv)
    if args.generate:
        print(generate_key())
        return 0
    try:
        done = rotate()
    except DataKeyError as exc:
        print(
            f"{exc}\n没有改动任何数据：请把加密这些数据时所用的旧密钥留在 GRIDDESK_DATA_KEY 中再运行。", file=sys.stderr
        )
        return 1
    for rotated in done:
        print(rotated.line())
    print("完成：所有数据已由第一个密钥加密。确认服务正常后，即可从 GRIDDESK_DATA_KEY（或 data.key）中删除旧密钥。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
