"""Pages and documents the gateway serves."""

import dataclasses

import pytest

from gateway.app import create_app
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id


async def test_openapi_document_describes_the_routes(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/webhooks/rest/webhook", "/api/v1/kb/search"} <= body["paths"].keys()


async def test_chat_page_is_served_with_a_strict_content_security_policy(client):
    response = await client.get("/")
    assert response.status == 200
    assert "格网服务" in await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_the_icon_browsers_ask_for_is_served(client):
    response = await client.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert (await response.read()).startswith(b"<svg")


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


SESSION, BEARER = {"session": []}, {"bearer": []}
# the tickets API: reading and opening take a staff login or the integration token (in that order in the
# document); moving, commenting on and approving a ticket a staff login only (proved against the running
# routes in tests/tickets/test_web.py)
TICKETS_READ_AND_OPEN = {("/api/v1/tickets", "get"), ("/api/v1/tickets", "post"), ("/api/v1/tickets/{number}", "get")}


def real_schemes(path: str, method: str) -> list[dict[str, list[str]]]:
    """The schemes a protected API route really accepts, exactly."""
    if (path, method) in TICKETS_READ_AND_OPEN:
        return [SESSION, BEARER]
    if path.startswith("/api/v1/tickets/"):
        return [SESSION]
    if (
        path.startswith(("/api/v1/console/", "/api/v1/auth/", "/api/v1/kb/", "/api/v1/reports/"))
        and path != "/api/v1/kb/search"
    ):
        return [SESSION]
    return [BEARER]


async def test_every_protected_route_in_the_openapi_document_says_so(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    public = {"/api/v1/openapi.json", "/api/v1/auth/login"}
    for path, operations in body["paths"].items():
        if path.startswith("/api/") and path not in public:
            for method, operation in operations.items():
                assert operation.get("security") == real_schemes(path, method), (method, path)
                assert "401" in operation["responses"], (method, path)
    assert "Authorization: Bearer" in body["info"]["description"]
    assert "X-CSRF-Token" in body["info"]["description"]


async def test_every_response_names_the_server_without_a_version(client):
    """No `Python/3.11 aiohttp/3.x` for scanners: pages, files, API answers, errors and the websocket alike."""
    for method, path in [
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/static/widget.js"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/no-such-route"),
        ("GET", f"/webhooks/rest/status?sender={web_id('u1')}"),
        ("POST", "/webhooks/rest/webhook"),
    ]:
        response = await client.request(method, path)
        assert response.headers["Server"] == "GridDesk", (method, path, response.headers.get("Server"))
    ws = await client.ws_connect(f"/webhooks/rest/live?sender={web_id('u1')}")
    assert ws._response.headers["Server"] == "GridDesk"
    await ws.close()


async def test_a_wrong_method_is_405_with_allow_and_a_json_error(client):
    for method, path, allowed in [
        ("DELETE", "/webhooks/rest/webhook", {"POST"}),
        ("PUT", "/webhooks/rest/rating", {"POST"}),
        ("POST", "/webhooks/rest/history", {"GET", "HEAD"}),
        ("PATCH", "/api/v1/tickets", {"GET", "HEAD", "POST"}),
    ]:
        response = await client.request(method, path)
        assert response.status == 405, (method, path)
        assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed, (method, path)
        assert (await response.json())["error"]["code"] == "method_not_allowed"


def unbounded(schema: object, where: str, components: dict | None = None) -> list[str]:
    """Every string without maxLength (or enum), number without minimum and maximum, array without maxItems."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        return unbounded(components[schema["$ref"].rsplit("/", 1)[1]], where, components)
    found = []
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "string" in types and "maxLength" not in schema and "enum" not in schema:
        found.append(f"{where}: string without maxLength")
    if {"integer", "number"} & set(types) and not {"minimum", "maximum"} <= schema.keys() and "enum" not in schema:
        found.append(f"{where}: number without minimum and maximum")
    if "array" in types and "maxItems" not in schema:
        found.append(f"{where}: array without maxItems")
    for name, child in schema.get("properties", {}).items():
        found += unbounded(child, f"{where}.{name}", components)
    found += unbounded(schema.get("items"), f"{where}[]", components)
    for key in ("oneOf", "anyOf", "allOf"):
        for n, child in enumerate(schema.get(key, [])):
            found += unbounded(child, f"{where}<{key}{n}>", components)
    return found


async def test_every_input_in_the_openapi_document_has_the_bounds_the_code_enforces(client):
    """Lengths and ranges of every parameter and JSON body field, so generated clients and fuzzers know them."""
    body = await (await client.get("/api/v1/openapi.json")).json()
    problems = []
    components = body["components"]["schemas"]
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                problems += unbounded(parameter["schema"], f"{method.upper()} {path} {parameter['name']}", components)
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if media == "application/json":
                    problems += unbounded(content["schema"], f"{method.upper()} {path} body", components)
    assert not problems, "\n".join(problems)


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
