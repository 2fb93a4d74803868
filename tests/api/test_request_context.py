"""Request id and actor flow from the HTTP request into logs and the audit trail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from learnhub.logging import request_context
from learnhub.models import AuditLog
from tests.api.conftest import PASSWORD
from tests.integration.helpers import unique_email


@pytest.mark.parametrize("settings_overrides", [{"log_level": "info"}])
async def test_request_id_reaches_response_and_logs(client):
    with capture_logs(processors=[request_context]) as logs:
        response = await client.post(
            "/api/v1/auth/register",
            headers={"X-Request-ID": "trace-42.abc"},
            json={"email": unique_email(), "password": PASSWORD, "display_name": "Traced"},
        )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "trace-42.abc"
    access = [e for e in logs if e.get("event") == "request" and e.get("status") == 201]
    assert access and access[-1]["request_id"] == "trace-42.abc"
    assert access[-1]["route"] == "/api/v1/auth/register"


@pytest.mark.parametrize("settings_overrides", [{"log_level": "info"}])
async def test_an_authenticated_requests_log_line_names_its_actor(client, login_as):
    me = await login_as("student")
    with capture_logs(processors=[request_context]) as logs:
        response = await client.get("/api/v1/users/me", headers=me.headers)
        anonymous = await client.get("/health")
    assert response.status_code == 200 and anonymous.status_code == 200
    access = [e for e in logs if e.get("event") == "request"]
    mine = [e for e in access if e.get("route") == "/api/v1/users/me"]
    assert mine and mine[-1]["actor_id"] == me.id
    assert mine[-1]["request_id"] == response.headers["x-request-id"]
    health = [e for e in access if e.get("route") == "/health"]
    assert health and "actor_id" not in health[-1], "the actor does not outlive its request"


async def test_unsafe_request_ids_are_replaced(client):
    response = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response.headers["x-request-id"] != "bad id\nwith newline"
    assert len(response.headers["x-request-id"]) == 32


async def test_request_ids_the_app_makes_are_distinct_128_bit_hex(client):
    ids = [(await client.get("/health")).headers["x-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


async def test_audit_rows_name_the_actor_and_request(client, login_as, session):
    me = await login_as("student")
    response = await client.patch(
        "/api/v1/users/me",
        json={"display_name": "Audited"},
        headers={**me.headers, "X-Request-ID": "req-audit-1"},
    )
    assert response.status_code == 200
    row = (
        (
            await session.execute(
                select(AuditLog)
                .where(
                    AuditLog.entity_id == uuid.UUID(me.id),
                    AuditLog.action == "update",
                )
                .order_by(AuditLog.occurred_at.desc())
            )
        )
        .scalars()
        .first()
    )
    assert row is not None
    assert row.actor_id == uuid.UUID(me.id)
    assert row.request_id == "req-audit-1"
    assert row.changes["display_name"][1] == "Audited"
