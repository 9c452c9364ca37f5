"""Pages and documents the gateway serves."""

import dataclasses

import pytest

from gateway.app import create_app
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder


async def test_openapi_document_describes_the_routes(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/webhooks/rest/webhook", "/api/v1/kb/search"} <= body["paths"].keys()


async def test_chat_page_is_served_with_a_strict_content_security_policy(client):
    response = await client.get("/")
    assert response.status == 200
    assert "格网服务" in await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_every_api_and_webhook_route_the_app_registers_is_in_the_openapi_document(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    registered = {
        (route.resource.canonical, route.method.lower())
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/api/", "/webhooks/"))
        and route.method != "HEAD"
    }
    assert ("/api/v1/tickets/{number}/transition", "post") in registered
    missing = {(path, method) for path, method in registered if method not in body["paths"].get(path, {})}
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"


async def test_every_protected_route_in_the_openapi_document_says_so(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    public = {"/api/v1/openapi.json", "/api/v1/auth/login"}
    for path, operations in body["paths"].items():
        if path.startswith("/api/") and path not in public:
            staff = (
                path.startswith(("/api/v1/console/", "/api/v1/auth/", "/api/v1/kb/")) and path != "/api/v1/kb/search"
            )
            scheme = [{"session": []}] if staff else [{"bearer": []}]
            for method, operation in operations.items():
                assert operation.get("security") == scheme, (method, path)
                assert "401" in operation["responses"], (method, path)
    assert "Authorization: Bearer" in body["info"]["description"]
    assert "X-CSRF-Token" in body["info"]["description"]


def _frame_ancestors(response) -> str:
    [directive] = [d.strip() for d in response.headers["Content-Security-Policy"].split(";") if "frame-ancestors" in d]
    return directive


async def test_by_default_only_the_gateways_own_pages_may_frame_the_chat(client):
    response = await client.get("/")
    assert _frame_ancestors(response) == "frame-ancestors 'self'"
    assert "X-Frame-Options" not in response.headers  # the CSP decides, for the widget's sake


@pytest.mark.parametrize(
    "origins, ancestors",
    [
        ("https://shop.example.com", "frame-ancestors 'self' https://shop.example.com"),
        (
            "https://a.example.com http://b.example.com:8080",
            "frame-ancestors 'self' https://a.example.com http://b.example.com:8080",
        ),
        ("'self' https://a.example.com", "frame-ancestors 'self' https://a.example.com"),
        ("*", "frame-ancestors *"),  # explicitly any site
    ],
)
async def test_the_configured_widget_sites_may_frame_the_chat_besides_the_gateway_itself(
    aiohttp_client, gateway_settings, origins, ancestors
):
    settings = dataclasses.replace(gateway_settings, widget_origins=origins)
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    response = await (await aiohttp_client(app)).get("/")
    assert _frame_ancestors(response) == ancestors


async def test_other_pages_may_not_be_framed_at_all(client):
    response = await client.get("/console/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert _frame_ancestors(response) == "frame-ancestors 'none'"
