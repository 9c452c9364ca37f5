"""Encryption at rest: the keyring (several keys, the first encrypts), keyed hashes, the key file used
when no key is configured, the encrypted column type and masking."""

from __future__ import annotations

import logging
import stat

import pytest
from sqlalchemy import String, create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from griddesk import crypto
from griddesk.crypto import DataKeyError, EncryptedText, Keyring, generate_key, keyed_hash_column
from griddesk.masking import mask_name, mask_phone
from griddesk.settings import SettingsError, get_settings, load_settings

OLD, NEW = (
    "gBcfuDW04ZtraDMjh6WdFfIt477gNpe1dGV4z_Rnpsk=",
    "HmUteevPUd0IRmDD-6C8chSCV_Ox3CU1QO-YSP7JuyM=",
)  # fixed: test ids


def test_generated_keys_are_fresh_fernet_keys():
    first, second = generate_key(), generate_key()
    assert first != second and Keyring([first]).decrypt(Keyring([first]).encrypt("x")) == "x"


def test_a_keyring_encrypts_with_randomised_tokens_and_decrypts_them():
    keyring = Keyring([OLD])
    first, second = keyring.encrypt("13800138000"), keyring.encrypt("13800138000")
    assert first != second and "13800138000" not in first + second
    assert keyring.decrypt(first) == keyring.decrypt(second) == "13800138000"
    assert keyring.decrypt(keyring.encrypt("欧阳娜娜")) == "欧阳娜娜"


def test_the_first_key_encrypts_and_every_key_decrypts():
    token = Keyring([OLD]).encrypt("13800138000")
    rotated = Keyring([NEW, OLD])
    assert rotated.decrypt(token) == "13800138000"  # an old row still reads after a new key is added
    assert Keyring([NEW]).decrypt(rotated.encrypt("x")) == "x"  # new rows use the new (first) key
    fresh = rotated.rotate(token)
    assert Keyring([NEW]).decrypt(fresh) == "13800138000"  # re-encrypted under the first key


def test_a_token_no_key_opened_raises_a_clear_error():
    token = Keyring([OLD]).encrypt("13800138000")
    with pytest.raises(DataKeyError, match="GRIDDESK_DATA_KEY") as info:
        Keyring([NEW]).decrypt(token)
    assert "无法解密" in str(info.value)


def test_keyed_hashes_are_stable_per_purpose_and_derived_from_the_first_key():
    keyring = Keyring([OLD])
    assert keyring.keyed_hash("phone", "13800138000") == Keyring([OLD, NEW]).keyed_hash("phone", "13800138000")
    assert len(keyring.keyed_hash("phone", "13800138000")) == 64
    assert keyring.keyed_hash("phone", "13800138000") != keyring.keyed_hash("phone", "13800138001")
    assert keyring.keyed_hash("phone", "13800138000") != keyring.keyed_hash("name", "13800138000")
    assert Keyring([NEW, OLD]).keyed_hash("phone", "1") != keyring.keyed_hash("phone", "1")  # a new first key
    # every key's hash, the first key's first: lookups still match rows hashed before a rotation finished
    assert Keyring([NEW, OLD]).keyed_hashes("phone", "1") == [
        Keyring([NEW]).keyed_hash("phone", "1"),
        keyring.keyed_hash("phone", "1"),
    ]


def test_settings_read_several_comma_separated_keys_as_a_secret(tmp_path):
    settings = load_settings({"GRIDDESK_DATA_DIR": str(tmp_path), "GRIDDESK_DATA_KEY": f" {NEW} , {OLD} "})
    assert NEW not in repr(settings) and crypto.keys_of(settings.data_key.reveal()) == [NEW, OLD]


@pytest.mark.parametrize("raw", ["not-a-key", "c2hvcnQ=", f"{NEW},,oops"], ids=["garbage", "short", "empty-part"])
def test_settings_refuse_a_malformed_data_key_without_showing_it(raw):
    with pytest.raises(SettingsError, match="GRIDDESK_DATA_KEY") as info:
        load_settings({"GRIDDESK_DATA_KEY": raw})
    assert raw not in str(info.value)


