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
