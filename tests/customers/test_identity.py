"""Identity verification: the embedding site's HMAC signature or HS256 token, checked with its secret(s).

The tokens here are built in the test itself from hmac, hashlib and base64 (no JWT library), so the
verifier is checked against the format, not against its own helper."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from customers.identity import (
    BadSignature,
    IdentityNotConfigured,
    MalformedIdentity,
    TokenExpired,
    VerifiedCustomer,
    canonical_string,
    make_token,
    sign_customer,
    verify_identity,
)
from griddesk.errors import DomainError

SECRET = "site-secret-2026-aaaaaaaa"
OLD_SECRET = "site-secret-2025-bbbbbbbb"
NOW = 1_800_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict, secret: str = SECRET, header: dict | None = None) -> str:
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims, ensure_ascii=False).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def hmac_hex(text: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


CLAIMS = {"sub": "u-1001", "name": "王先生", "phone": "13800138000", "region": "成都市武侯区", "tier": "key"}


def test_a_token_signed_with_the_sites_secret_gives_the_customer_it_names():
    token = jwt({**CLAIMS, "exp": NOW + 600})
    assert verify_identity({"customer_token": token}, [SECRET], NOW) == VerifiedCustomer(
        external_id="u-1001", name="王先生", phone="13800138000", region="成都市武侯区", tier="key"
    )


def test_the_signature_covers_id_name_phone_region_and_tier_one_per_line():
    assert canonical_string("u-1001", "王先生", "", "成都市武侯区", "key") == "u-1001\n王先生\n\n成都市武侯区\nkey"
    customer = {"id": "u-1001", "name": "王先生", "region": "成都市武侯区", "tier": "key"}
    signed = {**customer, "signature": hmac_hex("u-1001\n王先生\n\n成都市武侯区\nkey")}
    assert verify_identity({"customer": signed}, [SECRET], NOW) == VerifiedCustomer(
        external_id="u-1001", name="王先生", region="成都市武侯区", tier="key"
    )
    # upper-case hex is the same signature
    signed["signature"] = signed["signature"].upper()
    assert verify_identity({"customer": signed}, [SECRET], NOW) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"tier": "key"},  # the tier was not signed: added by the page
        {"region": "上海市浦东新区"},
        {"id": "u-1002"},
        {"signature": "0" * 64},
        {"signature": "not hex"},
    ],
)
def test_a_changed_field_breaks_the_signature(change):
    customer = {"id": "u-1001", "name": "王先生", "region": "成都市武侯区"}
    signed = {**customer, "signature": hmac_hex(canonical_string("u-1001", "王先生", "", "成都市武侯区", "")), **change}
    with pytest.raises(BadSignature):
        verify_identity({"customer": signed}, [SECRET], NOW)


@pytest.mark.parametrize(
    "token",
    [
        jwt({**CLAIMS, "exp": NOW + 600}, secret="another-site-secret-cccc"),
        jwt({**CLAIMS, "exp": NOW + 600})[:-4] + "AAAA",
        # the payload changed after signing (tier "general" → "key")
        ".".join(
            [
                jwt({**CLAIMS, "exp": NOW + 600}).split(".")[0],
                b64url(json.dumps({**CLAIMS, "tier": "key", "exp": NOW + 600}).encode()),
                jwt({**CLAIMS, "tier": "general", "exp": NOW + 600}).split(".")[2],
            ]
        ),
    ],
)
def test_a_token_not_signed_with_the_secret_is_refused(token):
    with pytest.raises(BadSignature):
        verify_identity({"customer_token": token}, [SECRET], NOW)


def test_an_expired_token_is_refused_after_a_minute_of_leeway():
    token = jwt({**CLAIMS, "exp": NOW - 30})
    assert verify_identity({"customer_token": token}, [SECRET], NOW) is not None
    with pytest.raises(TokenExpired):
        verify_identity({"customer_token": jwt({**CLAIMS, "exp": NOW - 61})}, [SECRET], NOW)
    with pytest.raises(TokenExpired):  # not valid yet
        verify_identity({"customer_token": jwt({**CLAIMS, "exp": NOW + 600, "nbf": NOW + 120})}, [SECRET], NOW)


@pytest.mark.parametrize(
    "token",
    [
        jwt({**CLAIMS}),  # no exp: a token must expire
        jwt({**CLAIMS, "exp": "tomorrow"}),
        jwt({**CLAIMS, "exp": True}),
        jwt({"name": "王先生", "exp": NOW + 600}),  # no sub
        jwt({**CLAIMS, "sub": 1001, "exp": NOW + 600}),
        jwt({**CLAIMS, "sub": "", "exp": NOW + 600}),
        jwt({**CLAIMS, "sub": "u\n1", "exp": NOW + 600}),
        jwt({**CLAIMS, "exp": NOW + 600}, header={"alg": "none", "typ": "JWT"}),
        jwt({**CLAIMS, "exp": NOW + 600}, header={"alg": "HS512"}),
        jwt({**CLAIMS, "exp": NOW + 600}, header={"alg": "HS256", "crit": ["x"]}),
        "a.b",
        "!!!.###.$$$",
        "x" * 5000,
        12345,
    ],
)
def test_malformed_tokens_and_other_algorithms_are_refused(token):
    with pytest.raises(MalformedIdentity):
        verify_identity({"customer_token": token}, [SECRET], NOW)


def test_an_alg_none_token_without_a_signature_is_refused():
    head = b64url(b'{"alg":"none","typ":"JWT"}')
    body = b64url(json.dumps({**CLAIMS, "exp": NOW + 600}).encode())
    with pytest.raises(MalformedIdentity):
        verify_identity({"customer_token": f"{head}.{body}."}, [SECRET], NOW)


def test_the_previous_secret_still_verifies_during_a_rotation():
    token = jwt({**CLAIMS, "exp": NOW + 600}, secret=OLD_SECRET)
    assert verify_identity({"customer_token": token}, [SECRET, OLD_SECRET], NOW) is not None
    with pytest.raises(BadSignature):
        verify_identity({"customer_token": token}, [SECRET], NOW)


def test_attributes_are_cleaned_and_an_unknown_tier_is_dropped():
    token = jwt({"sub": " u-1 ", "name": "  王" + "名" * 100, "tier": "vip", "region": "", "exp": NOW + 60})
    customer = verify_identity({"customer_token": token}, [SECRET], NOW)
    assert customer is not None
    assert customer.external_id == " u-1 "  # the id is exactly what the site signed
    assert customer.name == ("王" + "名" * 100)[:64] and customer.tier is None and customer.region is None


def test_nothing_claimed_is_anonymous_and_a_claim_without_a_secret_is_refused():
    assert verify_identity(None, [SECRET], NOW) is None
    assert verify_identity({"customer": {"region": "成都市武侯区", "tier": "key"}}, [SECRET], NOW) is None
    assert verify_identity({"customer": "u-1"}, [SECRET], NOW) is None
    with pytest.raises(IdentityNotConfigured):
        verify_identity({"customer_token": jwt({**CLAIMS, "exp": NOW + 600})}, [], NOW)


def test_refusals_are_domain_errors_with_codes():
    for error in (BadSignature, TokenExpired, MalformedIdentity, IdentityNotConfigured):
        assert issubclass(error, DomainError) and error.code.startswith("identity_")


def test_the_helpers_make_what_the_verifier_accepts():
    token = make_token(SECRET, {**CLAIMS, "exp": int(NOW) + 60})
    assert verify_identity({"customer_token": token}, [SECRET], NOW) is not None
    signature = sign_customer(SECRET, "u-1001", name="王先生", tier="key")
    assert signature == hmac_hex("u-1001\n王先生\n\n\nkey")


def test_the_tiers_are_the_customer_groups_grids_are_cut_along():
    from customers.identity import TIERS
    from grids.models import CustomerTier

    assert {str(tier) for tier in CustomerTier} == TIERS
