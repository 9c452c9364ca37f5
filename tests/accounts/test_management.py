"""Account management: the rules for usernames, display names, roles and passwords, and how passwords are stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.errors import InvalidAccountData, UsernameTaken, WeakPassword
from accounts.management import create_account
from accounts.models import Account, Role
from tests.accounts.conftest import PASSWORD, make_staff


@pytest.mark.parametrize("username", ["ab", "Zhang Wei", "张伟", "a" * 65, "bad/name", ""])
def test_usernames_outside_lowercase_letters_digits_dot_dash_underscore_3_to_64_are_refused(db, username):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, username, "张伟", Role.AGENT, PASSWORD)
    assert info.value.field == "username"


@pytest.mark.parametrize("name", ["", "   ", "名" * 65, "张\n伟"])
def test_display_names_must_have_1_to_64_printable_characters(db, name):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, "zhang.wei", name, Role.AGENT, PASSWORD)
    assert info.value.field == "display_name"


def test_a_password_shorter_than_10_characters_or_only_spaces_is_refused(db):
    with pytest.raises(WeakPassword, match="10"):
        create_account(db, "zhang.wei", "张伟", Role.AGENT, "123456789")
    with pytest.raises(WeakPassword):
        create_account(db, "zhang.wei", "张伟", Role.AGENT, " " * 12)
    assert db.scalar(select(func.count(Account.id))) == 0


def test_an_unknown_role_is_refused(db):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, "zhang.wei", "张伟", "boss", PASSWORD)
    assert info.value.field == "role"


def test_a_username_is_taken_only_once_whatever_its_case(db):
    make_staff(db)
    with pytest.raises(UsernameTaken):
        create_account(db, "Zhang.Wei", "另一个张伟", Role.AGENT, PASSWORD)


def test_the_password_is_stored_only_as_an_argon2id_hash(db):
    account = make_staff(db)
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
