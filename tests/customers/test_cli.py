"""python -m customers: what the embedding site's server makes, for trying the set-up and for the demo."""

from __future__ import annotations

import time

import pytest

from customers.__main__ import main
from customers.identity import TokenExpired, VerifiedCustomer, verify_identity
from griddesk.settings import get_settings

SECRET = "site-secret-2026-aaaaaaaa"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GRIDDESK_IDENTITY_SECRET", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_token_prints_a_token_the_gateway_accepts_for_the_hours_asked(secret, capsys):
    assert main(["token", "--id", "demo-1", "--region", "成都市武侯区", "--tier", "key", "--hours", "2"]) == 0
    token = capsys.readouterr().out.strip()
    assert verify_identity({"customer_token": token}, [SECRET], time.time()) == VerifiedCustomer(
        external_id="demo-1", region="成都市武侯区", tier="key"
    )
    with pytest.raises(TokenExpired):
        verify_identity({"customer_token": token}, [SECRET], time.time() + 2 * 3600 + 120)


def test_sign_prints_the_hmac_signature_of_the_fields(secret, capsys):
    assert main(["sign", "--id", "demo-1", "--name", "王先生", "--tier", "key"]) == 0
    signature = capsys.readouterr().out.strip()
    customer = {"id": "demo-1", "name": "王先生", "tier": "key", "signature": signature}
    assert verify_identity({"customer": customer}, [SECRET], time.time()) is not None


def test_without_a_secret_it_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("GRIDDESK_IDENTITY_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["token", "--id", "demo-1"]) == 1
    finally:
        get_settings.cache_clear()
    assert "GRIDDESK_IDENTITY_SECRET" in capsys.readouterr().err


def test_an_unknown_tier_is_refused(secret, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--id", "demo-1", "--tier", "vip"])
    assert exit_info.value.code == 2
