"""The demo catalog loads through the services, completely, audited, and idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from learnhub.domain.enums import CourseStatus
from learnhub.models import Course, OutboxMessage, Quiz, Video
from learnhub.ops.demo import load_demo
from learnhub.ops.demo_catalog import demo_instructors
from learnhub.repositories.audit import AuditLogRepository


async def count(session, stmt):
    return (await session.execute(stmt)).scalar_one()


async def test_demo_catalog_loads_once_and_is_fully_audited(uow, session):
    async with uow:
        accounts = await load_demo(uow)
        await uow.commit()
    demo_courses = [c for i in demo_instructors() for c in i.courses]
    emails = [email for email, _ in accounts]
    # The three demo logins (the demo instructor teaches in the catalog too), the other
    # instructors, the other learners; each once.
    assert len(emails) == len(set(emails)) == 3 + (len(demo_instructors()) - 1) + 3
    titles = [c.title for c in demo_courses]
    courses = list(
        (await session.execute(select(Course).where(Course.title.in_(titles)))).scalars()
    )
    assert len(courses) == len(demo_courses)
    published = {c.title for c in courses if c.status == CourseStatus.PUBLISHED}
    assert published == {c.title for c in demo_courses if c.publish}
    videos = sum(len(s.videos) for c in demo_courses for s in c.sections)
    quizzes = sum(len(s.quizzes) for c in demo_courses for s in c.sections)
    ids = [c.id for c in courses]
    assert (
        await count(
            session, select(func.count()).select_from(Video).where(Video.course_id.in_(ids))
        )
        == videos
    )
    assert (
        await count(session, select(func.count()).select_from(Quiz).where(Quiz.course_id.in_(ids)))
        == quizzes
    )
    assert await count(
        session,
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.event_type == "CoursePublished", OutboxMessage.aggregate_id.in_(ids)),
    ) == len(published)
    _, gaps = await AuditLogRepository(session).verify()
    assert gaps == []

    async with uow:  # a second run adds nothing
        await load_demo(uow)
        await uow.commit()
    assert await count(
        session, select(func.count()).select_from(Course).where(Course.title.in_(titles))
    ) == len(demo_courses)
