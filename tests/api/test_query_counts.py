"""List and detail endpoints load related data in a bounded number of statements (SPEC 4).

Every SQL statement the driver receives while serving one request is counted with a
`before_cursor_execute` listener on the test's connection (the app's session factory is
bound to it, see tests/api/conftest.py), the caller's principal query included. The count
must be the same for a small and a large result (no N+1) and equal a fixed bound derived
from the loader options.

Not counted: SAVEPOINT / RELEASE SAVEPOINT / ROLLBACK TO SAVEPOINT. They exist only because
the test nests every request's transaction in its rolled-back outer transaction; in
production the same unit of work is a plain BEGIN ... ROLLBACK/COMMIT, which the drivers
issue outside the cursor (asyncpg's transaction API, sqlite3's isolation handling) and
which therefore never shows up as a statement here either.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from learnhub.db.uow import UnitOfWork
from learnhub.services import user as user_service
from learnhub.services.activity import ActivityService
from learnhub.services.user import UserService
from tests.api.conftest import Account
from tests.integration.helpers import unique_email

COURSES = "/api/v1/courses"
HARNESS = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)


class Statements:
    """The statements run on `connection` while inside the `with` block."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.sync = connection.sync_connection
        self.all: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.all.append(statement)

    def __enter__(self) -> Statements:
        event.listen(self.sync, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.sync, "before_cursor_execute", self._record)

    @property
    def serving(self) -> list[str]:
        return [s for s in self.all if not HARNESS.match(s)]


async def statements_for(
    client: httpx.AsyncClient, connection: AsyncConnection, url: str, **kwargs: Any
) -> tuple[httpx.Response, list[str]]:
    with Statements(connection) as log:
        response = await client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    return response, log.serving


def listing(statements: list[str]) -> str:
    return "\n".join(f"{n}. {' '.join(s.split())[:160]}" for n, s in enumerate(statements, 1))


def tables(statements: list[str]) -> list[str]:
    """The table each statement reads first (`FROM x`), to name what was loaded."""
    found = []
    for statement in statements:
        # The statement's own FROM, not one inside a sub-select among its columns.
        outer = [
            m.group(1)
            for m in re.finditer(r"\bFROM\s+(\w+)", statement)
            if statement.count("(", 0, m.start()) == statement.count(")", 0, m.start())
        ]
        found.append(outer[0] if outer else statement.split()[0])
    return found


# ---- content through the API ---------------------------------------------------------------


async def make_course(
    client: httpx.AsyncClient,
    author: Account,
    title: str,
    *,
    tags: list[str],
    objectives: int = 1,
    sections: int = 1,
    videos: int = 1,
    quizzes: int = 1,
    questions: int = 1,
    publish: bool = True,
) -> str:
    created = await client.post(
        COURSES,
        headers=author.headers,
        json={
            "title": title,
            "description": f"All about {title}.",
            "price": {"amount": "19.99", "currency": "USD"},
            "tags": tags,
            "objectives": [f"Objective {n}" for n in range(objectives)],
        },
    )
    assert created.status_code == 201, created.text
    course_id: str = created.json()["id"]
    for s in range(sections):
        section = await client.post(
            f"{COURSES}/{course_id}/sections", headers=author.headers, json={"title": f"Part {s}"}
        )
        assert section.status_code == 201, section.text
        section_id = section.json()["id"]
        for v in range(videos):
            video = await client.post(
                f"/api/v1/sections/{section_id}/videos",
                headers=author.headers,
                json={
                    "title": f"Lesson {s}.{v}",
                    "url": f"https://videos.example.com/{course_id}/{s}/{v}.mp4",
                    "duration_seconds": 300 + v,
                },
            )
            assert video.status_code == 201, video.text
        for q in range(quizzes):
            quiz = await client.post(
                f"/api/v1/sections/{section_id}/quizzes",
                headers=author.headers,
                json={
                    "title": f"Check {s}.{q}",
                    "questions": [
                        {
                            "text": f"Question {n}?",
                            "type": "single_choice",
                            "options": [
                                {"text": "Yes", "is_correct": True},
                                {"text": "No", "is_correct": False},
                            ],
                        }
                        for n in range(questions)
                    ],
                },
            )
            assert quiz.status_code == 201, quiz.text
    if publish:
        published = await client.post(f"{COURSES}/{course_id}/publish", headers=author.headers)
        assert published.status_code == 200, published.text
    return course_id


# ---- the catalog -----------------------------------------------------------------------------

# One statement for the page of courses (SPEC 4 read model): the course columns, with tags
# and objectives aggregated by correlated sub-selects and the instructor's name joined in.
CATALOG_STATEMENTS = 1


async def test_catalog_page_costs_the_same_for_2_or_20_courses(client, connection, login_as):
    author = await login_as("instructor")
    tags = ["alpha", "beta", "gamma"]
    for n in range(2):
        await make_course(client, author, f"Course {n}", tags=tags, quizzes=0)

    small, few = await statements_for(client, connection, COURSES)
    assert len(small.json()["items"]) == 2

    for n in range(2, 20):
        await make_course(client, author, f"Course {n}", tags=tags, quizzes=0)
    large, many = await statements_for(client, connection, COURSES)
    items = large.json()["items"]
    assert len(items) == 20 and all(item["tags"] == tags for item in items)
    assert all(item["instructor"] == {"id": author.id, "display_name": "Instructor User"}
               for item in items)  # fmt: skip

    assert len(few) == len(many) == CATALOG_STATEMENTS, listing(many)
    assert "LEFT OUTER JOIN users ON" in many[0], listing(many)
    for table in ("courses", "course_tags", "tags", "course_objectives", "users"):
        read = re.compile(rf"\b(FROM|JOIN)\s+{table}\b")
        assert read.search(few[0]) and read.search(many[0]), listing(many)
    for soft_deletable in ("courses", "tags", "course_objectives", "users"):  # the filter
        assert f"{soft_deletable}.deleted_at IS NULL" in many[0], listing(many)


async def test_catalog_with_a_logged_in_caller_adds_only_the_principal_query(
    client, connection, login_as
):
    author = await login_as("instructor")
    for n in range(3):
        await make_course(client, author, f"Course {n}", tags=["x", "y", "z"], quizzes=0)
    student = await login_as("student")
    _, statements = await statements_for(client, connection, COURSES, headers=student.headers)
    # The principal (account status, roles and permissions in one join), then the page.
    assert len(statements) == CATALOG_STATEMENTS + 1, listing(statements)
    assert tables(statements)[0] == "users", listing(statements)  # the caller's principal
    assert "FROM courses" in statements[1], listing(statements)


# ---- course detail ---------------------------------------------------------------------------

# The course row (its instructor's name joined in), then one `selectinload` per level: tags,
# objectives, sections, the sections' videos, the sections' quizzes. Quiz questions are not
# part of the course page.
DETAIL_STATEMENTS = 6


async def test_course_detail_costs_the_same_for_a_small_and_a_large_course(
    client, connection, login_as, backend
):
    author = await login_as("instructor")
    small_id = await make_course(client, author, "Small course", tags=["solo"])
    large_id = await make_course(
        client,
        author,
        "Large course",
        tags=["one", "two", "three"],
        objectives=5,
        sections=5,
        videos=4,
        quizzes=2,
        questions=3,
    )

    small, few = await statements_for(client, connection, f"{COURSES}/{small_id}")
    large, many = await statements_for(client, connection, f"{COURSES}/{large_id}")

    body = large.json()
    assert len(body["sections"]) == 5 and len(body["objectives"]) == 5
    assert all(len(s["videos"]) == 4 and len(s["quizzes"]) == 2 for s in body["sections"])
    assert len(small.json()["sections"]) == 1
    assert body["instructor"] == {"id": author.id, "display_name": "Instructor User"}

    if backend == "postgresql":
        # The anonymous page's read model (repositories/course_outline.py): ONE statement,
        # the content as JSON built by PostgreSQL, whatever the course's size.
        assert len(few) == len(many) == 1, listing(many)
        assert tables(many) == ["courses"] and "json_agg" in many[0], listing(many)
        return
    assert len(few) == len(many) == DETAIL_STATEMENTS, listing(many)
    (course_row,) = [s for s in many if tables([s]) == ["courses"]]
    assert re.search(r"LEFT OUTER JOIN users AS \w+ ON", course_row), listing(many)
    # One statement per table; the order in which SQLAlchemy issues sibling eager loads
    # is its own business, so compare as sets of tables.
    expected = ["course_objectives", "course_tags", "courses", "quizzes", "sections", "videos"]
    assert sorted(tables(few)) == sorted(tables(many)) == expected, listing(many)


async def test_course_detail_adds_one_enrolment_lookup_for_a_logged_in_learner_only(
    client, connection, login_as, backend
):
    """Who may see the content (SPEC 5) costs at most one indexed lookup of the caller's
    enrolment, made only for a logged-in caller who is not an editor of the course."""
    author, learner = await login_as("instructor"), await login_as("student")
    course_id = await make_course(client, author, "Locked course", tags=["lock"], sections=2)
    url = f"{COURSES}/{course_id}"
    _, anonymous = await statements_for(client, connection, url)
    outsider, as_outsider = await statements_for(client, connection, url, headers=learner.headers)
    enrolled = await client.post(f"{url}/enrollments", headers=learner.headers)
    assert enrolled.status_code == 201, enrolled.text
    inside, as_learner = await statements_for(client, connection, url, headers=learner.headers)
    _, as_author = await statements_for(client, connection, url, headers=author.headers)

    assert outsider.json()["sections"][0]["videos"][0]["locked"] is True
    assert inside.json()["sections"][0]["videos"][0]["locked"] is False
    # Anonymous: one statement on PostgreSQL (the page's read model), the ORM's otherwise.
    assert len(anonymous) == (1 if backend == "postgresql" else DETAIL_STATEMENTS), listing(
        anonymous
    )
    # principal + the page + the enrolment lookup
    assert len(as_outsider) == len(as_learner) == DETAIL_STATEMENTS + 2, listing(as_learner)
    assert tables(as_learner).count("enrollments") == 1, listing(as_learner)
    assert "enrollments.user_id" in " ".join(as_learner), listing(as_learner)
    # The course's instructor is known to see everything: no lookup.
    assert len(as_author) == DETAIL_STATEMENTS + 1, listing(as_author)
    assert "enrollments" not in tables(as_author), listing(as_author)


# ---- account administration and activity --------------------------------------------------

# principal + the page of users + one `selectinload` for all their roles
USERS_STATEMENTS = 3


async def register_users(
    session_factory: async_sessionmaker[AsyncSession], count: int, roles: list[str]
) -> None:
    """Accounts that never log in: registered through the service, minus argon2's cost."""
    async with UnitOfWork(session_factory) as uow:
        service = UserService(uow)
        for n in range(count):
            await service.register(
                unique_email("member"), "correct horse battery", f"Member {n}", roles=roles
            )
        await uow.commit()


async def test_admin_user_list_costs_the_same_for_few_or_many_users(
    client, connection, login_as, session_factory, monkeypatch
):
    admin = await login_as("admin")
    small, few = await statements_for(client, connection, "/api/v1/users", headers=admin.headers)
    assert 1 <= len(small.json()["items"]) < 20

    async def no_hash(_password: str) -> str:
        return "not-a-login-hash"

    monkeypatch.setattr(user_service, "hash_password_off_loop", no_hash)
    await register_users(session_factory, 12, ["student"])
    await register_users(session_factory, 12, ["instructor", "student"])
    large, many = await statements_for(client, connection, "/api/v1/users", headers=admin.headers)
    items = large.json()["items"]
    assert len(items) == 20 and all(item["roles"] for item in items)

    assert len(few) == len(many) == USERS_STATEMENTS, listing(many)
    assert tables(few) == tables(many) == ["users", "users", "user_roles"], listing(many)


# principal + the page of activity (no related rows)
ACTIVITY_STATEMENTS = 2


async def test_my_activity_costs_the_same_for_one_or_many_entries(
    client, connection, login_as, session_factory
):
    me = await login_as("student")
    url = "/api/v1/users/me/activity"
    small, few = await statements_for(client, connection, url, headers=me.headers)
    assert 1 <= len(small.json()["items"]) < 20  # the login itself

    async with UnitOfWork(session_factory) as uow:
        activity = ActivityService(uow)
        for n in range(30):
            activity.record(uuid.UUID(me.id), "course.viewed", step=n)
        await uow.commit()
    large, many = await statements_for(client, connection, url, headers=me.headers)
    assert len(large.json()["items"]) == 20

    assert len(few) == len(many) == ACTIVITY_STATEMENTS, listing(many)
    assert tables(few) == tables(many) == ["users", "user_activity"], listing(many)


# ---- the progress heartbeat ------------------------------------------------------------------


async def test_heartbeat_reads_what_it_needs_in_few_statements(client, connection, login_as):
    """The hottest write: the principal, one statement for video + course + enrolment, the
    progress row (locked) and its UPDATE (watch time is not audited per beat; completion is).
    Segments are read only by a heartbeat that sends played segments; the first heartbeat
    inserts the row and audits its creation."""
    author, learner = await login_as("instructor"), await login_as("student")
    course_id = await make_course(client, author, "Heartbeats", tags=["hb"], quizzes=0)
    detail = (await client.get(f"{COURSES}/{course_id}")).json()
    video_id = detail["sections"][0]["videos"][0]["id"]
    enrolled = await client.post(f"{COURSES}/{course_id}/enrollments", headers=learner.headers)
    assert enrolled.status_code == 201, enrolled.text
    url = f"/api/v1/videos/{video_id}/progress"

    async def beat(body: dict[str, Any]) -> list[str]:
        with Statements(connection) as log:
            response = await client.put(url, headers=learner.headers, json=body)
        assert response.status_code == 200, response.text
        return log.serving

    first = await beat({"position_seconds": 5, "watched_seconds": 5})
    again = await beat({"position_seconds": 9, "watched_seconds": 9})
    segmented = await beat({"position_seconds": 12, "played_segments": [[9, 12]]})
    assert len(again) == 4, listing(again)
    assert "JOIN courses" in again[1] and "LEFT OUTER JOIN enrollments" in again[1], listing(again)
    assert "enrollments.deleted_at IS NULL" in again[1], listing(again)
    if connection.dialect.name == "postgresql":  # SQLite has no row locks (one writer)
        assert "FOR UPDATE" in again[2], listing(again)
    # The new row's INSERT and its audited creation.
    assert len(first) == len(again) + 2, listing(first)
    assert any(s.startswith("INSERT INTO video_progress ") for s in first), listing(first)
    # Played segments: the segments read, and their replacement written.
    assert any("FROM video_progress_segments" in s for s in segmented), listing(segmented)
    assert not any("video_progress_segments" in s for s in again), listing(again)


# ---- reviews -----------------------------------------------------------------------------------

# The course (is it there and not a draft? read as an entity, with its tags and objectives:
# three statements), then the page of reviews with their authors' names joined in.
REVIEWS_STATEMENTS = 4


async def test_reviews_page_names_its_authors_in_the_same_statement(client, connection, login_as):
    author = await login_as("instructor")
    course_id = await make_course(client, author, "Reviewed", tags=["r"], quizzes=0)
    url = f"{COURSES}/{course_id}/reviews"

    async def review_by_a_new_learner() -> None:
        learner = await login_as("student")
        enrolled = await client.post(f"{COURSES}/{course_id}/enrollments", headers=learner.headers)
        assert enrolled.status_code == 201, enrolled.text
        posted = await client.post(url, headers=learner.headers, json={"rating": 4})
        assert posted.status_code == 201, posted.text

    await review_by_a_new_learner()
    small, few = await statements_for(client, connection, url)
    for _ in range(5):
        await review_by_a_new_learner()
    large, many = await statements_for(client, connection, url)
    items = large.json()["items"]
    assert len(small.json()["items"]) == 1 and len(items) == 6
    assert all(item["author"]["display_name"] == "Student User" for item in items)

    assert len(few) == len(many) == REVIEWS_STATEMENTS, listing(many)
    assert tables(few) == tables(many), listing(many)
    assert tables(many)[0] == "courses" and tables(many)[-1] == "reviews", listing(many)
    assert re.search(r"LEFT OUTER JOIN users AS \w+ ON", many[-1]), listing(many)


# ---- public profiles -------------------------------------------------------------------------

# The user, their roles (one `selectinload`), then one catalog page of their courses.
PROFILE_STATEMENTS = 3


async def test_a_profile_costs_the_same_for_one_or_many_courses(client, connection, login_as):
    author = await login_as("instructor")
    await make_course(client, author, "First", tags=["p"], quizzes=0)
    url = f"/api/v1/users/{author.id}/profile"
    small, few = await statements_for(client, connection, url)
    for n in range(5):
        await make_course(client, author, f"More {n}", tags=["p", "q"], quizzes=0)
    large, many = await statements_for(client, connection, url)
    assert len(small.json()["courses"]) == 1 and len(large.json()["courses"]) == 6
    assert all(c["instructor"]["id"] == author.id for c in large.json()["courses"])

    assert len(few) == len(many) == PROFILE_STATEMENTS, listing(many)
    assert tables(many) == ["users", "user_roles", "courses"], listing(many)
