from tests.api.conftest import assert_problem


async def test_health_ready_and_openapi(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_is_a_problem(client):
    assert_problem(await client.get("/api/v1/nope"), 404, "not_found")
    assert_problem(await client.delete("/health"), 405, "method_not_allowed")
