"""Every write path records every column it changes (SPEC 3): pinned cases of what the random
walk (test_audit_walk.py) found, each through the HTTP API on both databases. Soft delete,
restore and revocation stamp `updated_by` with the acting user, and erasing a user clears the
references other rows hold to them as actor; each of these changes is in the trail, so
`audit verify` stays clean."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from learnhub.db.uow import UnitOfWork
from learnhub.models import AuditLog, Course
from learnhub.services.audit import AuditService
from tests.api.conftest import Account, LoginAs
from tests.api.test_courses import API, add_quiz, add_section, add_video, course_url, create_course
from tests.api.test_learning import enrol, video_course

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


async def gaps(session_factory: Any) -> list[Any]:
    """What `learnhub audit verify` reports."""
    async with UnitOfWork(session_factory) as uow:
        return (await AuditService(uow).verify()).gaps


async def entries(session: Any, entity_id: str, action: str) -> list[AuditLog]:
    rows = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity_id == uuid.UUID(entity_id), AuditLog.action == action)
        .order_by(AuditLog.occurred_at, AuditLog.id)
    )
    return list(rows.scalars().all())


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def build(
    kind: str, client: httpx.AsyncClient, login_as: LoginAs
) -> tuple[str, str, Account]:
    """An entity of `kind` made by its owner: (its path, its id, the owner)."""
    if kind == "user":
        student = await login_as("student")
        return f"{API}/users/{student.id}", student.id, student
    instructor = await login_as("instructor")
    if kind == "review":
        course, _ = await video_course(client, instructor)
        student = await login_as("student")
        await enrol(client, student, course["id"])
        review = await ok(
            await client.post(
                course_url(course["id"], "/reviews"),
                headers=student.headers,
                json={"rating": 4, "body": "Good"},
            ),
            201,
        )
        return f"{API}/reviews/{review['id']}", review["id"], student
    course = await create_course(client, instructor)
    if kind == "course":
        return course_url(course["id"]), course["id"], instructor
    section = await add_section(client, instructor, course["id"])
    if kind == "section":
        return f"{API}/sections/{section['id']}", section["id"], instructor
    if kind == "video":
        video = await add_video(client, instructor, section["id"])
        return f"{API}/videos/{video['id']}", video["id"], instructor
    quiz = await add_quiz(client, instructor, section["id"])
    return f"{API}/quizzes/{quiz['id']}", quiz["id"], instructor


@pytest.mark.parametrize("kind", ["course", "section", "video", "quiz", "review", "user"])
async def test_soft_delete_and_restore_by_someone_else_record_updated_by(
    client, login_as, session, session_factory, kind
):
    path, entity_id, owner = await build(kind, client, login_as)
    admin, other_admin = await login_as("admin"), await login_as("admin")
    # The owner's row, deleted by an admin and restored by another one (a user by an admin).
    await ok(await client.delete(path, headers=admin.headers), 204)
    restorer = other_admin if kind in ("user", "review") else owner
    await ok(await client.post(f"{path}/restore", headers=restorer.headers))

    (deleted,) = await entries(session, entity_id, "soft_delete")
    (restored,) = await entries(session, entity_id, "restore")
    assert deleted.changes["deleted_by"] == [None, admin.id]
    previous = deleted.changes["updated_by"][0]
    assert deleted.changes["updated_by"] == [previous, admin.id]
    assert restored.changes["updated_by"] == [admin.id, restorer.id]
    assert restored.changes["deleted_by"] == [admin.id, None]
    assert await gaps(session_factory) == []


async def test_a_cascading_delete_records_updated_by_on_every_child(
    client, login_as, session, session_factory
):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"])
    await ok(await client.delete(course_url(course["id"]), headers=admin.headers), 204)
    await ok(await client.post(course_url(course["id"], "/restore"), headers=instructor.headers))
    for child in (section["id"], video["id"]):
        (deleted,) = await entries(session, child, "soft_delete")
        (restored,) = await entries(session, child, "restore")
        assert deleted.changes["updated_by"] == [instructor.id, admin.id]
        assert restored.changes["updated_by"] == [admin.id, instructor.id]
    assert await gaps(session_factory) == []


async def test_logging_out_records_who_revoked_the_session(client, login_as, session_factory):
    student = await login_as("student")
    await ok(
        await client.post(
            f"{API}/auth/logout",
            headers=student.headers,
            json={"refresh_token": student.tokens["refresh_token"]},
        ),
        204,
    )
    assert await gaps(session_factory) == []


async def test_erasing_a_user_audits_the_actor_references_it_clears(
    client, login_as, session, session_factory
):
    instructor, admin, eraser = (
        await login_as("instructor"),
        await login_as("admin"),
        await login_as("admin"),
    )
    course = await create_course(client, instructor)
    # The admin-to-be-erased edits, deletes and restores content it does not own.
    await ok(
        await client.patch(
            course_url(course["id"]), headers=admin.headers, json={"title": "Edited by admin"}
        )
    )
    section = await add_section(client, admin, course["id"])
    await ok(await client.delete(f"{API}/sections/{section['id']}", headers=admin.headers), 204)

    await ok(
        await client.delete(
            f"{API}/users/{admin.id}", params={"hard": "true"}, headers=eraser.headers
        ),
        204,
    )

    row = (
        await session.execute(select(Course.updated_by).where(Course.id == uuid.UUID(course["id"])))
    ).scalar_one()
    assert row is None
    cleared = [
        e
        for e in await entries(session, course["id"], "update")
        if "updated_by" in e.changes and e.changes["updated_by"][1] is None
    ]
    assert [(e.actor_id, e.changes) for e in cleared] == [
        (uuid.UUID(eraser.id), {"updated_by": [admin.id, None]})
    ]
    # The (soft-deleted) section named the admin as creator, last editor and deleter.
    cleared_section = {
        field: pair
        for e in await entries(session, section["id"], "update")
        for field, pair in e.changes.items()
    }
    assert cleared_section == {
        "created_by": [admin.id, None],
        "updated_by": [admin.id, None],
        "deleted_by": [admin.id, None],
    }
    assert await gaps(session_factory) == []
