"""The studio's teaching statements (repositories/teaching.py) read learners' rows through
indexes, never by scanning a table whole (issue 17, item 3).

Proved with EXPLAIN on PostgreSQL, as tests/integration/test_catalog_plans.py does for the
catalog: a platform of a few hundred courses with tens of thousands of enrolments, progress
rows and quiz attempts is bulk-inserted and ANALYZEd, each statement is issued through the
repository exactly as the pages issue it, captured from the driver, re-run as
`EXPLAIN (FORMAT JSON)` with the same parameters, and its plan walked: no sequential scan of
any table, with no planner setting touched. The number of statements is fixed too: the
statistics of a course cost the same few statements whatever its size."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from learnhub.db.session import LearnHubSession
from learnhub.domain.enums import (
    AttemptState,
    CourseStatus,
    DifficultyLevel,
    EnrollmentStatus,
    UserStatus,
)
from learnhub.models import User
from learnhub.models.course import Course, Quiz, Section, Video
from learnhub.models.learning import Enrollment, QuizAttempt, VideoProgress
from learnhub.repositories.teaching import TeachingRepository

pytestmark = pytest.mark.postgres_only

COURSES = 1500
LEARNERS = 6000
PER_COURSE = 24  # enrolments per course: 36,000 in all
VIDEOS = 4  # one per section: 6,000 sections and videos
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Platform:
    connection: AsyncConnection
    course_id: uuid.UUID
    learner_ids: list[uuid.UUID]


async def seed(connection: AsyncConnection) -> Platform:
    """Bulk Core INSERTs (test data: the audit trail is irrelevant here), then ANALYZE."""
    rng = random.Random(20261206)
    instructor = uuid.uuid4()
    learners = [uuid.uuid4() for _ in range(LEARNERS)]
    await connection.execute(
        insert(User.__table__),
        [
            {
                "id": user_id,
                "email": f"person{n}.{user_id.hex[:8]}@example.com",
                "display_name": f"Person {n}",
                "password_hash": "x",
                "status": UserStatus.ACTIVE,
            }
            for n, user_id in enumerate([instructor, *learners])
        ],
    )
    courses, sections, videos, quizzes = [], [], [], []
    for n in range(COURSES):
        course_id = uuid.uuid4()
        courses.append(
            {
                "id": course_id,
                "title": f"Course {n}",
                "slug": f"course-{n}",
                "instructor_id": instructor,
                "price_amount": Decimal("0.00"),
                "difficulty": DifficultyLevel.BEGINNER,
                "status": CourseStatus.PUBLISHED,
                "published_at": EPOCH,
            }
        )
        for v in range(VIDEOS):
            section_id = uuid.uuid4()
            sections.append(
                {"id": section_id, "course_id": course_id, "title": f"Part {v}", "position": v}
            )
            videos.append(
                {
                    "id": uuid.uuid4(),
                    "course_id": course_id,
                    "section_id": section_id,
                    "title": f"Video {v}",
                    "url": "https://media.example.com/v.mp4",
                    "duration_seconds": 60,
                    "position": 0,
                }
            )
        quizzes.append(
            {
                "id": uuid.uuid4(),
                "course_id": course_id,
                "section_id": section_id,
                "title": "Quiz",
                "position": 0,
            }
        )
    await connection.execute(insert(Course.__table__), courses)
    await connection.execute(insert(Section.__table__), sections)
    await connection.execute(insert(Video.__table__), videos)
    await connection.execute(insert(Quiz.__table__), quizzes)

    enrolments, progress, attempts = [], [], []
    for n, course in enumerate(courses):
        course_videos = videos[n * VIDEOS : (n + 1) * VIDEOS]
        quiz = quizzes[n]
        for user_id in rng.sample(learners, PER_COURSE):
            enrolled = EPOCH + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            done = rng.randrange(0, VIDEOS + 1)
            completed = done == VIDEOS and rng.random() < 0.7
            enrolments.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "course_id": course["id"],
                    "status": EnrollmentStatus.COMPLETED if completed else EnrollmentStatus.ACTIVE,
                    "enrolled_at": enrolled,
                    "completed_at": enrolled + timedelta(days=3) if completed else None,
                    "completed_videos": done,
                }
            )
            for video in course_videos[:done]:
                progress.append(
                    {
                        "id": uuid.uuid4(),
                        "user_id": user_id,
                        "video_id": video["id"],
                        "course_id": course["id"],
                        "position_seconds": 60.0,
                        "watched_seconds": 60.0,
                        "completed": True,
                        "completed_at": enrolled + timedelta(days=1),
                        "last_heartbeat_at": enrolled + timedelta(days=1),
                    }
                )
            for attempt_no in range(1, rng.randrange(0, 3) + 1):
                score = Decimal(rng.randrange(0, 101))
                attempts.append(
                    {
                        "id": uuid.uuid4(),
                        "quiz_id": quiz["id"],
                        "user_id": user_id,
                        "course_id": course["id"],
                        "attempt_no": attempt_no,
                        "state": AttemptState.SUBMITTED,
                        "started_at": enrolled + timedelta(days=2),
                        "submitted_at": enrolled + timedelta(days=2, minutes=5),
                        "score": score,
                        "passed": score >= 70,
                    }
                )
    for table, rows in (
        (Enrollment.__table__, enrolments),
        (VideoProgress.__table__, progress),
        (QuizAttempt.__table__, attempts),
    ):
        for start in range(0, len(rows), 5000):
            await connection.execute(insert(table), rows[start : start + 5000])
    await connection.exec_driver_sql(
        "ANALYZE users, courses, sections, videos, quizzes, enrollments, video_progress, "
        "quiz_attempts"
    )
    target = courses[COURSES // 2]["id"]
    page_of_learners = [row["user_id"] for row in enrolments if row["course_id"] == target][:50]
    return Platform(connection, target, page_of_learners)


@pytest.fixture(scope="module")
async def platform(engine: AsyncEngine) -> AsyncIterator[Platform]:
    """Seeded once for the module, inside a transaction rolled back at the end."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        try:
            yield await seed(connection)
        finally:
            await outer.rollback()


