"""Races through the HTTP API with real commits on separate connections."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from learnhub.domain.enums import AuditAction
from learnhub.models import AuditLog
from tests.api.conftest import PASSWORD, login
from tests.api.test_courses import API, create_course
from tests.api.test_enrollment_concurrency import accounts
from tests.integration.helpers import unique_email


async def test_concurrent_refreshes_of_one_token_rotate_exactly_once(committed_client):
    email = unique_email("race")
    registered = await committed_client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "Racer"},
    )
    assert registered.status_code == 201
    account = await login(committed_client, email)
    token = account.tokens["refresh_token"]

    responses = await asyncio.gather(
        *(
            committed_client.post("/api/v1/auth/refresh", json={"refresh_token": token})
            for _ in range(6)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401, 401, 401], [r.text for r in responses]


async def test_concurrent_profile_edits_with_one_etag_one_wins(committed_client):
    email = unique_email("edit")
    await committed_client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Base"}
    )
    account = await login(committed_client, email)
    headers = {**account.headers, "If-Match": 'W/"1"'}
    responses = await asyncio.gather(
        *(
            committed_client.patch(
                "/api/v1/users/me", headers=headers, json={"display_name": f"Editor {n}"}
            )
            for n in range(6)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 5, [r.text for r in responses]
    winner = next(r.json()["display_name"] for r in responses if r.status_code == 200)
    me = await committed_client.get("/api/v1/users/me", headers=account.headers)
    assert me.json()["display_name"] == winner and me.json()["version"] == 2


async def test_concurrent_course_edits_with_one_etag_one_wins_nothing_lost(
    committed_client, committed_engine
):
    """The lost update on course edits: eight instructors' tabs send PATCH with the same
    If-Match at once; exactly one edit lands, the others are told (412) instead of silently
    overwriting it, and the trail records one update."""
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    course = await create_course(committed_client, instructor)
    url = f"{API}/courses/{course['id']}"
    headers = {**instructor.headers, "If-Match": 'W/"1"'}
    titles = [f"Edited by tab {n} {uuid.uuid4().hex[:6]}" for n in range(8)]
    responses = await asyncio.gather(
        *(committed_client.patch(url, headers=headers, json={"title": t}) for t in titles)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    stored = (await committed_client.get(url, headers=instructor.headers)).json()
    assert stored["title"] == winner["title"] in titles and stored["version"] == 2
    async with committed_engine.connect() as conn:
        updates = await conn.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.entity_id == uuid.UUID(course["id"]),
                AuditLog.action == AuditAction.UPDATE,
            )
        )
    assert updates == 1
