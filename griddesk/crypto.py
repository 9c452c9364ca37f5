"""Encryption at rest: customer data (phones, names) encrypted in the database with keys from the
environment, found again through keyed hashes.

* Keys: ``GRIDDESK_DATA_KEY`` (read once by ``griddesk.settings``), one or more comma-separated Fernet
  keys: the first encrypts, every one decrypts (``MultiFernet``), so a new key can be added before the
  rows are re-encrypted by ``python -m ops.rotate_keys``. When no key is set, the key in
  ``$GRIDDESK_DATA_DIR/data.key`` is used, generated (mode 0600) on the first start — said in the log.
* :class:`EncryptedText`: a column type; models keep plain ``str`` attributes, the database holds
  Fernet tokens (AES-128-CBC + HMAC-SHA256, a random IV: the same phone encrypts differently each time).
  Comparing such a column in SQL could never match, so it raises ``TypeError``.
* :func:`keyed_hash_column`: a column beside an encrypted one holding HMAC-SHA256 of its value under a
  key derived (HKDF) from the *first* data key, filled on every insert and change of the value; lookups
  filter by it (:func:`keyed_hashes` gives every key's hash, so lookups keep working while a rotation
  is under way). Values with the same ``purpose`` hash alike across tables (a ticket's phone and a
  verified phone join). Hash the normalised value (``tickets.fields.normalize_phone``).

A new table reuses both::

    phone: Mapped[str] = mapped_column(EncryptedText())
    phone_hash: Mapped[str] = keyed_hash_column("phone", purpose="phone")

``python -m ops.rotate_keys`` re-encrypts and re-hashes every such column of every table it knows.
Bulk ``update()`` statements bypass the ORM: set the hash column yourself there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Text, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import MappedColumn, Mapper, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from griddesk.private import make_private_dir
from griddesk.settings import Settings, get_settings

KEY_FILE = "data.key"
HASH_INFO = b"griddesk keyed hash v1"
HASH_CHARS = 64
KEYED_HASH_OF = "keyed_hash_of"  # Column.info keys of a keyed hash column: the attribute it hashes …
KEYED_HASH_PURPOSE = "keyed_hash_purpose"  # … and the purpose (values of one purpose hash alike everywhere)

log = logging.getLogger(__name__)


class DataKeyError(RuntimeError):
    """No usable data key, or a stored value that none of the configured keys encrypted."""


UNREADABLE = (
    "无法解密已存储的客户信息：GRIDDESK_DATA_KEY（未设置时为数据目录中的 data.key）里没有加密它时所用的密钥。"
    "Cannot decrypt stored customer data: none of the keys in GRIDDESK_DATA_KEY (or data.key) encrypted it."
)


def generate_key() -> str:
    """A fresh random key in the format of ``GRIDDESK_DATA_KEY``."""
    return Fernet.generate_key().decode("ascii")


def keys_of(raw: str) -> list[str]:
    """The keys of a ``GRIDDESK_DATA_KEY`` value (or of ``data.key``): comma-separated, first first."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def _hash_key(key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HASH_INFO).derive(
        base64.urlsafe_b64decode(key.encode("ascii"))
    )


def _hmac(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, purpose.encode("utf-8") + b"\x00" + value.encode("utf-8"), hashlib.sha256).hexdigest()


