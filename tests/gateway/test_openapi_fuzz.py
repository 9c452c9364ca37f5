"""Schemathesis over the served OpenAPI document (issue 12, finding 10): requests generated from every
operation's schema — fitting it and deliberately not — never get a 5xx. Once with the integration API
token, once with an admin's console login and CSRF header.

Bounded for ``make test``: ``EXAMPLES`` cases per operation (valid and invalid mixed), derandomised so a
run is repeatable — about 25–50 s for both on this machine; ``GRIDDESK_FUZZ_EXAMPLES=200`` explores
further by hand. Operations are split by what the document says they need: the token run takes the
integration and public routes, the admin run the console routes (logout is left out: it would end the run's
session).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from accounts.models import Role
from gateway.app import create_app
from gateway.openapi import OPENAPI
from griddesk.db import session_scope
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.factories import make_faq, make_handoff
from tests.tickets.factories import make_ticket

pytestmark = pytest.mark.usefixtures("fast_hashing")

EXAMPLES = int(os.environ.get("GRIDDESK_FUZZ_EXAMPLES", "15"))
TOKEN = "test-token"  # what tests/conftest.py's settings configure


@dataclass
class Served:
    url: str
    ids: dict[str, object]  # path parameters that name seeded rows


@pytest.fixture
def served(gateway_settings) -> Iterator[Served]:
    """The gateway on a loopback port, in a thread of its own (schemathesis calls it with requests)."""
    configured = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600)
    with session_scope() as session:
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")
        make_staff(session, "zhang.wei", Role.AGENT, ("cd-wuhou",))
        faq = make_faq(session)
        handoff = make_handoff(session, "c1")
        ticket = make_ticket(session)
        ids: dict[str, object] = {
            "faq_id": faq.id,
            "handoff_id": handoff.id,
            "conversation_id": handoff.conversation_id,
            "number": ticket.number,
        }
    kb = KnowledgeBase(configured, HashingEncoder(), refresh_seconds=0)
    app = create_app(configured, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", ids)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def needs_login(method: str, path: str) -> bool:
    """Whether the document says the operation needs a console login (else: the API token, or nothing)."""
    return OPENAPI["paths"][path][method.lower()].get("security") == [{"session": []}]


def fuzz(
    served: Served, headers: dict[str, str], logged_in: bool, skip: frozenset[tuple[str, str]] = frozenset()
) -> list[str]:
    """Every operation of the served document, valid and invalid input; the requests that got a 5xx."""
    base_url, ids = served.url, served.ids
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in skip:
            continue
        if needs_login(operation.method, operation.path) != logged_in:
            continue
        # random ids mostly name nothing (404 before a body is read): half the cases name the seeded rows
        named = {name: value for name, value in ids.items() if f"{{{name}}}" in operation.path}
        strategy = st.one_of(
            *(
                operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for fixed in ([None, named] if named else [None])
            )
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
            documented = str(response.status_code) in case.operation.definition.raw.get("responses", {})
            if response.status_code >= 500 and not documented:  # /readyz's 503 is its documented answer
                failures.append(f"{response.status_code} {case.as_curl_command()}")

        call()
    return failures


def test_no_request_from_the_openapi_document_gets_a_5xx_with_the_api_token(served):
    failures = fuzz(served, {"Authorization": f"Bearer {TOKEN}"}, logged_in=False)
    assert not failures, "\n".join(failures[:20])


def test_no_request_from_the_openapi_document_gets_a_5xx_with_an_admin_session(served):
    login = requests.post(f"{served.url}/api/v1/auth/login", json={"username": "admin.chen", "password": PASSWORD})
    assert login.status_code == 200, login.text
    cookie = login.headers["Set-Cookie"].split(";", 1)[0]
    headers = {"Cookie": cookie, "X-CSRF-Token": login.json()["csrf_token"]}
    # logging out would end the session the rest of the run needs
    failures = fuzz(served, headers, logged_in=True, skip=frozenset({("POST", "/api/v1/auth/logout")}))
    assert not failures, "\n".join(failures[:20])
    assert requests.get(f"{served.url}/api/v1/auth/me", headers=headers).status_code == 200