@dataclass
class Issued:
    statement: str
    parameters: Any


class Capture:
    def __init__(self, connection: AsyncConnection) -> None:
        self.sync = connection.sync_connection
        self.issued: list[Issued] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.issued.append(Issued(statement, parameters))

    def __enter__(self) -> Capture:
        event.listen(self.sync, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.sync, "before_cursor_execute", self._record)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def explain(connection: AsyncConnection, issued: Issued) -> dict[str, Any]:
    result = await connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + issued.statement, issued.parameters
    )
    raw = result.scalar_one()
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return plan[0]["Plan"]  # type: ignore[no-any-return]


async def statements_of(platform: Platform, read: str) -> list[Issued]:
    session = AsyncSession(bind=platform.connection, sync_session_class=LearnHubSession)
    repo = TeachingRepository(session)
    course = platform.course_id
    with Capture(platform.connection) as capture:
        if read == "best_scores":
            quiz_ids = [quiz.id for quiz in await repo.quizzes(course)]
            capture.issued.clear()
            found = await repo.best_scores(quiz_ids, platform.learner_ids)
            assert found  # the dataset has results for this page of learners
        elif read == "weekly_enrolments":
            assert sum(w.enrolments for w in await repo.weekly_enrolments(course)) == PER_COURSE
        elif read == "enrolment_counts":
            assert (await repo.enrolment_counts(course))[0] == PER_COURSE
        elif read == "average_best_score":
            assert await repo.average_best_score(course) is not None
        elif read == "video_completions":
            assert len(await repo.video_completions(course)) == VIDEOS
        else:
            assert len(await repo.quizzes(course)) == 1
    await session.close()
    return capture.issued


READS = [
    "quizzes",
    "best_scores",
    "enrolment_counts",
    "weekly_enrolments",
    "average_best_score",
    "video_completions",
]


@pytest.mark.parametrize("read", READS)
async def test_teaching_reads_use_indexes_not_table_scans(platform: Platform, read: str) -> None:
    issued = await statements_of(platform, read)
    # One statement each; the average reads the course's quizzes first.
    assert len(issued) == (2 if read == "average_best_score" else 1), issued
    for statement in issued:
        plan = await explain(platform.connection, statement)
        scans = [
            node.get("Relation Name") for node in nodes(plan) if node["Node Type"] == "Seq Scan"
        ]
        assert scans == [], (read, json.dumps(plan, indent=1))
