"""Erasing a learner keeps course counters exact and the audit trail complete."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from learnhub.models import AuditLog
from learnhub.repositories.audit import AuditLogRepository
from tests.api.test_learning import enrol, heartbeat, video_course


async def test_erasing_a_learner_releases_enrolment_review_and_progress(client, login_as, session):
    admin, instructor = await login_as("admin"), await login_as("instructor")
    learner, other = await login_as("student"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,), quizzes=1)
    for account in (learner, other):
        await enrol(client, account, course["id"])
    detail = (await client.get(f"/api/v1/courses/{course['id']}")).json()
    quiz_id = detail["sections"][0]["quizzes"][0]["id"]
    started = await client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=learner.headers)
    assert started.status_code == 201, started.text
    await heartbeat(client, learner, video["id"], position_seconds=5, played_segments=[[0, 5]])
    for account, stars in ((learner, 1), (other, 5)):
        posted = await client.post(
            f"/api/v1/courses/{course['id']}/reviews",
            headers=account.headers,
            json={"rating": stars, "body": f"secret {account.email}"},
        )
        assert posted.status_code == 201, posted.text

    erased = await client.delete(f"/api/v1/users/{learner.id}?hard=true", headers=admin.headers)
    assert erased.status_code == 204, erased.text

    after = (await client.get(f"/api/v1/courses/{course['id']}")).json()
    assert after["enrollment_count"] == 1
    assert after["rating_count"] == 1 and after["rating"] == 5.0
    assert after["rating_histogram"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    _, gaps = await AuditLogRepository(session).verify()
    assert gaps == []
    changes = (
        (
            await session.execute(
                select(AuditLog.changes).where(AuditLog.actor_id == uuid.UUID(learner.id))
            )
        )
        .scalars()
        .all()
    )
    assert changes and learner.email not in str(changes)