def test_without_a_configured_key_one_is_generated_into_the_data_dir_once(tmp_path, caplog):
    data_dir = tmp_path / "var"
    settings = load_settings({"GRIDDESK_DATA_DIR": str(data_dir)})
    with caplog.at_level(logging.WARNING, logger="griddesk.crypto"):
        keyring = crypto.load_keyring(settings)
    path = data_dir / "data.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert "data.key" in caplog.text and "GRIDDESK_DATA_KEY" in caplog.text
    caplog.clear()
    again = crypto.load_keyring(settings)  # the next start reads the same key back
    assert again.decrypt(keyring.encrypt("13800138000")) == "13800138000"
    assert "data.key" not in caplog.text
    assert path.read_text("ascii").strip() in crypto.keys_of(path.read_text("ascii"))


def test_a_configured_key_wins_over_the_key_file_and_a_forgotten_file_key_is_warned_about(tmp_path, caplog):
    (tmp_path / "data.key").write_text(OLD + "\n", encoding="ascii")
    settings = load_settings({"GRIDDESK_DATA_DIR": str(tmp_path), "GRIDDESK_DATA_KEY": NEW})
    with caplog.at_level(logging.WARNING, logger="griddesk.crypto"):
        keyring = crypto.load_keyring(settings)
    assert Keyring([NEW]).decrypt(keyring.encrypt("x")) == "x"
    assert "data.key" in caplog.text  # rows written with the file's key would no longer read
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="griddesk.crypto"):
        crypto.load_keyring(load_settings({"GRIDDESK_DATA_DIR": str(tmp_path), "GRIDDESK_DATA_KEY": f"{NEW},{OLD}"}))
    assert caplog.text == ""


def test_a_damaged_key_file_is_refused_with_its_path(tmp_path):
    (tmp_path / "data.key").write_text("garbage\n", encoding="ascii")
    with pytest.raises(DataKeyError, match=r"data\.key"):
        crypto.load_keyring(load_settings({"GRIDDESK_DATA_DIR": str(tmp_path)}))


# --- the column types ----------------------------------------------------------------------------


class _Base(DeclarativeBase):
    pass


class Person(_Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(EncryptedText())
    phone_hash: Mapped[str] = keyed_hash_column("phone", purpose="phone")
    nickname: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    label: Mapped[str] = mapped_column(String(16), default="")


@pytest.fixture
def people(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_DATA_KEY", OLD)
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    engine = create_engine(f"sqlite:///{tmp_path / 'p.db'}")
    _Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_an_encrypted_column_stores_ciphertext_and_reads_plain_text_with_its_keyed_hash(people):
    with Session(people) as session:
        session.add(Person(phone="13800138000", nickname="欧阳娜娜"))
        session.add(Person(phone="13900139000"))
        session.commit()
    with people.connect() as connection:
        rows = connection.execute(text("SELECT phone, phone_hash, nickname FROM person ORDER BY id")).all()
    assert "13800138000" not in rows[0].phone and "欧阳" not in rows[0].nickname and rows[1].nickname is None
    assert rows[0].phone_hash == crypto.keyed_hash("phone", "13800138000")
    with Session(people) as session:
        found = session.scalar(select(Person).where(Person.phone_hash == crypto.keyed_hash("phone", "13800138000")))
        assert found is not None and (found.phone, found.nickname) == ("13800138000", "欧阳娜娜")
        found.phone = "13700137000"  # a changed value gets a fresh hash
        session.commit()
    with people.connect() as connection:
        assert connection.execute(text("SELECT phone_hash FROM person WHERE id = 1")).scalar() == crypto.keyed_hash(
            "phone", "13700137000"
        )


def test_an_encrypted_column_refuses_comparisons_that_could_never_match(people):
    with pytest.raises(TypeError, match=r"phone_hash|keyed hash"):
        select(Person).where(Person.phone == "13800138000")
    with pytest.raises(TypeError):
        select(Person).where(Person.phone.in_(["13800138000"]))
    select(Person).where(Person.nickname.is_(None))  # NULL checks stay allowed


# --- masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone, masked",
    [("13800138000", "138****8000"), ("02885551234", "028****1234"), ("0105551234", "010***1234"), ("1234", "****")],
)
def test_phones_are_masked_to_their_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王", "*"), ("", "")])
def test_names_keep_only_their_first_character(name, masked):
    assert mask_name(name) == masked
