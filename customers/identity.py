"""Identity verification (DESIGN.md "Customer identity"): the embedding site's server vouches for a customer.

A customer is anonymous unless a message's metadata carries one of two proofs made with the site's
secret (``GRIDDESK_IDENTITY_SECRET``; during a rotation also ``GRIDDESK_IDENTITY_SECRET_PREVIOUS``):

- ``metadata.customer = {"id", "name"?, "phone"?, "region"?, "tier"?, "signature"}``: ``signature`` is the
  hex HMAC-SHA256, under the secret, of :func:`canonical_string` — the five fields in that order, one per
  line (``id\\nname\\nphone\\nregion\\ntier``, a missing field as an empty line), UTF-8. Every field the
  page sends is covered: change one and the signature no longer matches. It does not expire.
- ``metadata.customer_token``: a JWT (RFC 7519) signed with HS256 under the secret, claims ``sub`` (the
  customer id), ``exp`` (required), ``nbf``?, ``name``?, ``phone``?, ``region``?, ``tier``?.

:func:`verify_identity` returns the :class:`VerifiedCustomer` or raises an :class:`IdentityRejected`;
nothing claimed is ``None``. Only what it returns may drive routing, priority and pre-fill.
No HTTP and no database here; :mod:`customers.service` keeps the record.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from griddesk.errors import DomainError

# The metadata key under which the gateway passes the verified customer to Rasa (and so to the actions).
# The gateway always writes it — {} for an anonymous customer — so a client can never supply it.
BOT_METADATA_KEY = "griddesk_customer"
# what a client sends: the signed customer object, or the token
CUSTOMER_KEY = "customer"
TOKEN_KEY = "customer_token"

TIERS = frozenset({"general", "key", "prospect"})  # DOMAIN.md customer groups (grids.models.CustomerTier)
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 64
MAX_PHONE_CHARS = 32
MAX_REGION_CHARS = 64
MAX_TOKEN_CHARS = 4096
LEEWAY_SECONDS = 60  # clocks of the site and the gateway may differ this much
FIELDS = ("id", "name", "phone", "region", "tier")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class IdentityRejected(DomainError):
    """A customer identity was claimed but cannot be trusted; the customer stays anonymous."""

    code = "identity_rejected"


class BadSignature(IdentityRejected):
    code = "identity_bad_signature"


class TokenExpired(IdentityRejected):
    code = "identity_expired"


class MalformedIdentity(IdentityRejected):
    code = "identity_malformed"


class IdentityNotConfigured(IdentityRejected):
    """An identity was sent, but the gateway has no secret to check it with."""

    code = "identity_not_configured"


@dataclass(frozen=True)
class VerifiedCustomer:
    """A customer the site vouched for: its own id for them, and the attributes it signed."""

    external_id: str
    name: str | None = None
    phone: str | None = None
    region: str | None = None
    tier: str | None = None


def canonical_string(
    external_id: str, name: str | None = "", phone: str | None = "", region: str | None = "", tier: str | None = ""
) -> str:
    """What the HMAC signature covers: id, name, phone, region, tier — one per line, missing = empty."""
    return "\n".join(value or "" for value in (external_id, name, phone, region, tier))


def _hmac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def sign_customer(
    secret: str,
    external_id: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    region: str | None = None,
    tier: str | None = None,
) -> str:
    """The ``signature`` of ``metadata.customer`` (what the site's server computes; used by tests and the CLI)."""
    return _hmac(secret, canonical_string(external_id, name, phone, region, tier)).hex()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(secret: str, claims: Mapping[str, Any]) -> str:
    """An HS256 JWT carrying ``claims`` (what the site's server makes; used by tests and the CLI)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(dict(claims), ensure_ascii=False, separators=(",", ":")).encode())
    signature = _hmac(secret, f"{header}.{payload}")
    return f"{header}.{payload}.{_b64url(signature)}"


# --- verification -----------------------------------------------------------------------------------


def verify_identity(metadata: Mapping[str, Any] | None, secrets: Sequence[str], now: float) -> VerifiedCustomer | None:
    """The customer a message's metadata proves, None when it claims nobody; raises IdentityRejected.

    ``secrets``: the current secret first, then one being retired; ``now``: Unix seconds.
    """
    if not isinstance(metadata, Mapping):
        return None
    token = metadata.get(TOKEN_KEY)
    customer = metadata.get(CUSTOMER_KEY)
    signed = isinstance(customer, Mapping) and "signature" in customer
    if token is None and not signed:
        return None
    if not secrets:
        raise IdentityNotConfigured("未配置身份验证密钥，客户身份无法验证。")
    if token is not None:
        return _verify_token(token, secrets, now)
    assert isinstance(customer, Mapping)
    return _verify_signed(customer, secrets)


def _verify_signed(customer: Mapping[str, Any], secrets: Sequence[str]) -> VerifiedCustomer:
    values = {name: customer.get(name) for name in FIELDS}
    if not all(value is None or isinstance(value, str) for value in values.values()):
        raise MalformedIdentity("客户身份字段必须是文字。")
    external_id = _external_id(values["id"])
    for value in values.values():
        if value and _CONTROL.search(value):
            raise MalformedIdentity("客户身份字段中含有控制字符。")
    signature = customer.get("signature")
    if not isinstance(signature, str) or not _HEX64.fullmatch(signature):
        raise BadSignature("客户身份签名无效。")
    given = bytes.fromhex(signature)
    message = canonical_string(external_id, values["name"], values["phone"], values["region"], values["tier"])
    if not any(hmac.compare_digest(_hmac(secret, message), given) for secret in secrets):
        raise BadSignature("客户身份签名无效。")
    return _customer(external_id, values)


def _b64decode(part: str) -> bytes:
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise MalformedIdentity("客户身份令牌格式错误。")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise MalformedIdentity("客户身份令牌格式错误。") from None


def _json_object(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part))
    except (UnicodeDecodeError, ValueError):
        raise MalformedIdentity("客户身份令牌格式错误。") from None
    if not isinstance(value, dict):
        raise MalformedIdentity("客户身份令牌格式错误。")
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _verify_token(token: object, secrets: Sequence[str], now: float) -> VerifiedCustomer:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise MalformedIdentity("客户身份令牌格式错误。")
    header_part, payload_part, signature_part = token.split(".")
    header = _json_object(header_part)
    # Only HS256, never "none" nor an algorithm the token chooses; no extensions we would have to understand.
    if header.get("alg") != "HS256" or "crit" in header or header.get("typ", "JWT") not in ("JWT", "jwt"):
        raise MalformedIdentity("客户身份令牌必须使用 HS256 签名。")
    given = _b64decode(signature_part)
    signed = f"{header_part}.{payload_part}"
    if not any(hmac.compare_digest(_hmac(secret, signed), given) for secret in secrets):
        raise BadSignature("客户身份令牌签名无效。")
    claims = _json_object(payload_part)
    expires = _number(claims.get("exp"))
    if expires is None:
        raise MalformedIdentity("客户身份令牌缺少有效期（exp）。")
    if now > expires + LEEWAY_SECONDS:
        raise TokenExpired("客户身份令牌已过期。")
    if "nbf" in claims:
        not_before = _number(claims["nbf"])
        if not_before is None:
            raise MalformedIdentity("客户身份令牌的生效时间（nbf）无效。")
        if now + LEEWAY_SECONDS < not_before:
            raise TokenExpired("客户身份令牌尚未生效。")
    values = {name: claims.get(name) for name in FIELDS[1:]}
    for value in values.values():
        if value is not None and (not isinstance(value, str) or _CONTROL.search(value)):
            raise MalformedIdentity("客户身份字段必须是不含控制字符的文字。")
    return _customer(_external_id(claims.get("sub")), values)


def _external_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS or _CONTROL.search(value):
        raise MalformedIdentity(f"客户标识必须是 1–{MAX_ID_CHARS} 个字符的文字。")
    return value


def _clean(value: object, limit: int) -> str | None:
    text = value.strip()[:limit] if isinstance(value, str) else ""
    return text or None


def _customer(external_id: str, values: Mapping[str, object]) -> VerifiedCustomer:
    tier = _clean(values.get("tier"), 16)
    return VerifiedCustomer(
        external_id=external_id,
        name=_clean(values.get("name"), MAX_NAME_CHARS),
        phone=_clean(values.get("phone"), MAX_PHONE_CHARS),
        region=_clean(values.get("region"), MAX_REGION_CHARS),
        tier=tier if tier in TIERS else None,
    )