class Keyring:
    """The data keys: the first encrypts and keys the hashes, every one decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError("no data key")
        try:
            self._fernets = [Fernet(key.encode("ascii")) for key in keys]
        except (ValueError, UnicodeEncodeError):
            raise DataKeyError("a data key is not a Fernet key (44 characters of URL-safe base64)") from None
        self._all = MultiFernet(self._fernets)
        self._hash_keys = [_hash_key(key) for key in keys]

    def encrypt(self, text: str) -> str:
        return self._all.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._all.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise DataKeyError(UNREADABLE) from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` was encrypted with the first key (nothing for a rotation to do)."""
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` decrypted with whichever key opens it and encrypted again with the first key."""
        try:
            return self._all.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise DataKeyError(UNREADABLE) from None

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of ``value`` (hex) under a key derived from the first key: what rows store."""
        return _hmac(self._hash_keys[0], purpose, value)

    def keyed_hashes(self, purpose: str, value: str) -> list[str]:
        """``value``'s hash under every key, the first key's first: what lookups match, so rows hashed
        before a rotation finished are still found."""
        found = [_hmac(key, purpose, value) for key in self._hash_keys]
        return list(dict.fromkeys(found))


# --- where the keys come from ----------------------------------------------------------------------


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def ensure_key_file(data_dir: Path, announce: bool = True) -> bool:
    """Write a fresh key to ``data_dir/data.key`` (0600, the folder 0700) unless it exists; True if written
    now (and, with ``announce``, said in the log). Atomic: of two processes starting at once, one key wins
    and both use it."""
    path = key_file(data_dir)
    if path.exists():
        return False
    make_private_dir(data_dir, tighten=True)
    fd, temporary = tempfile.mkstemp(prefix=".data.key.", dir=data_dir)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False  # another process wrote it first: its key is the one
    finally:
        os.unlink(temporary)
    if not announce:
        return True
    log.warning(
        "未设置 GRIDDESK_DATA_KEY：已生成数据加密密钥 %s（权限 0600）。请妥善备份，但不要和数据库备份放在一起；"
        "丢失它，已加密的客户信息将无法读取。No GRIDDESK_DATA_KEY set: generated the data key %s (mode 0600).",
        path,
        path,
    )
    return True


def _read_key_file(path: Path) -> list[str]:
    try:
        keys = keys_of(path.read_text(encoding="ascii"))
        Keyring(keys)
    except (OSError, UnicodeError, DataKeyError):
        raise DataKeyError(
            f"数据加密密钥文件 {path} 无法读取或内容无效。The data key file {path} is unreadable or not a Fernet key."
        ) from None
    return keys


def _load(raw: str, data_dir: Path) -> Keyring:
    configured = keys_of(raw)
    path = key_file(data_dir)
    if configured:
        if path.exists():
            try:
                forgotten = [key for key in _read_key_file(path) if key not in configured]
            except DataKeyError:
                forgotten = []
            if forgotten:
                log.warning(
                    "%s 中的密钥不在 GRIDDESK_DATA_KEY 里：用它加密的数据将无法读取。请把它加到 GRIDDESK_DATA_KEY "
                    "的末尾，运行 python -m ops.rotate_keys 之后再删除。The key in %s is not in GRIDDESK_DATA_KEY.",
                    path,
                    path,
                )
        return Keyring(configured)
    ensure_key_file(data_dir)
    return Keyring(_read_key_file(path))


def load_keyring(settings: Settings) -> Keyring:
    """The keys of ``settings``: ``GRIDDESK_DATA_KEY``, or else ``data.key`` (generated when missing)."""
    return _load(settings.data_key.reveal(), settings.data_dir)


@lru_cache(maxsize=8)
def _cached(raw: str, data_dir: Path) -> Keyring:
    return _load(raw, data_dir)


def get_keyring() -> Keyring:
    """The process's keyring, from the process settings (read once per key configuration)."""
    settings = get_settings()
    return _cached(settings.data_key.reveal(), settings.data_dir)


def keyed_hash(purpose: str, value: str) -> str:
    return get_keyring().keyed_hash(purpose, value)


def keyed_hashes(purpose: str, value: str) -> list[str]:
    return get_keyring().keyed_hashes(purpose, value)


# --- the column types ------------------------------------------------------------------------------


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the first data key on the way in, decrypted on the way out."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if operators.is_comparison(op) and op not in (operators.is_, operators.is_not):
                raise TypeError(
                    "an encrypted column never equals a value in SQL (its ciphertexts are random): "
                    "filter by its keyed hash column (e.g. phone_hash) instead"
                )
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            if operators.is_comparison(op):
                raise TypeError("an encrypted column never equals a value in SQL: filter by its keyed hash column")
            return super().reverse_operate(op, other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else get_keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else get_keyring().decrypt(value)


def keyed_hash_column(of: str, purpose: str, index: bool = True) -> MappedColumn[Any]:
    """A column holding the keyed hash of attribute ``of`` (filled by the ORM on insert and change)."""
    return mapped_column(String(HASH_CHARS), index=index, info={KEYED_HASH_OF: of, KEYED_HASH_PURPOSE: purpose})


_hashed_by_mapper: dict[Mapper[Any], list[tuple[str, str, str]]] = {}


def hashed_attributes(mapper: Mapper[Any]) -> list[tuple[str, str, str]]:
    """(hash attribute, source attribute, purpose) of every keyed hash column of ``mapper``."""
    found = _hashed_by_mapper.get(mapper)
    if found is None:
        found = [
            (key, column.info[KEYED_HASH_OF], column.info[KEYED_HASH_PURPOSE])
            for key, column in mapper.columns.items()
            if KEYED_HASH_OF in column.info
        ]
        _hashed_by_mapper[mapper] = found
    return found


def _hash(target: Any, attribute: str, source: str, purpose: str) -> None:
    value = getattr(target, source)
    setattr(target, attribute, None if value is None else keyed_hash(purpose, value))


def _before_insert(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    for attribute, source, purpose in hashed_attributes(mapper):
        _hash(target, attribute, source, purpose)


def _before_update(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    hashed = hashed_attributes(mapper)
    if not hashed:
        return
    state = inspect(target)
    for attribute, source, purpose in hashed:
        if state.attrs[source].history.has_changes():
            _hash(target, attribute, source, purpose)


event.listen(Mapper, "before_insert", _before_insert)
event.listen(Mapper, "before_update", _before_update)
