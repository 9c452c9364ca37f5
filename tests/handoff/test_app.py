"""Pages and documents the gateway serves."""


async def test_openapi_document_describes_the_routes(client):
    body = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/webhooks/rest/webhook", "/api/v1/kb/search"} <= body["paths"].keys()


async def test_chat_page_is_served_with_a_strict_content_security_policy(client):
    response = await client.get("/")
    assert response.status == 200
    assert "格网服务" in await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
