"""The customer record: one per verified id, across devices and channels; conversations link to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select

from conversations.transcript import get_or_create_conversation
from customers.identity import VerifiedCustomer
from customers.models import Customer
from customers.service import bot_facts, identify, remember
from griddesk.crypto import get_keyring
from griddesk.db import make_engine, session_scope
from ops.setup_db import alembic_config

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WANG = VerifiedCustomer(external_id="u-1001", name="王先生", phone="13800138000", region="成都市武侯区", tier="key")


def test_a_verified_customer_is_remembered_once_and_kept_up_to_date(settings):
    with session_scope() as session:
        first = remember(session, WANG, T0)
        again = remember(session, VerifiedCustomer(external_id="u-1001", tier="general"), T0 + timedelta(hours=1))
        assert again.id == first.id
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        # what the site signed this time wins; what it left out is kept
        assert (again.name, again.phone, again.region, again.tier) == (
            "王先生",
            "13800138000",
            "成都市武侯区",
            "general",
        )
        assert again.first_seen_at == T0 and again.last_seen_at == T0 + timedelta(hours=1)


def test_two_devices_with_the_same_verified_id_share_one_customer(settings):
    with session_scope() as session:
        phone = get_or_create_conversation(session, "device-phone", "rest")
        laptop = get_or_create_conversation(session, "device-laptop", "socketio")
        a = identify(session, phone, WANG, T0)
        b = identify(session, laptop, WANG, T0)
        assert a is not None and b is not None and a.id == b.id
        assert phone.customer_id == laptop.customer_id == a.id
        assert phone.profile == {
            "name": "王先生",
            "phone": "13800138000",
            "region": "成都市武侯区",
            "tier": "key",
            "verified": True,
        }


def test_a_linked_conversation_stays_verified_without_the_proof_on_every_message(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "c1")
        customer = identify(session, conversation, WANG, T0)
        later = identify(session, conversation, None, T0 + timedelta(minutes=5))
        assert later is not None and customer is not None and later.id == customer.id
        assert later.last_seen_at == T0 + timedelta(minutes=5)


def test_another_customers_proof_on_a_linked_conversation_is_not_trusted(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "shared-browser")
        wang = identify(session, conversation, WANG, T0)
        other = identify(session, conversation, VerifiedCustomer(external_id="u-2002", tier="general"), T0)
        assert other is None  # anonymous for this message: neither customer's attributes are used
        assert wang is not None and conversation.customer_id == wang.id and conversation.profile["tier"] == "key"


def test_the_facts_for_the_bot_name_the_record_and_its_verified_attributes(settings):
    with session_scope() as session:
        customer = remember(session, VerifiedCustomer(external_id="u-1", region="成都市武侯区"), T0)
        assert bot_facts(customer) == {"id": customer.id, "external_id": "u-1", "region": "成都市武侯区"}
    assert bot_facts(None) == {}  # anonymous


def test_the_migration_drops_the_unverified_tier_and_region_of_existing_conversations(fresh_database_url):
    url = fresh_database_url
    config = alembic_config(url)
    command.upgrade(config, "0006")
    engine = make_engine(url)
    conversation = sa.table("conversation", sa.column("sender_id"), sa.column("profile", sa.JSON), sa.column("id"))
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO conversation (sender_id, channel, owner, last_seq, delivered_seq, profile, created_at,"
                " updated_at) VALUES ('old', 'rest', 'bot', 0, 0, :profile, :now, :now)"
            ),
            {"profile": '{"region": "成都市武侯区", "tier": "key", "name": "王先生"}', "now": T0.isoformat()},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        profile = connection.execute(select(conversation.c.profile)).scalar_one()
    engine.dispose()
    assert profile == {"name": "王先生"}


def test_the_record_keeps_no_name_or_phone_in_clear_and_reads_them_back(settings):
    with session_scope() as session:
        remember(session, WANG, T0)
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        name, phone = connection.execute(sa.text("SELECT name, phone FROM customer")).one()
    engine.dispose()
    assert "王先生" not in name and "13800138000" not in phone and "38000" not in phone
    with session_scope() as session:
        record = session.scalars(select(Customer)).one()
        assert (record.name, record.phone) == ("王先生", "13800138000")


def test_the_migration_encrypts_existing_records_and_its_downgrade_decrypts_them(fresh_database_url):
    url = fresh_database_url
    config = alembic_config(url)
    command.upgrade(config, "0008s")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (external_id, name, phone, region, tier, first_seen_at, last_seen_at)"
                " VALUES ('u-1', '王先生', '13800138000', '成都市武侯区', 'key', :now, :now),"
                " ('u-2', NULL, NULL, NULL, NULL, :now, :now)"
            ),
            {"now": T0.isoformat()},
        )
    command.upgrade(config, "0008e")
    read = "SELECT name, phone FROM customer ORDER BY external_id"
    with engine.connect() as connection:
        [(name, phone), empty] = connection.execute(sa.text(read)).all()
    assert "王先生" not in name and "13800138000" not in phone and tuple(empty) == (None, None)
    assert get_keyring().decrypt(phone) == "13800138000"
    command.downgrade(config, "0008s")
    with engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(sa.text(read))] == [("王先生", "13800138000"), (None, None)]
    engine.dispose()
