"""Pages and documents the gateway serves."""


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
    if path.startswith(("/api/v1/console/", "/api/v1/auth/", "/api/v1/kb/")) and path != "/api/v1/kb/search":
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
