"""Odd input never makes the gateway fail (issue 12, finding 10): lone surrogates, JSON nested thousands of
levels deep, integers far beyond any database id, long digit strings, control characters in multipart
headers — anonymous, with the API token or with an admin's login, every one is a clear 4xx, never a 500."""

from __future__ import annotations

import dataclasses

import pytest

from accounts.models import Role
from gateway.app import create_app
from griddesk.db import session_scope
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.factories import make_faq, make_handoff
from tests.ids import web_id
from tests.tickets.factories import make_ticket

pytestmark = pytest.mark.usefixtures("fast_hashing")

HUGE = 2**70  # no database integer column holds it
DIGITS_30 = "1" * 30
U1 = web_id("u1")  # a sender id of the random shape the web channels require
DEEP = 3000  # nesting levels (Python's own parser gives up near 1,000)
LONE = "\ud800"  # a lone surrogate: valid in a JSON string escape, not encodable as UTF-8

LOW_FAQ = 1  # the fixture's FAQ, handoff and ticket are the first of their tables


def deep_array(levels: int = DEEP) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int = DEEP) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def escaped(text: str) -> str:
    """``text`` as a JSON string literal with every non-ASCII character escaped (a lone surrogate stays one)."""
    return '"' + "".join(c if c.isascii() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


def multipart(header_line: bytes) -> tuple[bytes, str]:
    boundary = "oddboundary"
    body = (
        b"--" + boundary.encode() + b"\r\n" + header_line + b"\r\n"
        b"Content-Type: text/csv\r\n\r\n"
        b"question,answer\r\n\xe9\x97\xae,\xe7\xad\x94\r\n"
        b"--" + boundary.encode() + b"--\r\n"
    )
    return body, f"multipart/form-data; boundary={boundary}"


REFUND = {
    "category": "refund",
    "description": "退款一直没有到账",
    "contact_phone": "13812345678",
    "contact_name": "张三",
    "region": "成都市武侯区",
    "actor": "系统",
}

# (who, method, path, body bytes or JSON value or None, expected status)
# who: "anonymous", "token" (the integration API token) or "admin" (a console login + CSRF header)
# fmt: off
CASES: list[tuple[str, str, str, str, object, int]] = [
    # -- lone surrogates -----------------------------------------------------------------------
    ("surrogate in message", "anonymous", "POST", "/webhooks/rest/webhook",
     ('{"sender": "' + U1 + '", "message": ' + escaped("你好" + LONE) + "}").encode(), 400),
    ("surrogate in sender", "anonymous", "POST", "/webhooks/rest/webhook",
     ('{"sender": ' + escaped("u" + LONE) + ', "message": "你好"}').encode(), 400),
    ("surrogate in rating comment", "anonymous", "POST", "/webhooks/rest/rating",
     ('{"sender": "' + U1 + '", "handoff_id": 1, "score": 5, "comment": ' + escaped(LONE) + "}").encode(), 400),
    ("surrogate in login username", "anonymous", "POST", "/api/v1/auth/login",
     ('{"username": ' + escaped(LONE) + ', "password": "x"}').encode(), 422),
    # a surrogate's UTF-8 bytes in a query string are not UTF-8: they arrive as U+FFFD, an ordinary character
    # (and, as a sender id, not the random shape the web channels require)
    ("surrogate bytes in history sender", "anonymous", "GET", "/webhooks/rest/history?sender=%ED%A0%80", None, 422),
    ("surrogate bytes in status sender", "anonymous", "GET", "/webhooks/rest/status?sender=%ED%A0%80", None, 422),
    ("surrogate in an FAQ draft", "admin", "POST", "/api/v1/kb/faqs",
     ('{"question": ' + escaped("怎么" + LONE) + ', "answer": "答"}').encode(), 400),
    ("surrogate bytes in q", "token", "GET", "/api/v1/kb/search?q=%ED%A0%80", None, 200),
    # -- nesting ---------------------------------------------------------------------------------
    ("deep array to the webhook", "anonymous", "POST", "/webhooks/rest/webhook", deep_array(), 400),
    ("deep object to the webhook", "anonymous", "POST", "/webhooks/rest/webhook", deep_object(), 400),
    ("deep metadata in the webhook", "anonymous", "POST", "/webhooks/rest/webhook",
     b'{"sender": "' + U1.encode() + b'", "message": "hi", "metadata": ' + deep_object() + b"}", 400),
    # small bodies (4 KB, 16 KB) cannot hold 3,000 closed levels: too large; unclosed ones fit and are refused
    ("deep array to the rating", "anonymous", "POST", "/webhooks/rest/rating", deep_array(), 413),
    ("deep unclosed array to the rating", "anonymous", "POST", "/webhooks/rest/rating", b"[" * DEEP, 400),
    ("deep object to the login", "anonymous", "POST", "/api/v1/auth/login", deep_object(), 413),
    ("deep unclosed array to the login", "anonymous", "POST", "/api/v1/auth/login", b"[" * DEEP, 422),
    ("deep unclosed object to the login", "anonymous", "POST", "/api/v1/auth/login", b'{"a":' * 800, 422),
    ("deep body to a ticket", "token", "POST", "/api/v1/tickets", deep_object(), 413),
    ("deep unclosed body to a ticket", "token", "POST", "/api/v1/tickets", b'{"a":[' * 1500, 400),
    ("deep body to an FAQ", "admin", "POST", "/api/v1/kb/faqs", deep_array(), 400),
    # -- integers beyond any id ------------------------------------------------------------------
    ("huge after in history", "anonymous", "GET", f"/webhooks/rest/history?sender={U1}&after={HUGE}", None, 400),
    ("negative after in history", "anonymous", "GET", f"/webhooks/rest/history?sender={U1}&after=-{HUGE}", None, 400),
    ("30 digits as after", "anonymous", "GET", f"/webhooks/rest/history?sender={U1}&after={DIGITS_30}", None, 400),
    ("huge handoff_id in a rating", "anonymous", "POST", "/webhooks/rest/rating",
     {"sender": U1, "handoff_id": HUGE, "score": 5}, 422),
    ("huge score in a rating", "anonymous", "POST", "/webhooks/rest/rating",
     {"sender": U1, "handoff_id": 1, "score": HUGE}, 422),
    ("huge FAQ id in the path", "admin", "GET", f"/api/v1/kb/faqs/{HUGE}", None, 404),
    ("huge expected_version of a draft", "admin", "PUT", f"/api/v1/kb/faqs/{LOW_FAQ}/draft",
     {"expected_version": HUGE, "question": "怎么开发票", "answer": "答"}, 422),
    ("huge overrides_id of a draft", "admin", "PUT", f"/api/v1/kb/faqs/{LOW_FAQ}/draft",
     {"expected_version": 1, "question": "怎么开发票", "answer": "答", "overrides_id": HUGE}, 422),
    ("huge version to restore", "admin", "POST", f"/api/v1/kb/faqs/{LOW_FAQ}/restore", {"number": HUGE}, 422),
    ("huge expected_version to publish", "admin", "POST", f"/api/v1/kb/faqs/{LOW_FAQ}/publish",
     {"expected_version": HUGE}, 422),
    ("huge versions to diff", "admin", "GET", f"/api/v1/kb/faqs/{LOW_FAQ}/diff?a={HUGE}&b=1", None, 400),
    ("huge days of usage", "admin", "GET", f"/api/v1/kb/faqs/{LOW_FAQ}/usage?days={HUGE}", None, 400),
    ("huge inbox item ids", "admin", "POST", "/api/v1/kb/inbox/dismiss", {"item_ids": [HUGE]}, 422),
    ("huge inbox faq_id", "admin", "POST", "/api/v1/kb/inbox/similar", {"item_ids": [1], "faq_id": HUGE}, 422),
    ("huge inbox draft ids", "admin", "POST", "/api/v1/kb/inbox/draft", {"item_ids": [HUGE]}, 422),
    ("huge handoff id in the path", "admin", "GET", f"/api/v1/console/handoffs/{HUGE}", None, 404),
    ("huge conversation id in the path", "admin", "GET", f"/api/v1/console/conversations/{HUGE}/messages", None, 404),
    ("huge after of a conversation", "admin", "GET", f"/api/v1/console/conversations/1/messages?after={HUGE}",
     None, 400),
    ("huge agent to transfer to", "admin", "POST", "/api/v1/console/handoffs/1/transfer", {"agent_id": HUGE}, 422),
    ("huge alert id", "admin", "POST", f"/api/v1/console/alerts/{HUGE}/ack", None, 404),
    ("huge ticket version", "admin", "POST", "/api/v1/tickets/{ticket}/transition",
     {"to": "analysing", "version": HUGE}, 422),
    ("huge ticket version as text", "admin", "POST", "/api/v1/tickets/{ticket}/transition",
     {"to": "analysing", "version": str(HUGE)}, 422),
    ("huge ticket amount", "token", "POST", "/api/v1/tickets",
     {**REFUND, "amount_yuan": HUGE}, 422),
    ("huge ticket list limit", "token", "GET", f"/api/v1/tickets?limit={HUGE}", None, 400),
    ("huge workspace version", "admin", "POST", "/api/v1/console/tickets/{ticket}/transition",
     {"to": "analysing", "version": HUGE}, 422),
    ("huge workspace assignee", "admin", "POST", "/api/v1/console/tickets/{ticket}/assign",
     {"assignee_id": HUGE, "version": 1}, 422),
    ("huge workspace offset", "admin", "GET", f"/api/v1/console/tickets?offset={HUGE}", None, 400),
    ("huge conversation of a ticket", "admin", "GET",
     f"/api/v1/console/tickets/{{ticket}}/conversations/{HUGE}/messages", None, 404),
    ("surrogate in a workspace comment", "admin", "POST", "/api/v1/console/tickets/{ticket}/comments",
     ('{"note": ' + escaped("看" + LONE) + "}").encode(), 400),
    ("surrogate bytes in the workspace search", "admin", "GET", "/api/v1/console/tickets?q=%ED%A0%80", None, 200),
    ("30-digit workspace search", "admin", "GET", f"/api/v1/console/tickets?q={DIGITS_30}", None, 200),
    ("huge k of a search", "token", "GET", f"/api/v1/kb/search?q=发票&k={HUGE}", None, 400),
    # -- long digit strings as text ----------------------------------------------------------------
    ("30-digit q to the search API", "token", "GET", f"/api/v1/kb/search?q={DIGITS_30}", None, 200),
    ("30-digit q to the FAQ list", "admin", "GET", f"/api/v1/kb/faqs?q={DIGITS_30}", None, 200),
    ("superscript digits as q to the FAQ list", "admin", "GET", "/api/v1/kb/faqs?q=%C2%B2%C2%B3", None, 200),
    ("30-digit q to the hit-test", "admin", "GET", f"/api/v1/kb/hit-test?q={DIGITS_30}", None, 200),
    ("30-digit q to the console search", "admin", "GET", f"/api/v1/console/kb/search?q={DIGITS_30}", None, 200),
    ("30-digit message", "anonymous", "POST", "/webhooks/rest/webhook", {"sender": U1, "message": DIGITS_30}, 200),
    ("30-digit sender", "anonymous", "GET", f"/webhooks/rest/status?sender={DIGITS_30}", None, 422),  # not random

    ("30-digit ticket number", "token", "GET", f"/api/v1/tickets/{DIGITS_30}", None, 404),
    # -- past the bounds the OpenAPI document states -------------------------------------------------
    ("a real ticket number inside a long path", "token", "GET", "/api/v1/tickets/" + "x" * 40 + "{ticket}", None, 404),
    ("65-character grid in the console search", "admin", "GET", "/api/v1/console/kb/search?q=发票&grid=" + "g" * 65,
     None, 400),
    ("65-character grid in the hit-test", "admin", "GET", "/api/v1/kb/hit-test?q=发票&grid=" + "g" * 65, None, 400),
    ("control character in the FAQ list's category", "admin", "GET", "/api/v1/kb/faqs?category=%01", None, 400),
    ("65-character grid in the FAQ list", "admin", "GET", "/api/v1/kb/faqs?grid=" + "g" * 65, None, 400),
]
# fmt: on

MULTIPART_CASES: list[tuple[str, bytes]] = [
    ("control character in the file name", b'Content-Disposition: form-data; name="file"; filename="a\x01.csv"'),
    ("control character in the field name", b'Content-Disposition: form-data; name="fi\x01le"; filename="a.csv"'),
    ("NUL in the part header", b'Content-Disposition: form-data; name="file"; filename="a\x00.csv"'),
    ("escape in a header name", b'Content-Disposition: form-data; name="file"; filename="a.csv"\r\nX-\x1b: 1'),
    ("DEL in the disposition", b'Content-Disposition: form-\x7fdata; name="file"; filename="a.csv"'),
    ("bare header line", b'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n\x01'),
]


@pytest.fixture
async def app_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(
        create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    )


@pytest.fixture
def world(settings) -> dict[str, str]:
    """An admin, an FAQ, a queued handoff and a ticket, so ids in paths name something real."""
    with session_scope() as session:
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")
        assert make_faq(session).id == LOW_FAQ
        make_handoff(session, "c1")
        number = make_ticket(session).number
    return {"ticket": number}


async def send(client, who: str, method: str, path: str, body: object, csrf: str | None) -> tuple[int, str]:
    headers: dict[str, str] = {}
    if who == "token":
        headers["Authorization"] = "Bearer test-token"
    if who == "admin":
        assert csrf is not None
        headers["X-CSRF-Token"] = csrf
    kwargs: dict[str, object] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["data"] = body
        headers["Content-Type"] = "application/json"
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(method, path, **kwargs)
    return response.status, await response.text()


async def login_admin(client) -> str:
    response = await client.post("/api/v1/auth/login", json={"username": "admin.chen", "password": PASSWORD})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


@pytest.mark.parametrize(("name", "who", "method", "path", "body", "status"), CASES, ids=[c[0] for c in CASES])
async def test_odd_input_is_a_clear_4xx_never_a_500(app_client, world, name, who, method, path, body, status):
    csrf = await login_admin(app_client) if who == "admin" else None
    if who != "admin":
        app_client.session.cookie_jar.clear()
    got, text = await send(app_client, who, method, path.format(**world), body, csrf)
    assert got == status, f"{name}: {got} {text[:300]}"
    if got >= 400 and path.startswith(("/api/", "/webhooks/")):
        assert '"error"' in text and "internal_error" not in text, text[:300]


@pytest.mark.parametrize(("name", "header"), MULTIPART_CASES, ids=[c[0] for c in MULTIPART_CASES])
async def test_a_control_character_in_a_multipart_header_is_refused(app_client, world, name, header):
    csrf = await login_admin(app_client)
    body, content_type = multipart(header)
    response = await app_client.post(
        "/api/v1/kb/import/validate", data=body, headers={"Content-Type": content_type, "X-CSRF-Token": csrf}
    )
    assert response.status in (400, 422), f"{name}: {response.status} {(await response.text())[:300]}"
    assert (await response.json())["error"]["code"] in ("invalid_multipart", "missing_file")
