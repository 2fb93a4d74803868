"""/docs and /redoc render the whole API in headless Chromium with nothing but the server:
every request outside loopback is aborted, and none may be attempted (SPEC: docs that load
offline). Swagger UI's "Authorize" takes a real access token and "Try it out" uses it.

SQLite only: what these tests check is the OpenAPI document and the docs' own assets, which
do not depend on the database; the register, login and /users/me calls behind "Try it out"
run on both databases in tests/api. A PostgreSQL server would add its start-up and three
page loads to the run for nothing more."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import LiveServer, LoopbackPage

pytestmark = pytest.mark.sqlite_only

API = "/api/v1"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def document(live_server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{live_server.base_url}/openapi.json", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "patch", "delete"}
    return [op for ops in document["paths"].values() for m, op in ops.items() if m in methods]


def access_token(live_server: LiveServer) -> tuple[str, str]:
    email = "docs.reader@example.com"
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        client.post(
            f"{API}/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "Docs Reader"},
        )
        login = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
        return email, str(login.json()["access_token"])


async def test_swagger_ui_renders_every_operation_offline(
    page: LoopbackPage, document: dict[str, Any]
) -> None:
    await page.page.goto("/docs")
    courses = page.page.locator(f'.opblock-summary-path[data-path="{API}/courses"]')
    await expect(courses.first).to_be_visible()
    # One block per operation of the document, and no operation missing.
    rendered = set(
        await page.page.eval_on_selector_all(
            "[id^='operations-']", "blocks => blocks.map(b => b.id)"
        )
    )
    # Swagger UI's block ids: "operations-<tag>-<operationId>", spaces as underscores.
    expected = {
        f"operations-{op['tags'][0]}-{op['operationId']}".replace(" ", "_")
        for op in operations(document)
    }
    assert expected <= rendered, sorted(expected - rendered)
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors


async def test_swagger_ui_authorize_sends_the_bearer_token(
    page: LoopbackPage, live_server: LiveServer
) -> None:
    email, token = access_token(live_server)
    await page.page.goto("/docs")
    await page.page.locator("button.authorize").first.click()
    dialog = page.page.locator(".dialog-ux .modal-ux")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("bearerAuth")
    await expect(dialog).to_contain_text("(http, Bearer)")
    await dialog.locator("input").first.fill(token)
    await dialog.locator("button.authorize").click()
    await dialog.locator("button.btn-done").click()

    me = page.page.locator("#operations-users-me_api_v1_users_me_get")
    await me.locator(".opblock-summary").click()
    await me.locator("button.try-out__btn").click()
    await me.locator("button.execute").click()
    status = me.locator(".live-responses-table .response .response-col_status")
    await expect(status).to_have_text("200")
    await expect(
        me.locator(".live-responses-table tr.response .response-col_description")
    ).to_contain_text(email)
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors


async def test_redoc_renders_every_operation_offline(
    page: LoopbackPage, document: dict[str, Any]
) -> None:
    await page.page.goto("/redoc")
    first = operations(document)[0]["operationId"]
    await expect(
        page.page.locator(f'[data-section-id$="operation/{first}"]').first
    ).to_be_attached()
    rendered = await page.page.eval_on_selector_all(
        "[data-section-id*='operation/']",
        "sections => sections.map(s => s.getAttribute('data-section-id'))",
    )
    shown = {section.rsplit("operation/", 1)[1] for section in rendered}
    expected = {op["operationId"] for op in operations(document)}
    assert expected <= shown, sorted(expected - shown)
    await expect(page.page.get_by_text(f"{API}/courses").first).to_be_attached()
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors
