"""Prometheus metrics (SPEC 8 and 14), scraped from `/metrics` after real requests.

Metrics are process-global and other tests move them too, so every assertion compares a
value before and after the requests under test, never an absolute value."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from tests.api.conftest import LoginAs, assert_problem, create_account, login

HTTP_COUNT = "learnhub_http_request_duration_seconds_count"
DB_COUNT = "learnhub_db_query_duration_seconds_count"
SOFT_DELETES = "learnhub_soft_deletes_total"
RESTORES = "learnhub_restores_total"
VERSION_CONFLICTS = "learnhub_version_conflicts_total"
USER_ROUTE = "/api/v1/users/{user_id}"


class Scrape:
    """One parsed `/metrics` answer: samples by name, each with its labels and value."""

    def __init__(self, text: str) -> None:
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append((sample.labels, sample.value))

    def value(self, name: str, **labels: str) -> float:
        """The value of the one sample of `name` carrying exactly `labels` (0 when absent:
        a labelled child only appears once something recorded into it)."""
        matches = [value for have, value in self.samples.get(name, []) if have == labels]
        assert len(matches) <= 1, (name, labels, matches)
        return matches[0] if matches else 0.0

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [labels for labels, _ in self.samples.get(name, [])]


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


async def test_request_latency_is_labelled_by_route_template(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    student = await login_as("student")
    missing = uuid.uuid4()
    ok = {"route": USER_ROUTE, "method": "GET", "status": "200"}
    not_found = {"route": USER_ROUTE, "method": "GET", "status": "404"}
    patched = {"route": USER_ROUTE, "method": "PATCH", "status": "200"}
    before = await scrape(client)

    for _ in range(2):
        response = await client.get(f"/api/v1/users/{student.id}", headers=admin.headers)
        assert response.status_code == 200, response.text
    assert_problem(
        await client.get(f"/api/v1/users/{missing}", headers=admin.headers), 404, "not_found"
    )
    response = await client.patch(
        f"/api/v1/users/{student.id}", json={"display_name": "Grace"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert_problem(await client.get(f"/api/v1/nothing-here/{missing}"), 404, "not_found")
    after = await scrape(client)

    assert after.value(HTTP_COUNT, **ok) == before.value(HTTP_COUNT, **ok) + 2
    assert after.value(HTTP_COUNT, **not_found) == before.value(HTTP_COUNT, **not_found) + 1
    assert after.value(HTTP_COUNT, **patched) == before.value(HTTP_COUNT, **patched) + 1
    # The histogram's buckets carry the same labels (plus `le`).
    buckets = [
        labels
        for labels in after.labels_of("learnhub_http_request_duration_seconds_bucket")
        if {k: v for k, v in labels.items() if k != "le"} == ok
    ]
    assert buckets and any(labels["le"] == "+Inf" for labels in buckets)
    # Ids never become label values: no series per resource, and a path that matched no
    # route is not recorded under its raw path either.
    routes = {labels["route"] for labels in after.labels_of(HTTP_COUNT)}
    assert not [route for route in routes if student.id in route or str(missing) in route]
    assert not [route for route in routes if route.startswith("/api/v1/nothing-here")]


async def test_the_openapi_document_and_static_files_are_named_by_their_path(
    client: httpx.AsyncClient,
) -> None:
    """Plain routes and mounts (FastAPI's /openapi.json, the web's static files) name only
    their endpoint in the scope; they are counted under their path, not "unmatched"."""
    document = {"route": "/openapi.json", "method": "GET", "status": "200"}
    static = {"route": "/static", "method": "GET", "status": "200"}
    unmatched = {"route": "unmatched", "method": "GET", "status": "200"}
    before = await scrape(client)
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/static/app.css")).status_code == 200
    after = await scrape(client)
    assert after.value(HTTP_COUNT, **document) == before.value(HTTP_COUNT, **document) + 1
    assert after.value(HTTP_COUNT, **static) == before.value(HTTP_COUNT, **static) + 1
    assert after.value(HTTP_COUNT, **unmatched) == before.value(HTTP_COUNT, **unmatched)


async def test_a_method_without_routes_is_counted_as_other(client: httpx.AsyncClient) -> None:
    """The method is the client's word: one the API has no route for is `OTHER`, never a
    time series of its own."""
    other = {"route": "/api/v1/courses", "method": "OTHER", "status": "405"}
    before = await scrape(client)
    for method in ("BREW", "PROPFIND"):
        response = await client.request(method, "/api/v1/courses")
        assert response.status_code == 405, response.text
    after = await scrape(client)
    assert after.value(HTTP_COUNT, **other) == before.value(HTTP_COUNT, **other) + 2
    methods = {labels["method"] for labels in after.labels_of(HTTP_COUNT)}
    assert not methods & {"BREW", "PROPFIND"}


async def test_database_latency_is_labelled_by_operation_and_table(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    student = await login_as("student")
    select_users = {"operation": "SELECT", "table": "users"}
    update_users = {"operation": "UPDATE", "table": "users"}
    before = await scrape(client)

    assert (await client.get("/api/v1/users/me", headers=student.headers)).status_code == 200
    response = await client.patch(
        "/api/v1/users/me", json={"display_name": "Ada"}, headers=student.headers
    )
    assert response.status_code == 200, response.text
    after = await scrape(client)

    assert after.value(DB_COUNT, **select_users) > before.value(DB_COUNT, **select_users)
    assert after.value(DB_COUNT, **update_users) > before.value(DB_COUNT, **update_users)
    for labels in after.labels_of(DB_COUNT):
        assert set(labels) == {"operation", "table"}, labels
        # Few label values: a keyword, and a table name (no literals, no ids).
        assert labels["operation"].isalpha() and labels["operation"].isupper(), labels
        assert labels["table"] == "-" or labels["table"].replace("_", "").isalnum(), labels


async def test_version_conflicts_are_counted_by_entity(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    student = await login_as("student")
    url = f"/api/v1/users/{student.id}"
    stale = (await client.get(url, headers=admin.headers)).headers["etag"]
    fresh = await client.patch(
        url, json={"display_name": "First"}, headers={**admin.headers, "If-Match": stale}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] != stale
    before = await scrape(client)

    response = await client.patch(
        url, json={"display_name": "Second"}, headers={**admin.headers, "If-Match": stale}
    )
    assert_problem(response, 412, "precondition_failed")
    after = await scrape(client)

    assert after.value(VERSION_CONFLICTS, entity="User") == (
        before.value(VERSION_CONFLICTS, entity="User") + 1
    )


async def _soft_delete_and_restore(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_id: str
) -> None:
    before = await scrape(client)
    response = await client.delete(f"/api/v1/users/{user_id}", headers=admin_headers)
    assert response.status_code == 204, response.text
    middle = await scrape(client)
    response = await client.post(f"/api/v1/users/{user_id}/restore", headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["deleted_at"] is None
    after = await scrape(client)

    assert middle.value(SOFT_DELETES, entity="user") == (
        before.value(SOFT_DELETES, entity="user") + 1
    )
    assert middle.value(RESTORES, entity="user") == before.value(RESTORES, entity="user")
    assert after.value(RESTORES, entity="user") == middle.value(RESTORES, entity="user") + 1
    assert after.value(SOFT_DELETES, entity="user") == middle.value(SOFT_DELETES, entity="user")


async def test_soft_delete_and_restore_are_counted(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    student = await login_as("student")
    await _soft_delete_and_restore(client, admin.headers, student.id)


async def test_soft_delete_and_restore_are_counted_on_real_commits(
    committed_client: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    """The same through the production path: a unit of work on its own connection, whose
    commit is a real COMMIT (the rolled-back setup above only releases a SAVEPOINT)."""
    factory = create_session_factory(committed_engine)
    admin = await login(committed_client, await create_account(factory, "admin"))
    student = await login(committed_client, await create_account(factory, "student"))
    await _soft_delete_and_restore(committed_client, admin.headers, student.id)


async def test_a_body_refused_before_routing_is_counted_under_its_route(
    client: httpx.AsyncClient, login_as
) -> None:
    """A body over the limit is refused (413) before the app routes the request; the metric
    still names the route the path belongs to, not "unmatched"."""
    instructor = await login_as("instructor")
    refused = {"route": "/api/v1/courses", "method": "POST", "status": "413"}
    unmatched = {"route": "unmatched", "method": "POST", "status": "413"}
    before = await scrape(client)
    headers = {**instructor.headers, "Content-Type": "application/json"}
    response = await client.post("/api/v1/courses", content=b" " * 1_100_000, headers=headers)
    assert response.status_code == 413
    after = await scrape(client)
    assert after.value(HTTP_COUNT, **refused) == before.value(HTTP_COUNT, **refused) + 1
    assert after.value(HTTP_COUNT, **unmatched) == before.value(HTTP_COUNT, **unmatched)
