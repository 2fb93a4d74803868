"""The authorization matrix: every endpoint of the app x every kind of caller.

Each endpoint the app serves (its OpenAPI paths, plus the few routes kept out of the schema
such as `/docs`) must be listed in MATRIX with a policy; `test_matrix_lists_every_endpoint`
fails when one is missing, so a new endpoint cannot ship without an authorization decision.

Callers: `anonymous` (no header), the three built-in roles, and two dead accounts whose
access token is still a signed, unexpired JWT: `deleted` (soft-deleted by an admin after
logging in) and `suspended` (status set to suspended by an admin after logging in).

Outcomes: an allowed cell answers the exact status the realistic request should get; a
denied cell answers 401 `unauthorized` (no or dead credentials) or 403 `forbidden`
(authenticated, lacking the permission) as an RFC 9457 problem, and changes nothing.

Course endpoints add an ownership dimension (`test_course_matrix`). Each cell builds its own
course through the API as an instructor (course, section, video, a quiz when needed, then
publish) and calls with real ids. There `instructor` is the instructor who OWNS that course,
`other_instructor` an instructor who does not, and `deleted` / `suspended` are that owner
taken down by an admin after building it (a dead owner keeps nothing). Course-bound cells run
on a published course and again on a DRAFT one, where the course does not exist for anyone
but its owner and the admins: non-owners get 404 `not_found` rather than 403, so a draft's
existence never leaks. The catalog reads (SPEC 13) are open to anonymous callers, but a dead
token sent to them is still a 401: the API rejects bad credentials, it never ignores them.

Learning endpoints (enrolments, progress) add the caller's relation to a course as the
ownership dimension (`test_learning_matrix`). Each cell has an instructor build and publish a
course, enrols another student in it (a bystander whose enrolment must stay out of reach),
and puts the caller in one relation to it: enrolled, not enrolled, enrolled then cancelled,
acting on the bystander's enrolment, or facing a draft. Every live role may learn; a learner
reaches only its own enrolments and progress (an admin may also cancel anyone's enrolment),
and a refusal on the merits (404, 409, 403 `not_enrolled`) changes nothing either. There the
dead callers are a student enrolled in the course and taken down afterwards.

Review endpoints add the caller's relation to a review as the ownership dimension
(`test_review_matrix`). As in the course cells, `instructor` owns the course under test and
`other_instructor` does not; the caller is enrolled, not enrolled, facing a draft, the author
of a review (published, or hidden by the owner), or looking at another learner's review
(published or hidden). Posting takes an enrolment; reading is open to anyone, but a hidden
review exists only for its author, the course's instructor and the admins (404 for the
rest); rating and body are the author's, hiding and showing the course's instructor's and
the admins', deleting and restoring the author's and the admins' (a restore names nothing
to the others: 404). Denied cells leave the reviews and the course's rating untouched. The
dead callers are a reviewing student taken down afterwards, or the course's owner taken down
for the moderation cells.

Quiz-attempt endpoints add the caller's relation to the quiz, or to the attempt, as the
ownership dimension (`test_attempt_matrix`). Each cell has an instructor build and publish a
course with a quiz, and a bystander enrol in it and start an attempt of its own. Starting
takes an active enrolment (403 `not_enrolled` otherwise, cancelled included), one open
attempt at a time (409), and a quiz that exists: a draft's does not, for anyone (404).
Submitting is the attempt's learner's alone: another learner's attempt does not exist for the
caller, an admin included (404), and a submitted one is not graded twice (409). Denied cells
leave the attempts and their answers untouched, and the bystander's attempt stays open and
unanswered whatever the caller does. The dead callers are an enrolled student (with an open
attempt, for submitting) taken down afterwards.

Tutor endpoints add the caller's relation to the course, or to a conversation, as the
ownership dimension (`test_tutor_matrix`). A bystander enrols and asks the tutor once in a
conversation of its own. Starting a conversation takes an active enrolment (403
`not_enrolled`, cancelled included) in a course that exists (a draft's does not: 404); a
conversation is its learner's alone: another learner's does not exist for the caller, an
admin included (404), and a learner who cancelled still reads their own but asks no more
(403). Denied cells leave conversations, messages, usage and activity untouched, and the
bystander's conversation keeps its one exchange, unseen."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from learnhub.api.app import create_app
from learnhub.db.uow import UnitOfWork
from learnhub.domain.enums import AttemptState
from learnhub.media.demo_clips import demo_clip
from learnhub.models.base import Base
from learnhub.services import passwords
from learnhub.services.user import UserService
from tests.api.conftest import PASSWORD, Account, LoginAs, assert_problem
from tests.api.conftest import test_settings as settings_for
from tests.integration.helpers import unique_email

API = "/api/v1"

# Policies.
PUBLIC = "public"  # anyone: the endpoint reads no credentials (a dead token goes unnoticed)
SELF = "self"  # any live, active account, acting on itself
ADMIN = "admin"  # holders of users:manage
AUDITOR = "auditor"  # holders of audit:read (the admins)
PUBLIC_READ = "public_read"  # anyone, logged in or not; credentials that are sent must be live
# Course policies (the cells of `test_course_matrix`).
CATALOG = "catalog"  # anyone, logged in or not; credentials that are sent must be live (401)
AUTHOR = "author"  # holders of courses:author (instructors) or courses:manage (admins)
OWNER = "owner"  # the course's own instructor (courses:author + ownership) or courses:manage
MANAGE = "manage"  # holders of courses:manage (admins) only
COURSE_POLICIES = {CATALOG, AUTHOR, OWNER, MANAGE}
# Learning policy (the cells of `test_learning_matrix`).
LEARN = "learn"  # holders of learning:participate, on their own enrolments and progress
LEARNING_POLICIES = {LEARN}
# Review policies (the cells of `test_review_matrix`); the relation decides the ownership.
REVIEW_READ = "review_read"  # anyone with no or live credentials; hidden: see REVIEW_SEERS
REVIEWER = "reviewer"  # holders of learning:participate, enrolled in the course
REVIEW_AUTHOR = "review_author"  # the review's author only
AUTHOR_OR_ADMIN = "author_or_admin"  # the review's author, or holders of courses:manage
MODERATOR = "moderator"  # the course's instructor (reviews:moderate + ownership) or an admin
REVIEW_POLICIES = {REVIEW_READ, REVIEWER, REVIEW_AUTHOR, AUTHOR_OR_ADMIN, MODERATOR}
# Quiz-attempt policy (the cells of `test_attempt_matrix`); the relation decides the ownership.
ATTEMPT = "attempt"  # holders of learning:participate, enrolled, on their own attempts
ATTEMPT_POLICIES = {ATTEMPT}
# AI tutor policy (the cells of `test_tutor_matrix`); the relation decides the ownership.
TUTOR = "tutor"  # holders of learning:participate, enrolled, in their own conversations
TUTOR_POLICIES = {TUTOR}
# The web app (issue 16; the cells of `test_web_matrix`): pages read no bearer token, only the
# browser's session cookie (whose rules tests/web/ checks), so a token changes nothing there;
# a state-changing page without its form's CSRF token is refused (403), whoever calls.
WEB = "web"
STUDIO_ID = "0190c0de-0000-7000-8000-000000000001"  # an id naming nothing: the studio's cells

ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN_ROLE = "anonymous", "student", "instructor", "admin"
OTHER_INSTRUCTOR = "other_instructor"  # an instructor who does not own the course under test
DELETED, SUSPENDED = "deleted", "suspended"
CALLERS = [ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN_ROLE, DELETED, SUSPENDED]
COURSE_CALLERS = [ANONYMOUS, STUDENT, INSTRUCTOR, OTHER_INSTRUCTOR, ADMIN_ROLE, DELETED, SUSPENDED]
LIVE_ROLES = {STUDENT, INSTRUCTOR, OTHER_INSTRUCTOR, ADMIN_ROLE}
ROLES_WITH_PERMISSION = {
    PUBLIC: set(COURSE_CALLERS),
    SELF: LIVE_ROLES,
    ADMIN: {ADMIN_ROLE},
    AUDITOR: {ADMIN_ROLE},
    PUBLIC_READ: LIVE_ROLES | {ANONYMOUS},
    CATALOG: LIVE_ROLES | {ANONYMOUS},
    AUTHOR: {INSTRUCTOR, OTHER_INSTRUCTOR, ADMIN_ROLE},
    OWNER: {INSTRUCTOR, ADMIN_ROLE},
    MANAGE: {ADMIN_ROLE},
    LEARN: LIVE_ROLES,
    REVIEW_READ: LIVE_ROLES | {ANONYMOUS},
    REVIEWER: LIVE_ROLES,
    REVIEW_AUTHOR: LIVE_ROLES,
    AUTHOR_OR_ADMIN: LIVE_ROLES,
    MODERATOR: {INSTRUCTOR, ADMIN_ROLE},
    ATTEMPT: LIVE_ROLES,
    TUTOR: LIVE_ROLES,
}

# The state of the course a course cell runs against.
PUBLISHED, DRAFT = "published", "draft"
# What a course cell needs built first: nothing, a course (section + video), or a quiz too.
COURSE, QUIZ = "course", "quiz"
# A learning cell's caller, relative to the course under test: enrolled (active), never
# enrolled, enrolled then cancelled, or calling on another learner's enrolment. (DRAFT above:
# the course is still a draft, so nobody could enrol.)
ENROLLED, NOT_ENROLLED, CANCELLED, OTHERS = "enrolled", "not_enrolled", "cancelled", "others"
# A review cell's relation to the review under test: the caller's own (published, or hidden
# by the course's owner); OTHERS is another learner's published review, HIDDEN that review
# hidden by the course's owner.
MINE, HIDDEN_MINE, HIDDEN = "mine", "hidden_mine", "hidden"
# An attempt cell's relation: the caller has an attempt at the quiz in progress (OPEN), or
# one it already submitted; OTHERS is the bystander's open attempt.
OPEN, SUBMITTED = "open", "submitted"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell registers and logs in a few accounts; argon2's production cost (~0.2 s per
    account) would dominate the run and has no bearing on authorization."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="module")
async def shared_app(
    db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    media = tmp_path_factory.mktemp("media")  # uploaded video files
    application = create_app(settings_for(db_url, media_dir=str(media)))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def app(shared_app: FastAPI, session_factory: async_sessionmaker[AsyncSession]) -> FastAPI:
    """One app per backend for the whole file, each test still in its own rolled-back
    transaction. A fresh app per test (conftest's `app`) builds the state of every route it
    serves on first use, which costs more than the requests of a cell."""
    shared_app.state.session_factory = session_factory
    return shared_app


@pytest.fixture
def login_as(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> LoginAs:
    """conftest's `login_as` (the account is registered directly, then logs in through the
    API), minus its `GET /users/me` round trip: the registration already knows the id."""

    async def make(role: str = STUDENT, email: str | None = None) -> Account:
        address = email or unique_email(role)
        async with UnitOfWork(session_factory) as uow:
            user = await UserService(uow).register(
                address, PASSWORD, f"{role.title()} User", roles=[role]
            )
            await uow.commit()
        response = await client.post(
            f"{API}/auth/login", json={"email": address, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens = response.json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        return Account(str(user.id), address, headers, tokens)

    return make


@dataclass
class World:
    """Who is around for one cell: the caller, another real user, and an admin operator."""

    client: httpx.AsyncClient
    operator: Account  # an admin used for setup and for checking side effects
    target: Account  # another real, live user (a student) that path parameters point at
    caller: Account | None  # None for the anonymous caller


@dataclass
class Call:
    """The concrete request a cell sends."""

    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    subject: str | None = None  # the id of what the call acts on, when the builder made it
    # A multipart form instead of JSON (a file upload): its fields and its files.
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


Build = Callable[[World], Awaitable[Call]]
# Course cells build from a CourseWorld (defined below); Rule.build takes either kind.
AnyBuild = Callable[[Any], Awaitable[Call]]


@dataclass(frozen=True)
class Rule:
    """One endpoint's decision. MATRIX keys are "METHOD /path"; a key may add "?query" for a
    variant of an endpoint whose query string changes who may call it (`?hard=true`), or
    "#name" for a variant whose body does (`#moderate`)."""

    policy: str
    status: int  # what an allowed caller gets for the realistic request
    build: AnyBuild
    in_schema: bool = True  # False for the routes FastAPI keeps out of /openapi.json
    fixture: str | None = None  # course cells: COURSE or QUIZ to build first, None for nothing
    draft: int | None = None  # course cells: also run on a draft course; allowed callers get this
    # Learning cells: the caller's relation to the course in which `status` applies (the one
    # where anonymous and dead callers also run), and what a live caller gets in the others.
    relation: str | None = None
    elsewhere: Mapping[str, int] = field(default_factory=dict)
    # Review cells: what a live caller outside the policy or the ownership gets.
    refusal: int = 403


def fixed(path: str, json: Any = None, params: dict[str, str] | None = None) -> AnyBuild:
    async def build(_world: Any) -> Call:
        return Call(path, json, params or {})

    return build


def on_target(suffix: str = "", json: Any = None) -> Build:
    async def build(world: World) -> Call:
        return Call(f"{API}/users/{world.target.id}{suffix}", json)

    return build


async def _register(_world: World) -> Call:
    body = {"email": unique_email("matrix"), "password": PASSWORD, "display_name": "New Learner"}
    return Call(f"{API}/auth/register", body)


async def _login(world: World) -> Call:
    return Call(f"{API}/auth/login", {"email": world.target.email, "password": PASSWORD})


async def _refresh(world: World) -> Call:
    return Call(f"{API}/auth/refresh", {"refresh_token": world.target.tokens["refresh_token"]})


async def _logout(world: World) -> Call:
    return Call(f"{API}/auth/logout", {"refresh_token": world.target.tokens["refresh_token"]})


async def _password_reset(world: World) -> Call:
    return Call(f"{API}/auth/password-reset", {"email": world.target.email})


async def _unlock(world: World) -> Call:
    # Something to unlock: the target's account is throttled (from this client's address).
    await throttle(world)
    return Call(f"{API}/users/{world.target.id}/unlock")


async def throttle(world: World) -> None:
    wrong = {"email": world.target.email, "password": "not-the-password"}
    for _ in range(5):
        response = await world.client.post(f"{API}/auth/login", json=wrong)
        assert response.status_code == 401, response.text
    assert (await target_login(world)).status_code == 429


async def target_login(world: World) -> httpx.Response:
    body = {"email": world.target.email, "password": PASSWORD}
    return await world.client.post(f"{API}/auth/login", json=body)


async def _restore(world: World) -> Call:
    # Something to restore: the operator soft-deletes the target first.
    deleted = await world.client.delete(
        f"{API}/users/{world.target.id}", headers=world.operator.headers
    )
    assert deleted.status_code == 204, deleted.text
    return Call(f"{API}/users/{world.target.id}/restore")


# Course content, built through the API by the course's owner.

COURSE_BODY: dict[str, Any] = {
    "title": "Testing Web APIs",
    "description": "Design a test suite that checks every endpoint against every caller.",
    "price": {"amount": "19.99", "currency": "USD"},
    "difficulty": "intermediate",
    "tags": ["testing", "http"],
    "objectives": ["Write an authorization matrix", "Test ownership rules"],
}
SECTION_BODY = {"title": "Getting Started", "position": 0}
VIDEO_BODY = {
    "title": "Welcome",
    "url": "https://videos.example.com/welcome.mp4",
    "duration_seconds": 95,
    "position": 0,
    "transcript": "Welcome to the course. Today we test who may call what.",
}
COURSE_PATCH = {
    "title": "Testing Web APIs, Revised",
    "price": {"amount": "24.99", "currency": "USD"},
}
NEW_VIDEO = {**VIDEO_BODY, "title": "Reading the Matrix", "position": 1}
VIDEO_PATCH = {"title": "Welcome Aboard", "duration_seconds": 120}
QUIZ_PATCH = {"title": "Final Checkpoint", "pass_mark": 80}
QUIZ_BODY = {
    "title": "Checkpoint",
    "pass_mark": 70,
    "max_attempts": 3,
    "time_limit_seconds": 600,
    "questions": [
        {
            "text": "Which status answers a request without credentials?",
            "type": "single_choice",
            "options": [
                {"text": "401 Unauthorized", "is_correct": True},
                {"text": "403 Forbidden", "is_correct": False},
            ],
        }
    ],
}


@dataclass
class Content:
    """The course under test: one section with one video (enough to publish), and a quiz in
    that section when the cell needs one."""

    course_id: str
    section_id: str
    video_id: str
    quiz_id: str | None = None


@dataclass
class CourseWorld:
    """Who is around for one course cell: the course's owner and what it built."""

    client: httpx.AsyncClient
    owner: Account  # the instructor who owns the course under test
    content: Content | None
    caller: Account | None = None  # None for the anonymous caller
    caller_kind: str = ANONYMOUS

    @property
    def course(self) -> Content:
        assert self.content is not None, "this cell builds no course"
        return self.content

    async def as_owner(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        """A setup request by the owner, which must succeed."""
        response = await self.client.request(
            method, f"{API}{path}", json=json, headers=self.owner.headers
        )
        assert response.status_code == status, f"setup {method} {path}: {response.text}"
        return response.json() if response.content else None


async def build_content(
    client: httpx.AsyncClient, owner: Account, fixture: str, publish: bool
) -> Content:
    world = CourseWorld(client, owner, None)
    course = await world.as_owner("POST", "/courses", COURSE_BODY, 201)
    section = await world.as_owner("POST", f"/courses/{course['id']}/sections", SECTION_BODY, 201)
    video = await world.as_owner("POST", f"/sections/{section['id']}/videos", VIDEO_BODY, 201)
    content = Content(course["id"], section["id"], video["id"])
    if fixture == QUIZ:
        quiz = await world.as_owner("POST", f"/sections/{section['id']}/quizzes", QUIZ_BODY, 201)
        content.quiz_id = quiz["id"]
    if publish:
        published = await world.as_owner("POST", f"/courses/{course['id']}/publish")
        assert published["status"] == "published"
    return content


def on_course(suffix: str = "", json: Any = None, params: dict[str, str] | None = None) -> AnyBuild:
    async def build(world: CourseWorld) -> Call:
        return Call(f"{API}/courses/{world.course.course_id}{suffix}", json, params or {})

    return build


def on_section(suffix: str = "", json: Any = None) -> AnyBuild:
    async def build(world: CourseWorld) -> Call:
        return Call(f"{API}/sections/{world.course.section_id}{suffix}", json)

    return build


def on_video(suffix: str = "", json: Any = None) -> AnyBuild:
    async def build(world: CourseWorld) -> Call:
        return Call(f"{API}/videos/{world.course.video_id}{suffix}", json)

    return build


def on_quiz(suffix: str = "", json: Any = None) -> AnyBuild:
    async def build(world: CourseWorld) -> Call:
        return Call(f"{API}/quizzes/{world.course.quiz_id}{suffix}", json)

    return build


async def _restore_course(world: CourseWorld) -> Call:
    # Something to restore: the owner soft-deletes the course first.
    await world.as_owner("DELETE", f"/courses/{world.course.course_id}", status=204)
    return Call(f"{API}/courses/{world.course.course_id}/restore", subject=world.course.course_id)


async def _order_sections(world: CourseWorld) -> Call:
    c = world.course
    return Call(f"{API}/courses/{c.course_id}/sections/order", {"ids": [c.section_id]})


async def _order_videos(world: CourseWorld) -> Call:
    c = world.course
    return Call(f"{API}/sections/{c.section_id}/videos/order", {"ids": [c.video_id]})


async def _order_quizzes(world: CourseWorld) -> Call:
    c = world.course
    return Call(f"{API}/sections/{c.section_id}/quizzes/order", {"ids": [c.quiz_id]})


async def _spare_section(world: CourseWorld) -> str:
    """A second section, so that removing it leaves a published course its video."""
    path = f"/courses/{world.course.course_id}/sections"
    return str((await world.as_owner("POST", path, {"title": "Appendix"}, 201))["id"])


@functools.cache
def upload_clip() -> bytes:
    return demo_clip(3)


async def _upload_video(world: CourseWorld) -> Call:
    return Call(
        f"{API}/sections/{world.course.section_id}/videos/upload",
        data={"title": NEW_VIDEO["title"]},
        files={"file": ("clip.webm", upload_clip(), "video/webm")},
    )


async def _spare_video(world: CourseWorld) -> str:
    """A second video, so that removing it leaves a published course its first one."""
    body = {**VIDEO_BODY, "title": "Bonus Round", "position": 1}
    path = f"/sections/{world.course.section_id}/videos"
    return str((await world.as_owner("POST", path, body, 201))["id"])


async def _delete_section(world: CourseWorld) -> Call:
    spare = await _spare_section(world)
    return Call(f"{API}/sections/{spare}", subject=spare)


async def _restore_section(world: CourseWorld) -> Call:
    spare = await _spare_section(world)
    await world.as_owner("DELETE", f"/sections/{spare}", status=204)
    return Call(f"{API}/sections/{spare}/restore", subject=spare)


async def _delete_video(world: CourseWorld) -> Call:
    spare = await _spare_video(world)
    return Call(f"{API}/videos/{spare}", subject=spare)


async def _restore_video(world: CourseWorld) -> Call:
    spare = await _spare_video(world)
    await world.as_owner("DELETE", f"/videos/{spare}", status=204)
    return Call(f"{API}/videos/{spare}/restore", subject=spare)


async def _restore_quiz(world: CourseWorld) -> Call:
    await world.as_owner("DELETE", f"/quizzes/{world.course.quiz_id}", status=204)
    return Call(f"{API}/quizzes/{world.course.quiz_id}/restore", subject=world.course.quiz_id)


# Learning: a player heartbeat after the first five seconds of the video.
PROGRESS_BODY = {"position_seconds": 5, "played_segments": [[0, 5]]}


async def _sync_heartbeats(world: CourseWorld) -> Call:
    beat = {"video_id": str(world.course.video_id), **PROGRESS_BODY}
    return Call(f"{API}/progress/heartbeats", {"heartbeats": [beat, beat]})


@dataclass
class LearningWorld(CourseWorld):
    """A course cell seen from the learners' side: the course's owner built it; the caller
    stands in `relation` to it, next to a bystander enrolled in it (published courses only)."""

    relation: str = NOT_ENROLLED
    enrollment: str | None = None  # the caller's own enrolment, when its relation gives one
    bystander: Account | None = None  # another student, enrolled in the course
    bystander_enrollment: str | None = None

    async def enrol(self, account: Account) -> str:
        """A setup enrolment, which must succeed."""
        path = f"{API}/courses/{self.course.course_id}/enrollments"
        response = await self.client.post(path, headers=account.headers)
        assert response.status_code == 201, f"setup enrolment: {response.text}"
        return str(response.json()["id"])

    async def enrollment_status(self, account: Account, enrollment_id: str) -> str:
        """The status of one of `account`'s enrolments, as its learner lists them."""
        response = await self.client.get(f"{API}/users/me/enrollments", headers=account.headers)
        assert response.status_code == 200, response.text
        found = [e["status"] for e in response.json()["items"] if e["id"] == enrollment_id]
        assert len(found) == 1, response.text
        return str(found[0])


async def _cancel_enrollment(world: LearningWorld) -> Call:
    # The caller's own enrolment; the bystander's when the cell is about another learner's
    # (and for callers who have none: the anonymous one still names a real enrolment).
    own = world.enrollment if world.relation != OTHERS else None
    target = own or world.bystander_enrollment
    assert target is not None
    return Call(f"{API}/enrollments/{target}/cancel", subject=target)


# Reviews: the caller's (4 stars), the bystander's (5 stars), and an author's revision.
REVIEW_BODY: dict[str, Any] = {"rating": 4, "body": "Clear examples, well paced."}
BYSTANDER_REVIEW: dict[str, Any] = {"rating": 5, "body": "The ownership chapter is worth it."}
REVIEW_EDIT: dict[str, Any] = {"rating": 2, "body": "Revised: too fast in places."}


@dataclass
class ReviewWorld(LearningWorld):
    """A learning world with reviews: the caller's own (`review`) when its relation gives it
    one, and the bystander's (`bystander_review`) when the cell is about another learner's."""

    review: str | None = None
    bystander_review: str | None = None

    @property
    def subject(self) -> str:
        """The review the cell acts on: the caller's own, else the bystander's (which the
        anonymous caller names in the author's cells too)."""
        found = self.review or self.bystander_review
        assert found is not None, "this cell builds no review"
        return found

    async def post_review(self, account: Account, body: dict[str, Any]) -> str:
        """A setup review, which must succeed."""
        path = f"{API}/courses/{self.course.course_id}/reviews"
        response = await self.client.post(path, json=body, headers=account.headers)
        assert response.status_code == 201, f"setup review: {response.text}"
        return str(response.json()["id"])

    async def ratings(self) -> tuple[int, dict[str, int], float]:
        """The course's rating_count, histogram and rating, as the catalog shows them."""
        response = await self.client.get(f"{API}/courses/{self.course.course_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        return body["rating_count"], body["rating_histogram"], body["rating"]


def on_review(suffix: str = "", json: Any = None) -> AnyBuild:
    async def build(world: ReviewWorld) -> Call:
        return Call(f"{API}/reviews/{world.subject}{suffix}", json, subject=world.subject)

    return build


async def _moderate_review(world: ReviewWorld) -> Call:
    # Hide a published review; show a hidden one again.
    hidden = world.relation in (HIDDEN, HIDDEN_MINE)
    body = {"status": "published" if hidden else "hidden"}
    return Call(f"{API}/reviews/{world.subject}", body, subject=world.subject)


async def _restore_review(world: ReviewWorld) -> Call:
    # Something to restore: the review's author soft-deletes it first.
    author = world.caller if world.review is not None else world.bystander
    assert author is not None
    deleted = await world.client.delete(f"{API}/reviews/{world.subject}", headers=author.headers)
    assert deleted.status_code == 204, f"setup delete: {deleted.text}"
    return Call(f"{API}/reviews/{world.subject}/restore", subject=world.subject)


@dataclass
class AttemptWorld(LearningWorld):
    """A learning world with a quiz: the caller's own attempt (`attempt`) when its relation
    gives it one, and the bystander's open one (`bystander_attempt`) on a published course."""

    attempt: str | None = None
    bystander_attempt: str | None = None
    submission: dict[str, Any] | None = None  # what `answers` built, for the cell's later use

    @property
    def quiz_id(self) -> str:
        assert self.course.quiz_id is not None, "this cell builds no quiz"
        return self.course.quiz_id

    async def start(self, account: Account) -> str:
        """A setup attempt, which must succeed."""
        path = f"{API}/quizzes/{self.quiz_id}/attempts"
        response = await self.client.post(path, headers=account.headers)
        assert response.status_code == 201, f"setup attempt: {response.text}"
        return str(response.json()["id"])

    async def answers(self) -> dict[str, Any]:
        """A submission answering every question right, from the quiz's real question and
        option ids (the answer keys as the course's owner sees them)."""
        if self.submission is None:
            quiz = await self.as_owner("GET", f"/quizzes/{self.quiz_id}")
            self.submission = {
                "answers": [
                    {
                        "question_id": q["id"],
                        "option_ids": [o["id"] for o in q["options"] if o["is_correct"]],
                    }
                    for q in quiz["questions"]
                ]
            }
        return self.submission


def attempt_target(world: AttemptWorld) -> str:
    """The caller's own attempt; the bystander's when the cell is about another learner's
    (and for callers who have none: the anonymous one still names a real attempt)."""
    own = world.attempt if world.relation != OTHERS else None
    target = own or world.bystander_attempt
    assert target is not None
    return target


async def _read_attempt(world: AttemptWorld) -> Call:
    target = attempt_target(world)
    return Call(f"{API}/attempts/{target}", subject=target)


async def _save_answers(world: AttemptWorld) -> Call:
    target = attempt_target(world)
    return Call(f"{API}/attempts/{target}/answers", await world.answers(), subject=target)


async def _grant_extra_attempts(world: CourseWorld) -> Call:
    # A learner of the course to grant to: registered and, on a published course, enrolled
    # (a draft has no learners: the grant finds no enrolment there, 404).
    email = unique_email("grantee")
    body = {"email": email, "password": PASSWORD, "display_name": "Grant Ee"}
    registered = await world.client.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201, f"setup register: {registered.text}"
    user_id = str(registered.json()["id"])
    course = await world.as_owner("GET", f"/courses/{world.course.course_id}")
    if course["status"] == "published":
        login = await world.client.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, f"setup login: {login.text}"
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        path = f"{API}/courses/{world.course.course_id}/enrollments"
        enrolled = await world.client.post(path, headers=headers)
        assert enrolled.status_code == 201, f"setup enrolment: {enrolled.text}"
    return Call(
        f"{API}/quizzes/{world.course.quiz_id}/extra-attempts",
        {"user_id": user_id, "extra_attempts": 1},
        subject=user_id,
    )


async def _submit_attempt(world: AttemptWorld) -> Call:
    # The caller's own attempt; the bystander's when the cell is about another learner's
    # (and for callers who have none: the anonymous one still names a real attempt).
    own = world.attempt if world.relation != OTHERS else None
    target = own or world.bystander_attempt
    assert target is not None
    return Call(f"{API}/attempts/{target}/submit", await world.answers(), subject=target)


# The AI tutor: a question the course's only video answers.
TUTOR_QUESTION: dict[str, Any] = {"content": "Who may call what in this course?"}


@dataclass
class TutorWorld(LearningWorld):
    """A learning world with tutor conversations: the caller's own (`conversation`) when its
    relation gives it one, and the bystander's, with one exchange in it, on a published
    course."""

    conversation: str | None = None
    bystander_conversation: str | None = None

    @property
    def subject(self) -> str:
        """The conversation the cell acts on: the caller's own, else the bystander's (which
        the anonymous caller names too)."""
        own = self.conversation if self.relation != OTHERS else None
        found = own or self.bystander_conversation
        assert found is not None, "this cell builds no conversation"
        return found

    async def start(self, account: Account) -> str:
        """A setup conversation, which must succeed."""
        path = f"{API}/courses/{self.course.course_id}/conversations"
        response = await self.client.post(path, json={}, headers=account.headers)
        assert response.status_code == 201, f"setup conversation: {response.text}"
        return str(response.json()["id"])


def on_conversation(suffix: str = "", json: Any = None) -> AnyBuild:
    async def build(world: TutorWorld) -> Call:
        return Call(f"{API}/conversations/{world.subject}{suffix}", json, subject=world.subject)

    return build


MATRIX: dict[str, Rule] = {
    # Operations, at the root.
    "GET /health": Rule(PUBLIC, 200, fixed("/health")),
    "GET /ready": Rule(PUBLIC, 200, fixed("/ready")),
    "GET /metrics": Rule(PUBLIC, 200, fixed("/metrics")),
    "GET /openapi.json": Rule(PUBLIC, 200, fixed("/openapi.json"), in_schema=False),
    "GET /docs": Rule(PUBLIC, 200, fixed("/docs"), in_schema=False),
    "GET /redoc": Rule(PUBLIC, 200, fixed("/redoc"), in_schema=False),
    "GET /redoc/logo-mini.svg": Rule(PUBLIC, 200, fixed("/redoc/logo-mini.svg"), in_schema=False),
    # The docs pages' packaged assets (a static mount).
    "GET /docs-assets/{path}": Rule(
        PUBLIC, 200, fixed("/docs-assets/swagger/swagger-ui.css"), in_schema=False
    ),
    # The web app for learners (issue 16) and its static files.
    "GET /static/{path}": Rule(PUBLIC, 200, fixed("/static/app.css"), in_schema=False),
    "GET /": Rule(WEB, 200, fixed("/"), in_schema=False),
    "GET /courses/{slug}": Rule(WEB, 404, fixed("/courses/no-such-course"), in_schema=False),
    "POST /courses/{slug}/enrol": Rule(
        WEB, 403, fixed("/courses/no-such-course/enrol"), in_schema=False
    ),
    "GET /login": Rule(WEB, 200, fixed("/login"), in_schema=False),
    "POST /login": Rule(WEB, 403, fixed("/login"), in_schema=False),
    "GET /register": Rule(WEB, 200, fixed("/register"), in_schema=False),
    "POST /register": Rule(WEB, 403, fixed("/register"), in_schema=False),
    "POST /logout": Rule(WEB, 403, fixed("/logout"), in_schema=False),
    # The account pages, the password reset pages and the tutor chat: a page for a
    # logged-in learner sends the others to log in; a form needs its CSRF token first.
    "GET /account": Rule(WEB, 303, fixed("/account"), in_schema=False),
    "POST /account/name": Rule(WEB, 403, fixed("/account/name"), in_schema=False),
    "POST /account/password": Rule(WEB, 403, fixed("/account/password"), in_schema=False),
    "GET /account/export": Rule(WEB, 303, fixed("/account/export"), in_schema=False),
    "GET /password-reset": Rule(WEB, 200, fixed("/password-reset"), in_schema=False),
    "POST /password-reset": Rule(WEB, 403, fixed("/password-reset"), in_schema=False),
    "GET /password-reset/confirm": Rule(
        WEB, 200, fixed("/password-reset/confirm"), in_schema=False
    ),
    "POST /password-reset/confirm": Rule(
        WEB, 403, fixed("/password-reset/confirm"), in_schema=False
    ),
    "GET /courses/{slug}/tutor": Rule(
        WEB, 303, fixed("/courses/no-such-course/tutor"), in_schema=False
    ),
    "POST /courses/{slug}/tutor": Rule(
        WEB, 403, fixed("/courses/no-such-course/tutor"), in_schema=False
    ),
    "POST /courses/{slug}/tutor/messages": Rule(
        WEB, 403, fixed("/courses/no-such-course/tutor/messages"), in_schema=False
    ),
    # Quiz pages and the review form (a logged-out browser is sent to log in first).
    "GET /quizzes/{quiz_id}": Rule(WEB, 303, fixed(f"/quizzes/{uuid.uuid4()}"), in_schema=False),
    "POST /quizzes/{quiz_id}/attempts": Rule(
        WEB, 403, fixed(f"/quizzes/{uuid.uuid4()}/attempts"), in_schema=False
    ),
    "GET /attempts/{attempt_id}": Rule(
        WEB, 303, fixed(f"/attempts/{uuid.uuid4()}"), in_schema=False
    ),
    "POST /attempts/{attempt_id}/answers": Rule(
        WEB, 403, fixed(f"/attempts/{uuid.uuid4()}/answers"), in_schema=False
    ),
    "POST /attempts/{attempt_id}/submit": Rule(
        WEB, 403, fixed(f"/attempts/{uuid.uuid4()}/submit"), in_schema=False
    ),
    "POST /courses/{slug}/review": Rule(
        WEB, 403, fixed("/courses/no-such-course/review"), in_schema=False
    ),
    # The admin console (issue 17): logged out, a page goes to the login page (303), a form
    # is refused for its missing CSRF token first. Who may use it: tests/web/test_admin.py.
    "GET /admin": Rule(WEB, 303, fixed("/admin"), in_schema=False),
    "GET /admin/users": Rule(WEB, 303, fixed("/admin/users"), in_schema=False),
    "GET /admin/audit": Rule(WEB, 303, fixed("/admin/audit"), in_schema=False),
    "GET /admin/deleted": Rule(WEB, 303, fixed("/admin/deleted"), in_schema=False),
    "GET /admin/health": Rule(WEB, 303, fixed("/admin/health"), in_schema=False),
    "GET /admin/users/{key}": Rule(
        WEB, 303, fixed("/admin/users/00000000-0000-0000-0000-000000000000"), in_schema=False
    ),
    "POST /admin/users/{key}/roles": Rule(
        WEB, 403, fixed("/admin/users/00000000-0000-0000-0000-000000000000/roles"), in_schema=False
    ),
    "POST /admin/users/{key}/status": Rule(
        WEB, 403, fixed("/admin/users/00000000-0000-0000-0000-000000000000/status"), in_schema=False
    ),
    "POST /admin/users/{key}/unlock": Rule(
        WEB, 403, fixed("/admin/users/00000000-0000-0000-0000-000000000000/unlock"), in_schema=False
    ),
    "POST /admin/users/{key}/delete": Rule(
        WEB, 403, fixed("/admin/users/00000000-0000-0000-0000-000000000000/delete"), in_schema=False
    ),
    "GET /admin/users/{key}/restore": Rule(
        WEB,
        303,
        fixed("/admin/users/00000000-0000-0000-0000-000000000000/restore"),
        in_schema=False,
    ),
    "POST /admin/users/{key}/restore": Rule(
        WEB,
        403,
        fixed("/admin/users/00000000-0000-0000-0000-000000000000/restore"),
        in_schema=False,
    ),
    "GET /admin/users/{key}/erase": Rule(
        WEB, 303, fixed("/admin/users/00000000-0000-0000-0000-000000000000/erase"), in_schema=False
    ),
    "POST /admin/users/{key}/erase": Rule(
        WEB, 403, fixed("/admin/users/00000000-0000-0000-0000-000000000000/erase"), in_schema=False
    ),
    "GET /admin/courses/{key}/restore": Rule(
        WEB,
        303,
        fixed("/admin/courses/00000000-0000-0000-0000-000000000000/restore"),
        in_schema=False,
    ),
    "POST /admin/courses/{key}/restore": Rule(
        WEB,
        403,
        fixed("/admin/courses/00000000-0000-0000-0000-000000000000/restore"),
        in_schema=False,
    ),
    "GET /admin/courses/{key}/delete": Rule(
        WEB,
        303,
        fixed("/admin/courses/00000000-0000-0000-0000-000000000000/delete"),
        in_schema=False,
    ),
    "POST /admin/courses/{key}/delete": Rule(
        WEB,
        403,
        fixed("/admin/courses/00000000-0000-0000-0000-000000000000/delete"),
        in_schema=False,
    ),
    # The instructor's studio (issue 17): a logged-out browser is sent to log in (303)
    # before anything is looked up; a form without its CSRF token is refused (403).
    "GET /studio": Rule(WEB, 303, fixed("/studio"), in_schema=False),
    "GET /studio/new": Rule(WEB, 303, fixed("/studio/new"), in_schema=False),
    "POST /studio/new": Rule(WEB, 403, fixed("/studio/new"), in_schema=False),
    "GET /studio/courses/{course_id}": Rule(
        WEB, 303, fixed(f"/studio/courses/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/courses/{course_id}": Rule(
        WEB, 403, fixed(f"/studio/courses/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/courses/{course_id}/publish": Rule(
        WEB, 403, fixed(f"/studio/courses/{STUDIO_ID}/publish"), in_schema=False
    ),
    "POST /studio/courses/{course_id}/archive": Rule(
        WEB, 403, fixed(f"/studio/courses/{STUDIO_ID}/archive"), in_schema=False
    ),
    "POST /studio/courses/{course_id}/sections": Rule(
        WEB, 403, fixed(f"/studio/courses/{STUDIO_ID}/sections"), in_schema=False
    ),
    "POST /studio/sections/{section_id}": Rule(
        WEB, 403, fixed(f"/studio/sections/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/sections/{section_id}/delete": Rule(
        WEB, 403, fixed(f"/studio/sections/{STUDIO_ID}/delete"), in_schema=False
    ),
    "POST /studio/sections/{section_id}/move": Rule(
        WEB, 403, fixed(f"/studio/sections/{STUDIO_ID}/move"), in_schema=False
    ),
    "POST /studio/sections/{section_id}/videos": Rule(
        WEB, 403, fixed(f"/studio/sections/{STUDIO_ID}/videos"), in_schema=False
    ),
    "GET /studio/sections/{section_id}/quizzes/new": Rule(
        WEB, 303, fixed(f"/studio/sections/{STUDIO_ID}/quizzes/new"), in_schema=False
    ),
    "POST /studio/sections/{section_id}/quizzes": Rule(
        WEB, 403, fixed(f"/studio/sections/{STUDIO_ID}/quizzes"), in_schema=False
    ),
    "GET /studio/videos/{video_id}": Rule(
        WEB, 303, fixed(f"/studio/videos/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/videos/{video_id}": Rule(
        WEB, 403, fixed(f"/studio/videos/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/videos/{video_id}/delete": Rule(
        WEB, 403, fixed(f"/studio/videos/{STUDIO_ID}/delete"), in_schema=False
    ),
    "POST /studio/videos/{video_id}/move": Rule(
        WEB, 403, fixed(f"/studio/videos/{STUDIO_ID}/move"), in_schema=False
    ),
    "GET /studio/quizzes/{quiz_id}": Rule(
        WEB, 303, fixed(f"/studio/quizzes/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/quizzes/{quiz_id}": Rule(
        WEB, 403, fixed(f"/studio/quizzes/{STUDIO_ID}"), in_schema=False
    ),
    "POST /studio/quizzes/{quiz_id}/delete": Rule(
        WEB, 403, fixed(f"/studio/quizzes/{STUDIO_ID}/delete"), in_schema=False
    ),
    "POST /studio/quizzes/{quiz_id}/move": Rule(
        WEB, 403, fixed(f"/studio/quizzes/{STUDIO_ID}/move"), in_schema=False
    ),
    # The studio's teaching pages (issue 17, item 3): logged out, a page sends the browser
    # to log in (303); a form without its CSRF token is refused (403).
    "GET /studio/courses/{course_id}/learners": Rule(
        WEB, 303, fixed(f"/studio/courses/{STUDIO_ID}/learners"), in_schema=False
    ),
    "GET /studio/courses/{course_id}/learners.csv": Rule(
        WEB, 303, fixed(f"/studio/courses/{STUDIO_ID}/learners.csv"), in_schema=False
    ),
    "POST /studio/courses/{course_id}/learners/grant": Rule(
        WEB, 403, fixed(f"/studio/courses/{STUDIO_ID}/learners/grant"), in_schema=False
    ),
    "GET /studio/courses/{course_id}/reviews": Rule(
        WEB, 303, fixed(f"/studio/courses/{STUDIO_ID}/reviews"), in_schema=False
    ),
    "POST /studio/reviews/{review_id}/hide": Rule(
        WEB, 403, fixed(f"/studio/reviews/{STUDIO_ID}/hide"), in_schema=False
    ),
    "POST /studio/reviews/{review_id}/show": Rule(
        WEB, 403, fixed(f"/studio/reviews/{STUDIO_ID}/show"), in_schema=False
    ),
    "GET /studio/courses/{course_id}/stats": Rule(
        WEB, 303, fixed(f"/studio/courses/{STUDIO_ID}/stats"), in_schema=False
    ),
    # The learner's pages (issue 16): a logged-out browser is sent to the login page.
    "GET /learning": Rule(WEB, 303, fixed("/learning"), in_schema=False),
    "GET /learn/{slug}": Rule(WEB, 303, fixed("/learn/no-such-course"), in_schema=False),
    "GET /learn/{slug}/videos/{video_id}": Rule(
        WEB, 404, fixed(f"/learn/no-such-course/videos/{uuid.UUID(int=1)}"), in_schema=False
    ),
    "POST /learn/videos/{video_id}/heartbeats": Rule(
        WEB, 403, fixed(f"/learn/videos/{uuid.UUID(int=1)}/heartbeats"), in_schema=False
    ),
    "GET /media/{key:path}": Rule(
        WEB, 404, fixed(f"/media/courses/{uuid.UUID(int=1)}/1.webm"), in_schema=False
    ),
    # Authentication.
    f"POST {API}/auth/register": Rule(PUBLIC, 201, _register),
    f"POST {API}/auth/login": Rule(PUBLIC, 200, _login),
    f"POST {API}/auth/refresh": Rule(PUBLIC, 200, _refresh),
    f"POST {API}/auth/logout": Rule(PUBLIC, 204, _logout),
    f"POST {API}/auth/password-reset": Rule(PUBLIC, 202, _password_reset),
    # Anyone may try a token; an unknown one is a 400 for everyone (the flow's own tests use
    # real tokens: tests/api/test_account_passwords.py).
    f"POST {API}/auth/password-reset/confirm": Rule(
        PUBLIC,
        400,
        fixed(
            f"{API}/auth/password-reset/confirm",
            {"token": "q8vV1Xh3JrQ0b2yY7nWcTgA5mKfLpZs9RdEuIoHjNkM", "new_password": "a new one!"},
        ),
    ),
    # Without a refresh token, logout ends the session of the bearer access token.
    f"POST {API}/auth/logout#bearer": Rule(SELF, 204, fixed(f"{API}/auth/logout")),
    # The caller's own account.
    f"GET {API}/users/me": Rule(SELF, 200, fixed(f"{API}/users/me")),
    f"PATCH {API}/users/me": Rule(
        SELF, 200, fixed(f"{API}/users/me", {"display_name": "Renamed Self"})
    ),
    f"POST {API}/users/me/password": Rule(
        SELF,
        204,
        fixed(
            f"{API}/users/me/password",
            {"current_password": PASSWORD, "new_password": "a new passphrase"},
        ),
    ),
    f"GET {API}/users/me/activity": Rule(SELF, 200, fixed(f"{API}/users/me/activity")),
    f"GET {API}/users/me/export": Rule(SELF, 200, fixed(f"{API}/users/me/export")),
    f"GET {API}/users/me/stats": Rule(SELF, 200, fixed(f"{API}/users/me/stats")),
    # Public profiles (users:read_profiles, a public permission).
    f"GET {API}/users/{{user_id}}/profile": Rule(PUBLIC_READ, 200, on_target("/profile")),
    f"GET {API}/users/me/conversations": Rule(SELF, 200, fixed(f"{API}/users/me/conversations")),
    # Account administration.
    f"GET {API}/users": Rule(ADMIN, 200, fixed(f"{API}/users")),
    f"GET {API}/users?deleted=only": Rule(
        ADMIN, 200, fixed(f"{API}/users", params={"deleted": "only"})
    ),
    f"GET {API}/users/{{user_id}}": Rule(ADMIN, 200, on_target()),
    f"PATCH {API}/users/{{user_id}}": Rule(
        ADMIN, 200, on_target(json={"display_name": "Renamed By Someone"})
    ),
    f"DELETE {API}/users/{{user_id}}": Rule(ADMIN, 204, on_target()),
    f"POST {API}/users/{{user_id}}/restore": Rule(ADMIN, 200, _restore),
    f"POST {API}/users/{{user_id}}/unlock": Rule(ADMIN, 204, _unlock),
    f"PUT {API}/users/{{user_id}}/roles": Rule(
        ADMIN, 200, on_target("/roles", {"roles": ["admin", "student"]})
    ),
    # The audit trail.
    f"GET {API}/audit": Rule(AUDITOR, 200, fixed(f"{API}/audit")),
    f"GET {API}/audit?filters": Rule(
        AUDITOR,
        200,
        fixed(f"{API}/audit", params={"entity_type": "user", "action": "create", "limit": "5"}),
    ),
    # The catalog and the course lifecycle ("instructor" owns the course under test).
    f"GET {API}/courses": Rule(CATALOG, 200, fixed(f"{API}/courses"), fixture=COURSE),
    f"GET {API}/courses?mine=true": Rule(
        AUTHOR, 200, fixed(f"{API}/courses", params={"mine": "true"}), fixture=COURSE
    ),
    # Soft-deleted courses and reviews, for an admin to find what to restore.
    f"GET {API}/courses?deleted=only": Rule(
        MANAGE, 200, fixed(f"{API}/courses", params={"deleted": "only"}), fixture=COURSE
    ),
    f"GET {API}/courses/{{course_id}}/reviews?deleted=only": Rule(
        MANAGE, 200, on_course("/reviews", params={"deleted": "only"}), fixture=COURSE
    ),
    f"POST {API}/courses": Rule(AUTHOR, 201, fixed(f"{API}/courses", COURSE_BODY)),
    f"GET {API}/courses/{{course_id}}": Rule(CATALOG, 200, on_course(), fixture=COURSE, draft=200),
    f"PATCH {API}/courses/{{course_id}}": Rule(
        OWNER, 200, on_course(json=COURSE_PATCH), fixture=COURSE, draft=200
    ),
    f"DELETE {API}/courses/{{course_id}}": Rule(OWNER, 204, on_course(), fixture=COURSE, draft=204),
    f"DELETE {API}/courses/{{course_id}}?hard=true": Rule(
        MANAGE, 204, on_course(params={"hard": "true"}), fixture=COURSE
    ),
    f"POST {API}/courses/{{course_id}}/restore": Rule(
        OWNER, 200, _restore_course, fixture=COURSE, draft=200
    ),
    # Publishing a published course is a no-op 200; on a draft it is the real thing.
    f"POST {API}/courses/{{course_id}}/publish": Rule(
        OWNER, 200, on_course("/publish"), fixture=COURSE, draft=200
    ),
    # Only a published course can be archived: the owner gets 409 `conflict` on a draft.
    f"POST {API}/courses/{{course_id}}/archive": Rule(
        OWNER, 200, on_course("/archive"), fixture=COURSE, draft=409
    ),
    f"GET {API}/courses/{{course_id}}/history": Rule(
        OWNER, 200, on_course("/history"), fixture=COURSE, draft=200
    ),
    # The roster: the course's instructor and the admins (403 for others who see the course).
    f"GET {API}/courses/{{course_id}}/enrollments": Rule(
        OWNER, 200, on_course("/enrollments"), fixture=COURSE, draft=200
    ),
    f"GET {API}/courses/{{course_id}}/enrollments?format=csv": Rule(
        OWNER, 200, on_course("/enrollments", params={"format": "csv"}), fixture=COURSE, draft=200
    ),
    # Sections.
    f"POST {API}/courses/{{course_id}}/sections": Rule(
        OWNER, 201, on_course("/sections", {"title": "Going Further"}), fixture=COURSE, draft=201
    ),
    f"PUT {API}/courses/{{course_id}}/sections/order": Rule(
        OWNER, 200, _order_sections, fixture=COURSE, draft=200
    ),
    f"GET {API}/sections/{{section_id}}": Rule(
        CATALOG, 200, on_section(), fixture=COURSE, draft=200
    ),
    f"PATCH {API}/sections/{{section_id}}": Rule(
        OWNER, 200, on_section(json={"title": "First Steps"}), fixture=COURSE, draft=200
    ),
    f"DELETE {API}/sections/{{section_id}}": Rule(
        OWNER, 204, _delete_section, fixture=COURSE, draft=204
    ),
    f"POST {API}/sections/{{section_id}}/restore": Rule(
        OWNER, 200, _restore_section, fixture=COURSE, draft=200
    ),
    # Videos.
    f"POST {API}/sections/{{section_id}}/videos": Rule(
        OWNER, 201, on_section("/videos", NEW_VIDEO), fixture=COURSE, draft=201
    ),
    f"POST {API}/sections/{{section_id}}/videos/upload": Rule(
        OWNER, 201, _upload_video, fixture=COURSE, draft=201
    ),
    f"PUT {API}/sections/{{section_id}}/videos/order": Rule(
        OWNER, 200, _order_videos, fixture=COURSE, draft=200
    ),
    f"GET {API}/videos/{{video_id}}": Rule(CATALOG, 200, on_video(), fixture=COURSE, draft=200),
    f"PATCH {API}/videos/{{video_id}}": Rule(
        OWNER, 200, on_video(json=VIDEO_PATCH), fixture=COURSE, draft=200
    ),
    f"DELETE {API}/videos/{{video_id}}": Rule(OWNER, 204, _delete_video, fixture=COURSE, draft=204),
    f"POST {API}/videos/{{video_id}}/restore": Rule(
        OWNER, 200, _restore_video, fixture=COURSE, draft=200
    ),
    # Quizzes.
    f"POST {API}/sections/{{section_id}}/quizzes": Rule(
        OWNER, 201, on_section("/quizzes", QUIZ_BODY), fixture=COURSE, draft=201
    ),
    f"PUT {API}/sections/{{section_id}}/quizzes/order": Rule(
        OWNER, 200, _order_quizzes, fixture=QUIZ, draft=200
    ),
    f"GET {API}/quizzes/{{quiz_id}}": Rule(CATALOG, 200, on_quiz(), fixture=QUIZ, draft=200),
    f"PATCH {API}/quizzes/{{quiz_id}}": Rule(
        OWNER, 200, on_quiz(json=QUIZ_PATCH), fixture=QUIZ, draft=200
    ),
    f"DELETE {API}/quizzes/{{quiz_id}}": Rule(OWNER, 204, on_quiz(), fixture=QUIZ, draft=204),
    f"POST {API}/quizzes/{{quiz_id}}/restore": Rule(
        OWNER, 200, _restore_quiz, fixture=QUIZ, draft=200
    ),
    # Extra attempts are granted by the course's instructor or an admin, to a learner enrolled
    # in the course (a draft has none: 404).
    f"POST {API}/quizzes/{{quiz_id}}/extra-attempts": Rule(
        OWNER, 200, _grant_extra_attempts, fixture=QUIZ, draft=404
    ),
    # Learning ("relation" is the caller's to the course under test). A cancelled enrolment
    # comes back on re-enrolment; a second one is a 409; a draft does not exist to enrol in.
    f"POST {API}/courses/{{course_id}}/enrollments": Rule(
        LEARN,
        201,
        on_course("/enrollments"),
        relation=NOT_ENROLLED,
        elsewhere={ENROLLED: 409, CANCELLED: 201, DRAFT: 404},
    ),
    # Another learner's enrolment does not exist for the caller (404), unless an admin calls.
    f"POST {API}/enrollments/{{enrollment_id}}/cancel": Rule(
        LEARN, 200, _cancel_enrollment, relation=ENROLLED, elsewhere={OTHERS: 404, CANCELLED: 409}
    ),
    f"GET {API}/users/me/enrollments": Rule(
        LEARN,
        200,
        fixed(f"{API}/users/me/enrollments"),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 200},
    ),
    # Progress needs an enrolment (403 `not_enrolled`); a draft's videos do not exist (404).
    f"PUT {API}/videos/{{video_id}}/progress": Rule(
        LEARN,
        200,
        on_video("/progress", PROGRESS_BODY),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, CANCELLED: 403, DRAFT: 404},
    ),
    # The same rules for a batch naming the video (a player syncing its buffer).
    f"POST {API}/progress/heartbeats": Rule(
        LEARN,
        200,
        _sync_heartbeats,
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, CANCELLED: 403, DRAFT: 404},
    ),
    # On a draft, the answer for a course one is not enrolled in, as for an unknown id.
    f"GET {API}/courses/{{course_id}}/progress": Rule(
        LEARN,
        200,
        on_course("/progress"),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, CANCELLED: 403, DRAFT: 403},
    ),
    # Reviews ("relation" is the caller's to the review, or to the course for posting).
    # Posting takes an enrolment (403 `not_enrolled`); one review per learner (409).
    f"POST {API}/courses/{{course_id}}/reviews": Rule(
        REVIEWER,
        201,
        on_course("/reviews", REVIEW_BODY),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, MINE: 409},
    ),
    # The published reviews only, hidden ones not even to their moderators; no draft's.
    f"GET {API}/courses/{{course_id}}/reviews": Rule(
        REVIEW_READ,
        200,
        on_course("/reviews"),
        relation=OTHERS,
        elsewhere={HIDDEN: 200, DRAFT: 404},
    ),
    # A hidden review does not exist for those who may not see it (refusal: 404).
    f"GET {API}/reviews/{{review_id}}": Rule(
        REVIEW_READ,
        200,
        on_review(),
        relation=OTHERS,
        elsewhere={HIDDEN: 200, HIDDEN_MINE: 200},
        refusal=404,
    ),
    # Rating and body are the author's alone: not the course's instructor's, nor an admin's
    # (on another learner's review, every caller is refused).
    f"PATCH {API}/reviews/{{review_id}}": Rule(
        REVIEW_AUTHOR, 200, on_review(json=REVIEW_EDIT), relation=MINE, elsewhere={OTHERS: 200}
    ),
    # The status is the course's instructor's and the admins' (hiding, and showing again).
    f"PATCH {API}/reviews/{{review_id}}#moderate": Rule(
        MODERATOR, 200, _moderate_review, relation=OTHERS, elsewhere={HIDDEN: 200}
    ),
    f"DELETE {API}/reviews/{{review_id}}": Rule(
        AUTHOR_OR_ADMIN, 204, on_review(), relation=MINE, elsewhere={OTHERS: 204}
    ),
    # Someone else's deleted review is not there to restore (refusal: 404).
    f"POST {API}/reviews/{{review_id}}/restore": Rule(
        AUTHOR_OR_ADMIN, 200, _restore_review, relation=MINE, elsewhere={OTHERS: 200}, refusal=404
    ),
    # Quiz attempts ("relation" is the caller's to the quiz, or to the attempt for submitting).
    # Starting takes an active enrolment (403 `not_enrolled`) and no attempt in progress
    # (409); a draft's quiz does not exist (404).
    f"POST {API}/quizzes/{{quiz_id}}/attempts": Rule(
        ATTEMPT,
        201,
        on_quiz("/attempts"),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, CANCELLED: 403, OPEN: 409, DRAFT: 404},
    ),
    # One's attempts at a quiz (none yet when only enrolled); a draft's quiz does not exist.
    f"GET {API}/quizzes/{{quiz_id}}/attempts": Rule(
        ATTEMPT, 200, on_quiz("/attempts"), relation=OPEN, elsewhere={ENROLLED: 200, DRAFT: 404}
    ),
    # An attempt is read by its learner (open or submitted), the course's instructor and the
    # admins; another learner's attempt does not exist for anyone else (404), the other
    # instructors included. ("relation:caller" keys override the relation for one caller.)
    f"GET {API}/attempts/{{attempt_id}}": Rule(
        ATTEMPT,
        200,
        _read_attempt,
        relation=OPEN,
        elsewhere={OTHERS: 404, f"{OTHERS}:{ADMIN_ROLE}": 200, SUBMITTED: 200},
    ),
    # Saving answers is the attempt's learner's alone, while it is open.
    f"PUT {API}/attempts/{{attempt_id}}/answers": Rule(
        ATTEMPT, 200, _save_answers, relation=OPEN, elsewhere={OTHERS: 404, SUBMITTED: 409}
    ),
    # Another learner's attempt does not exist for the caller, even an admin (404); a
    # submitted attempt is not graded again (409).
    f"POST {API}/attempts/{{attempt_id}}/submit": Rule(
        ATTEMPT, 200, _submit_attempt, relation=OPEN, elsewhere={OTHERS: 404, SUBMITTED: 409}
    ),
    # The AI tutor ("relation" is the caller's to the course, or to the conversation).
    # Talking takes an active enrolment (403 `not_enrolled`); a draft does not exist (404).
    f"POST {API}/courses/{{course_id}}/conversations": Rule(
        TUTOR,
        201,
        on_course("/conversations", {"video_id": None}),
        relation=ENROLLED,
        elsewhere={NOT_ENROLLED: 403, CANCELLED: 403, DRAFT: 404},
    ),
    # Another learner's conversation does not exist for the caller, even an admin (404); a
    # learner who cancelled still reads their own, but asks no more.
    f"GET {API}/conversations/{{conversation_id}}": Rule(
        TUTOR, 200, on_conversation(), relation=MINE, elsewhere={OTHERS: 404, CANCELLED: 200}
    ),
    f"POST {API}/conversations/{{conversation_id}}/messages": Rule(
        TUTOR,
        201,
        on_conversation("/messages", TUTOR_QUESTION),
        relation=MINE,
        elsewhere={OTHERS: 404, CANCELLED: 403},
    ),
}

CELLS = [
    pytest.param(endpoint, caller, id=f"{endpoint}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy
    not in COURSE_POLICIES
    | LEARNING_POLICIES
    | REVIEW_POLICIES
    | ATTEMPT_POLICIES
    | TUTOR_POLICIES
    | {WEB}
    for caller in CALLERS
]
WEB_CELLS = [
    pytest.param(endpoint, caller, id=f"{endpoint}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy == WEB
    for caller in CALLERS
]
# On a draft, the dead callers are left out: a dead token is refused before any course is
# looked up, exactly as on the published course, where every endpoint checks it.
DRAFT_CALLERS = [c for c in COURSE_CALLERS if c not in (DELETED, SUSPENDED)]
COURSE_CELLS = [
    pytest.param(endpoint, scope, caller, id=f"{endpoint}-{scope}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy in COURSE_POLICIES
    for scope, callers in [(PUBLISHED, COURSE_CALLERS), (DRAFT, DRAFT_CALLERS)]
    if scope == PUBLISHED or rule.draft is not None
    for caller in callers
]
# Learning endpoints: every caller in the endpoint's main relation; the live ones (whose
# permission is not in question, only their relation to the course) in each other one.
LEARNING_CALLERS = [ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN_ROLE, DELETED, SUSPENDED]
LIVE_LEARNERS = [STUDENT, INSTRUCTOR, ADMIN_ROLE]
LEARNING_CELLS = [
    pytest.param(endpoint, relation, caller, id=f"{endpoint}-{relation}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy in LEARNING_POLICIES
    for relation, callers in [
        (rule.relation, LEARNING_CALLERS),
        *((other, LIVE_LEARNERS) for other in rule.elsewhere),
    ]
    for caller in callers
]
# Review endpoints: every caller in the endpoint's main relation; the live ones in each other
# one, and the anonymous one too where it may read (it has no review of its own).
LIVE_REVIEWERS = [STUDENT, INSTRUCTOR, OTHER_INSTRUCTOR, ADMIN_ROLE]


def review_callers(rule: Rule, relation: str) -> list[str]:
    if rule.policy == REVIEW_READ and relation not in (MINE, HIDDEN_MINE):
        return [ANONYMOUS, *LIVE_REVIEWERS]
    return LIVE_REVIEWERS


REVIEW_CELLS = [
    pytest.param(endpoint, relation, caller, id=f"{endpoint}-{relation}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy in REVIEW_POLICIES
    for relation, callers in [
        (rule.relation, COURSE_CALLERS),
        *((other, review_callers(rule, other)) for other in rule.elsewhere),
    ]
    for caller in callers
]


# Attempt endpoints: every caller in the endpoint's main relation; the live ones in each other.
ATTEMPT_CELLS = [
    pytest.param(endpoint, relation, caller, id=f"{endpoint}-{relation}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy in ATTEMPT_POLICIES
    for relation, callers in [
        (rule.relation, LEARNING_CALLERS),
        *((other, LIVE_LEARNERS) for other in rule.elsewhere if ":" not in other),
    ]
    for caller in callers
]

# Tutor endpoints: every caller in the endpoint's main relation; the live ones in each other.
TUTOR_CELLS = [
    pytest.param(endpoint, relation, caller, id=f"{endpoint}-{relation}-{caller}")
    for endpoint, rule in MATRIX.items()
    if rule.policy in TUTOR_POLICIES
    for relation, callers in [
        (rule.relation, LEARNING_CALLERS),
        *((other, LIVE_LEARNERS) for other in rule.elsewhere),
    ]
    for caller in callers
]


def expected_denial(policy: str, caller: str, scope: str = PUBLISHED) -> int | None:
    """None when the caller is allowed; else the status of the refusal."""
    if scope == DRAFT and policy in {CATALOG, OWNER}:
        # A draft exists only for its owner and the admins: the others get 404, not 403,
        # once they are past authentication (no credentials on a write, dead ones anywhere).
        if caller in ROLES_WITH_PERMISSION[OWNER]:
            return None
        if caller in (DELETED, SUSPENDED) or (caller == ANONYMOUS and policy == OWNER):
            return 401
        return 404
    if caller in ROLES_WITH_PERMISSION[policy]:
        return None
    return 403 if caller in LIVE_ROLES else 401


async def snapshot(world: World, account: Account) -> dict[str, Any]:
    """An account as an admin sees it (deleted or not), to prove a request changed nothing."""
    response = await world.client.get(
        f"{API}/users/{account.id}",
        params={"include_deleted": "true"},
        headers=world.operator.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_caller(
    kind: str, login_as: LoginAs, operator: Account, client: httpx.AsyncClient
) -> Account:
    if kind in LIVE_ROLES:
        return await login_as(kind)
    account = await login_as(STUDENT)  # logged in first: its access token stays signed
    await take_down(kind, account, operator, client)
    return account


PROBLEM_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}


def assert_denied(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text}"
    )
    assert_problem(response, status, PROBLEM_CODES[status])
    if status == 401:
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


async def check_allowed(world: World, endpoint: str, response: httpx.Response) -> None:
    """What an allowed call must return beyond its status."""
    assert world.caller is not None or MATRIX[endpoint].policy in (PUBLIC, PUBLIC_READ)
    body = (
        response.json()
        if response.content and "json" in response.headers.get("content-type", "")
        else None
    )
    own = world.caller.id if world.caller is not None else None
    match endpoint:
        case "GET /api/v1/users/me":
            assert body["id"] == own
        case "PATCH /api/v1/users/me":
            assert body["id"] == own and body["display_name"] == "Renamed Self"
        case "GET /api/v1/users/me/export":
            assert body["user"]["id"] == own
        case "GET /api/v1/users/me/stats":
            assert body["enrolled_courses"] == 0 and body["refreshed_at"] is None
        case "GET /api/v1/users/me/activity":
            assert isinstance(body["items"], list)
        case "GET /api/v1/users":
            assert isinstance(body["items"], list)
        case "GET /api/v1/audit":
            # The caller's own account was created (audited) for this cell.
            assert body["items"] and set(body) == {"items", "next_cursor"}
        case "GET /api/v1/audit?filters":
            assert body["items"] and len(body["items"]) <= 5
            assert {(e["entity_type"], e["action"]) for e in body["items"]} == {("user", "create")}
        case "GET /api/v1/users/{user_id}" | "PATCH /api/v1/users/{user_id}":
            assert body["id"] == world.target.id
        case "GET /api/v1/users/{user_id}/profile":
            assert body["id"] == world.target.id and body["badges"] == ["student"]
            assert "email" not in body and "status" not in body
        case "POST /api/v1/users/{user_id}/restore":
            assert body["id"] == world.target.id and body["deleted_at"] is None
        case "DELETE /api/v1/users/{user_id}":
            assert (await snapshot(world, world.target))["deleted_at"] is not None
        case "PUT /api/v1/users/{user_id}/roles":
            assert body["roles"] == ["admin", "student"]
        case "POST /api/v1/auth/login" | "POST /api/v1/auth/refresh":
            assert body["access_token"] and body["refresh_token"]
        case "POST /api/v1/users/me/password":
            assert world.caller is not None  # its own session survives the change
            assert (
                await world.client.get(f"{API}/users/me", headers=world.caller.headers)
            ).status_code == 200
        case "POST /api/v1/auth/password-reset":
            assert body == {"status": "accepted"}
        case "POST /api/v1/auth/logout#bearer":
            assert world.caller is not None
            ended = await world.client.get(f"{API}/users/me", headers=world.caller.headers)
            assert_denied(ended, 401)
        case "POST /api/v1/users/{user_id}/unlock":
            assert (await target_login(world)).status_code == 200
        case _:
            pass


async def check_denied(world: World, endpoint: str) -> None:
    """What a denied call must have left alone beyond the accounts' rows."""
    match endpoint:
        case "POST /api/v1/users/{user_id}/unlock":
            assert (await target_login(world)).status_code == 429
        case _:
            pass


@pytest.mark.parametrize(("endpoint", "caller_kind"), CELLS)
async def test_matrix(
    client: httpx.AsyncClient, login_as: LoginAs, endpoint: str, caller_kind: str
) -> None:
    rule = MATRIX[endpoint]
    method = endpoint.split(" ", 1)[0]
    operator = await login_as(ADMIN_ROLE)
    target = await login_as(STUDENT)
    caller = (
        None
        if caller_kind == ANONYMOUS
        else await make_caller(caller_kind, login_as, operator, client)
    )
    world = World(client, operator, target, caller)
    call = await rule.build(world)
    denial = expected_denial(rule.policy, caller_kind)

    # A denied request must leave both the other user and the caller untouched; an allowed
    # self-service request must leave the other user untouched.
    watched = []
    if denial is not None:
        watched = [target] + ([caller] if caller is not None else [])
    elif rule.policy == SELF:
        watched = [target]
    before = [await snapshot(world, account) for account in watched]

    response = await client.request(
        method,
        call.path,
        json=call.json,
        params=call.params,
        headers=caller.headers if caller is not None else {},
    )

    assert response.status_code < 500, f"{endpoint} as {caller_kind}: {response.text}"
    if denial is not None:
        assert_denied(response, denial)
        await check_denied(world, endpoint)
    else:
        assert response.status_code not in (401, 403), (
            f"{endpoint} as {caller_kind} was refused: {response.status_code} {response.text}"
        )
        assert response.status_code == rule.status, response.text
        await check_allowed(world, endpoint, response)
    after = [await snapshot(world, account) for account in watched]
    assert after == before


@pytest.mark.parametrize(("endpoint", "caller_kind"), WEB_CELLS)
async def test_web_matrix(
    client: httpx.AsyncClient, login_as: LoginAs, endpoint: str, caller_kind: str
) -> None:
    """A bearer token, live or dead, neither logs a page in nor gets a form past its CSRF
    check: the web app answers every caller as the logged-out browser it is."""
    rule = MATRIX[endpoint]
    operator = await login_as(ADMIN_ROLE)
    caller = (
        None
        if caller_kind == ANONYMOUS
        else await make_caller(caller_kind, login_as, operator, client)
    )
    call = await rule.build(World(client, operator, operator, caller))
    before = await snapshot(World(client, operator, operator, caller), operator)
    response = await client.request(
        endpoint.split(" ", 1)[0],
        call.path,
        headers=caller.headers if caller is not None else {},
    )
    assert response.status_code == rule.status, response.text
    if response.status_code == 303:
        # A page for logged-in learners only: the browser is sent to log in.
        assert response.headers["location"].startswith("/login?next=")
    else:
        assert response.headers["content-type"].startswith("text/html")
    assert "Log out" not in response.text
    assert await snapshot(World(client, operator, operator, caller), operator) == before


# Course endpoints: every course endpoint x every caller, with ownership, on a published
# course and (for course-bound endpoints) on a draft.


def base_endpoint(key: str) -> str:
    """The route a MATRIX key describes ("DELETE /x?hard=true", "PATCH /x#moderate" ->
    "DELETE /x", "PATCH /x")."""
    return key.split("?", 1)[0].split("#", 1)[0]


async def take_down(
    kind: str, account: Account, operator: Account, client: httpx.AsyncClient
) -> None:
    """An admin soft-deletes or suspends `account`; its access token stays signed."""
    url = f"{API}/users/{account.id}"
    if kind == DELETED:
        response = await client.delete(url, headers=operator.headers)
        assert response.status_code == 204, response.text
    else:
        response = await client.patch(url, json={"status": "suspended"}, headers=operator.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "suspended"


async def course_caller(
    kind: str, login_as: LoginAs, owner: Account, client: httpx.AsyncClient
) -> Account | None:
    if kind == ANONYMOUS:
        return None
    if kind == INSTRUCTOR:
        return owner
    if kind == OTHER_INSTRUCTOR:
        return await login_as(INSTRUCTOR)
    if kind in LIVE_ROLES:
        return await login_as(kind)
    # The dead callers are the owner itself, taken down by an admin after building its course.
    await take_down(kind, owner, await login_as(ADMIN_ROLE), client)
    return owner


# Every row of the course model (deleted ones included), and the size of the audit trail and
# of the outbox: a denied call must leave all of it as it was. Learning cells add the learning
# rows (and the learners' activity they record).
LEARNING_TABLES = ["enrollments", "video_progress", "video_progress_segments", "user_activity"]
COURSE_TABLES = [
    "courses",
    "course_objectives",
    "course_tags",
    "tags",
    "sections",
    "videos",
    "quizzes",
    "quiz_questions",
    "quiz_options",
    "quiz_attempt_grants",
]


async def course_snapshot(
    connection: AsyncConnection, tables: list[str] = COURSE_TABLES
) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name in tables:
        rows = (await connection.execute(select(Base.metadata.tables[name]))).all()
        state[name] = sorted((tuple(row) for row in rows), key=repr)
    for name in ("audit_log", "outbox"):
        table = Base.metadata.tables[name]
        state[name] = await connection.scalar(select(func.count()).select_from(table))
    return state


async def check_course_allowed(
    world: CourseWorld, endpoint: str, call: Call, response: httpx.Response
) -> None:
    """What an allowed course call must return, or have done, beyond its status."""
    body: Any = (
        response.json()
        if response.content and "json" in response.headers.get("content-type", "")
        else None
    )
    c, owns = world.content, world.caller_kind in ROLES_WITH_PERMISSION[OWNER]

    async def status_of(path: str) -> int:
        return (await world.client.get(f"{API}{path}", headers=world.owner.headers)).status_code

    match endpoint.replace(API, "", 1):
        case _ if response.status_code >= 400:  # an allowed call refused on the merits
            assert_problem(response, response.status_code, PROBLEM_CODES[response.status_code])
        case "POST /courses":
            assert world.caller is not None
            assert body["instructor_id"] == world.caller.id and body["status"] == "draft"
            assert body["title"] == COURSE_BODY["title"]
        case "GET /courses":
            assert c is not None and c.course_id in [item["id"] for item in body["items"]]
        case "GET /courses?mine=true":
            assert c is not None
            listed = [item["id"] for item in body["items"]]
            assert (c.course_id in listed) == (world.caller_kind == INSTRUCTOR), listed
        case "GET /courses?deleted=only":
            assert c is not None and c.course_id not in [i["id"] for i in body["items"]]
        case "GET /courses/{course_id}/reviews?deleted=only":
            assert body == {"items": [], "next_cursor": None}
        case "GET /courses/{course_id}/enrollments":
            assert body == {"items": [], "next_cursor": None}  # nobody enrolled yet
        case "GET /courses/{course_id}/enrollments?format=csv":
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert response.text.startswith("enrollment_id,user_id,display_name,")
            assert response.text.count("\n") == 1  # the header row only
        case "GET /courses/{course_id}":
            assert c is not None and body["id"] == c.course_id
            assert [s["id"] for s in body["sections"]] == [c.section_id]
            assert [v["id"] for v in body["sections"][0]["videos"]] == [c.video_id]
            # The outline for everyone; the video's url for its owner and admins only here.
            assert body["sections"][0]["videos"][0]["locked"] is not owns
        case "PATCH /courses/{course_id}":
            assert body["title"] == COURSE_PATCH["title"]
            assert body["price"]["amount"] == "24.99"
        case "DELETE /courses/{course_id}" | "DELETE /courses/{course_id}?hard=true":
            assert c is not None and await status_of(f"/courses/{c.course_id}") == 404
        case "POST /courses/{course_id}/restore":
            assert c is not None and body["id"] == c.course_id
            assert await status_of(f"/courses/{c.course_id}") == 200
        case "POST /courses/{course_id}/publish":
            assert body["status"] == "published" and body["published_at"]
        case "POST /courses/{course_id}/archive":
            assert body["status"] == "archived"
        case "GET /courses/{course_id}/history":
            assert c is not None and body["items"]
            assert any(e["entity_id"] == c.course_id for e in body["items"])
        case "POST /courses/{course_id}/sections":
            assert c is not None and body["course_id"] == c.course_id
            assert body["title"] == "Going Further"
        case "PUT /courses/{course_id}/sections/order" | "PUT /sections/{section_id}/videos/order":
            assert call.json is not None and [item["id"] for item in body] == call.json["ids"]
        case "PUT /sections/{section_id}/quizzes/order":
            assert call.json is not None and [item["id"] for item in body] == call.json["ids"]
        case "GET /sections/{section_id}":
            assert c is not None and body["id"] == c.section_id
        case "PATCH /sections/{section_id}":
            assert body["title"] == "First Steps"
        case "DELETE /sections/{section_id}":
            assert await status_of(f"/sections/{call.subject}") == 404
        case "POST /sections/{section_id}/restore":
            assert body["id"] == call.subject
            assert await status_of(f"/sections/{call.subject}") == 200
        case "POST /sections/{section_id}/videos":
            assert c is not None and body["section_id"] == c.section_id
            assert body["title"] == NEW_VIDEO["title"]
        case "POST /sections/{section_id}/videos/upload":
            assert c is not None and body["section_id"] == c.section_id
            assert body["title"] == NEW_VIDEO["title"] and body["duration_seconds"] == 3
            assert body["url"].startswith(f"/media/courses/{c.course_id}/")
        case "GET /videos/{video_id}":
            # The url and transcript are for enrolled learners (none here), the owner and admins.
            assert c is not None and body["id"] == c.video_id
            assert body["locked"] is not owns, body
            assert (body["url"] == VIDEO_BODY["url"]) is owns, body
            assert (body["transcript"] == VIDEO_BODY["transcript"]) is owns, body
        case "PATCH /videos/{video_id}":
            assert body["title"] == VIDEO_PATCH["title"] and body["duration_seconds"] == 120
        case "DELETE /videos/{video_id}":
            assert await status_of(f"/videos/{call.subject}") == 404
        case "POST /videos/{video_id}/restore":
            assert body["id"] == call.subject
            assert await status_of(f"/videos/{call.subject}") == 200
        case "POST /sections/{section_id}/quizzes":
            assert c is not None and body["section_id"] == c.section_id
            assert [o["is_correct"] for o in body["questions"][0]["options"]] == [True, False]
        case "GET /quizzes/{quiz_id}":
            # Only those who may edit the course see the answer keys; the questions are for
            # them and enrolled learners (none here): the others see the quiz locked.
            assert c is not None and body["id"] == c.quiz_id
            if owns:
                options = body["questions"][0]["options"]
                assert all("is_correct" in o for o in options), body
            else:
                assert body["locked"] is True and body["questions"] is None, body
                assert body["question_count"] == 1 and "is_correct" not in response.text
        case "PATCH /quizzes/{quiz_id}":
            assert body["title"] == "Final Checkpoint" and body["pass_mark"] == 80
            assert len(body["questions"]) == 1
        case "DELETE /quizzes/{quiz_id}":
            assert c is not None and await status_of(f"/quizzes/{c.quiz_id}") == 404
        case "POST /quizzes/{quiz_id}/restore":
            assert c is not None and body["id"] == c.quiz_id and body["questions"]
            assert await status_of(f"/quizzes/{c.quiz_id}") == 200
        case "POST /quizzes/{quiz_id}/extra-attempts":
            assert c is not None and body["quiz_id"] == c.quiz_id
            assert body["user_id"] == call.subject and body["extra_attempts"] == 1
            assert (body["max_attempts"], body["attempts_allowed"], body["attempts_used"]) == (
                QUIZ_BODY["max_attempts"],
                QUIZ_BODY["max_attempts"] + 1,
                0,
            )
        case other:
            raise AssertionError(f"no check for {other}")


@pytest.mark.parametrize(("endpoint", "scope", "caller_kind"), COURSE_CELLS)
async def test_course_matrix(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    connection: AsyncConnection,
    endpoint: str,
    scope: str,
    caller_kind: str,
) -> None:
    rule = MATRIX[endpoint]
    method = endpoint.split(" ", 1)[0]
    owner = await login_as(INSTRUCTOR)
    content = (
        await build_content(client, owner, rule.fixture, publish=scope == PUBLISHED)
        if rule.fixture is not None
        else None
    )
    world = CourseWorld(client, owner, content)
    call = await rule.build(world)  # setup (soft deletes, spare items) is done by the owner
    world.caller = await course_caller(caller_kind, login_as, owner, client)
    world.caller_kind = caller_kind
    denial = expected_denial(rule.policy, caller_kind, scope)
    before = await course_snapshot(connection) if denial is not None else None

    response = await client.request(
        method,
        call.path,
        json=call.json,
        data=call.data,
        files=call.files,
        params=call.params,
        headers=world.caller.headers if world.caller is not None else {},
    )

    cell = f"{endpoint} on a {scope} course as {caller_kind}"
    assert response.status_code < 500, f"{cell}: {response.status_code} {response.text}"
    if denial is not None:
        assert_denied(response, denial)
        assert COURSE_BODY["title"] not in response.text  # nothing of the course leaks
        assert await course_snapshot(connection) == before, f"{cell} changed data"
    else:
        expected = rule.status if scope == PUBLISHED else rule.draft
        assert response.status_code not in (401, 403), (
            f"{cell} was refused: {response.status_code} {response.text}"
        )
        assert response.status_code == expected, f"{cell}: {response.text}"
        await check_course_allowed(world, endpoint, call, response)


# Learning endpoints: every learning endpoint x every caller x the caller's relation to the
# course (or to the enrolment) under test.

# The problem code of a refusal on the merits, to a caller who holds learning:participate.
LEARNING_CODES = {**PROBLEM_CODES, 403: "not_enrolled"}


def learning_outcome(rule: Rule, relation: str, caller: str) -> int:
    """What a live learner gets in `relation` (its permission is not in question)."""
    if relation == rule.relation or (relation == OTHERS and caller == ADMIN_ROLE):
        return rule.status  # an admin may cancel anyone's enrolment
    return rule.elsewhere[relation]


async def check_learning_allowed(
    world: LearningWorld, endpoint: str, call: Call, response: httpx.Response
) -> None:
    """What a successful learning call must return beyond its status."""
    body, c, me = response.json(), world.course, world.caller
    assert me is not None
    match endpoint.replace(API, "", 1):
        case "POST /courses/{course_id}/enrollments":
            assert body["user_id"] == me.id and body["course_id"] == c.course_id
            assert body["status"] == "active" and body["completed_at"] is None
            if world.enrollment is not None:  # a cancelled enrolment comes back, not a new one
                assert body["id"] == world.enrollment
        case "POST /enrollments/{enrollment_id}/cancel":
            assert body["id"] == call.subject and body["status"] == "cancelled"
            assert world.bystander is not None
            learner = me if call.subject == world.enrollment else world.bystander
            assert body["user_id"] == learner.id and body["course_id"] == c.course_id
        case "GET /users/me/enrollments":
            # Its own enrolment only: never the bystander's in the same course.
            assert [e["id"] for e in body["items"]] == (
                [world.enrollment] if world.enrollment else []
            )
            for item in body["items"]:
                assert item["user_id"] == me.id and item["course"]["id"] == c.course_id
                assert item["status"] == "active" and item["progress_percent"] == 0.0
        case "PUT /videos/{video_id}/progress":
            assert body["video_id"] == c.video_id and body["position_seconds"] == 5.0
            assert body["watched_seconds"] == 5.0 and body["completed"] is False
        case "POST /progress/heartbeats":
            # Two beats on one video: one item, their shared first-heartbeat budget.
            (item,) = body["items"]
            assert item["video_id"] == c.video_id and item["position_seconds"] == 5.0
            assert item["watched_seconds"] == 5.0 and item["completed"] is False
        case "GET /courses/{course_id}/progress":
            assert body["course_id"] == c.course_id and body["total_items"] == 1
            assert body["completed_items"] == 0 and body["percent"] == 0.0
            assert body["resume"] is None and body["completed"] is False
        case other:
            raise AssertionError(f"no check for {other}")


@pytest.mark.parametrize(("endpoint", "relation", "caller_kind"), LEARNING_CELLS)
async def test_learning_matrix(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    connection: AsyncConnection,
    endpoint: str,
    relation: str,
    caller_kind: str,
) -> None:
    rule = MATRIX[endpoint]
    method = endpoint.split(" ", 1)[0]
    owner = await login_as(INSTRUCTOR)
    content = await build_content(client, owner, COURSE, publish=relation != DRAFT)
    world = LearningWorld(client, owner, content, caller_kind=caller_kind, relation=relation)
    if relation != DRAFT:
        world.bystander = await login_as(STUDENT)
        world.bystander_enrollment = await world.enrol(world.bystander)
    dead = caller_kind in (DELETED, SUSPENDED)
    if caller_kind != ANONYMOUS:
        # The dead callers are students, enrolled like the live ones before being taken down.
        world.caller = await login_as(STUDENT if dead else caller_kind)
        if relation in (ENROLLED, CANCELLED):
            world.enrollment = await world.enrol(world.caller)
        if relation == CANCELLED:
            cancelled = await client.post(
                f"{API}/enrollments/{world.enrollment}/cancel", headers=world.caller.headers
            )
            assert cancelled.status_code == 200, f"setup cancel: {cancelled.text}"
    call = await rule.build(world)
    if dead:
        assert world.caller is not None
        await take_down(caller_kind, world.caller, await login_as(ADMIN_ROLE), client)
    denial = expected_denial(rule.policy, caller_kind)
    expected = denial if denial is not None else learning_outcome(rule, relation, caller_kind)
    tables = COURSE_TABLES + LEARNING_TABLES
    before = await course_snapshot(connection, tables) if expected >= 400 else None

    response = await client.request(
        method,
        call.path,
        json=call.json,
        params=call.params,
        headers=world.caller.headers if world.caller is not None else {},
    )

    cell = f"{endpoint} as {caller_kind} ({relation})"
    assert response.status_code < 500, f"{cell}: {response.status_code} {response.text}"
    if denial is not None:
        assert_denied(response, denial)
        await check_denied(world, endpoint)
    else:
        assert response.status_code == expected, f"{cell}: {response.status_code} {response.text}"
        if expected >= 400:  # refused on the merits, never for want of the permission
            assert_problem(response, expected, LEARNING_CODES[expected])
        else:
            await check_learning_allowed(world, endpoint, call, response)
    if before is not None:
        assert await course_snapshot(connection, tables) == before, f"{cell} changed data"
    if world.bystander is not None and call.subject == world.bystander_enrollment:
        # The bystander's enrolment: cancelled by an admin, else untouched and unexposed.
        assert world.bystander_enrollment is not None
        state = await world.enrollment_status(world.bystander, world.bystander_enrollment)
        assert state == ("cancelled" if response.status_code == 200 else "active"), cell
        if response.status_code != 200:
            assert world.bystander.id not in response.text


# Review endpoints: every review endpoint x every caller x the caller's relation to the review
# (or to the course, for posting) under test.

# Those who see a hidden review besides its author (and the only ones who may moderate).
REVIEW_SEERS = {INSTRUCTOR, ADMIN_ROLE}
REVIEW_TABLES = ["reviews"]
# The course's rating columns, which the `courses` rows of the snapshot carry.
RATING_COLUMNS = ["rating", "rating_count", *(f"rating_{stars}_count" for stars in range(1, 6))]


def review_outcome(endpoint: str, relation: str, caller: str) -> tuple[int, bool]:
    """What the caller gets in `relation`, and whether that is a refusal of the caller (as
    opposed to an allowed caller's request refused on the merits: 404, 409, `not_enrolled`).
    A course's list never refuses anyone over a hidden review: it just leaves it out."""
    rule = MATRIX[endpoint]
    denial = expected_denial(rule.policy, caller)
    if denial is not None:
        return denial, True
    mine = relation in (MINE, HIDDEN_MINE) and caller != ANONYMOUS
    names_review = "{review_id}" in endpoint
    refused = (
        (names_review and relation == HIDDEN and caller not in REVIEW_SEERS)
        or (rule.policy == REVIEW_AUTHOR and not mine)
        or (rule.policy == AUTHOR_OR_ADMIN and not mine and caller != ADMIN_ROLE)
    )
    if refused:
        return rule.refusal, True
    return (rule.status if relation == rule.relation else rule.elsewhere[relation]), False


def histogram(*ratings: int) -> dict[str, int]:
    return {str(stars): ratings.count(stars) for stars in range(1, 6)}


async def check_review_allowed(
    world: ReviewWorld, endpoint: str, call: Call, response: httpx.Response
) -> None:
    """What a successful review call must return, or have done to the course's rating."""
    body: Any = response.json() if response.content else None
    c, me, relation = world.course, world.caller, world.relation
    hidden = relation in (HIDDEN, HIDDEN_MINE)
    mine = REVIEW_BODY["rating"]
    theirs = BYSTANDER_REVIEW["rating"]

    async def review_status(review_id: str) -> int:
        # As the course's owner sees it (hidden reviews included): 404 once deleted.
        path = f"{API}/reviews/{review_id}"
        return (await world.client.get(path, headers=world.owner.headers)).status_code

    match endpoint.replace(API, "", 1):
        case "POST /courses/{course_id}/reviews":
            assert me is not None and body["user_id"] == me.id
            assert body["course_id"] == c.course_id and body["status"] == "published"
            assert body["rating"] == mine and body["body"] == REVIEW_BODY["body"]
            assert await world.ratings() == (1, histogram(mine), float(mine))
        case "GET /courses/{course_id}/reviews":
            # The bystander's review while published; a hidden one is listed to nobody.
            listed = [item["id"] for item in body["items"]]
            assert listed == ([] if hidden else [world.bystander_review]), listed
        case "GET /reviews/{review_id}":
            assert body["id"] == call.subject
            assert body["status"] == ("hidden" if hidden else "published")
            author = world.bystander if world.review is None else me
            assert author is not None and body["user_id"] == author.id
        case "PATCH /reviews/{review_id}":
            assert body["id"] == call.subject and body["rating"] == REVIEW_EDIT["rating"]
            assert body["body"] == REVIEW_EDIT["body"] and body["status"] == "published"
            edited = REVIEW_EDIT["rating"]
            assert await world.ratings() == (1, histogram(edited), float(edited))
        case "PATCH /reviews/{review_id}#moderate":
            assert body["id"] == call.subject
            assert body["status"] == ("published" if hidden else "hidden")
            if hidden:  # shown again: it counts again
                assert await world.ratings() == (1, histogram(theirs), float(theirs))
            else:
                assert await world.ratings() == (0, histogram(), 0.0)
        case "DELETE /reviews/{review_id}":
            assert call.subject is not None and await review_status(call.subject) == 404
            assert await world.ratings() == (0, histogram(), 0.0)
        case "POST /reviews/{review_id}/restore":
            assert call.subject is not None and body["id"] == call.subject
            assert body["status"] == "published" and await review_status(call.subject) == 200
            stars = mine if world.review is not None else theirs
            assert await world.ratings() == (1, histogram(stars), float(stars))
        case other:
            raise AssertionError(f"no check for {other}")


@pytest.mark.parametrize(("endpoint", "relation", "caller_kind"), REVIEW_CELLS)
async def test_review_matrix(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    connection: AsyncConnection,
    endpoint: str,
    relation: str,
    caller_kind: str,
) -> None:
    rule = MATRIX[endpoint]
    method = endpoint.split(" ", 1)[0]
    owner = await login_as(INSTRUCTOR)
    content = await build_content(client, owner, COURSE, publish=relation != DRAFT)
    world = ReviewWorld(client, owner, content, caller_kind=caller_kind, relation=relation)
    dead = caller_kind in (DELETED, SUSPENDED)
    # The dead callers: the course's owner in the moderation cells, else a reviewing student.
    if caller_kind == INSTRUCTOR or (dead and rule.policy == MODERATOR):
        world.caller = owner
    elif caller_kind != ANONYMOUS:
        roles = {OTHER_INSTRUCTOR: INSTRUCTOR, DELETED: STUDENT, SUSPENDED: STUDENT}
        world.caller = await login_as(roles.get(caller_kind, caller_kind))
    if world.caller is not None and relation in (ENROLLED, MINE, HIDDEN_MINE):
        world.enrollment = await world.enrol(world.caller)
        if relation != ENROLLED:
            world.review = await world.post_review(world.caller, REVIEW_BODY)
    if relation in (OTHERS, HIDDEN) or (world.caller is None and relation == MINE):
        world.bystander = await login_as(STUDENT)
        world.bystander_enrollment = await world.enrol(world.bystander)
        world.bystander_review = await world.post_review(world.bystander, BYSTANDER_REVIEW)
    if relation in (HIDDEN, HIDDEN_MINE):
        await world.as_owner("PATCH", f"/reviews/{world.subject}", {"status": "hidden"})
    call = await rule.build(world)
    if dead:
        assert world.caller is not None
        await take_down(caller_kind, world.caller, await login_as(ADMIN_ROLE), client)
    expected, refused = review_outcome(endpoint, relation, caller_kind)
    assert set(RATING_COLUMNS) <= set(Base.metadata.tables["courses"].c.keys())
    tables = COURSE_TABLES + LEARNING_TABLES + REVIEW_TABLES
    before = await course_snapshot(connection, tables) if expected >= 400 else None

    response = await client.request(
        method,
        call.path,
        json=call.json,
        params=call.params,
        headers=world.caller.headers if world.caller is not None else {},
    )

    cell = f"{endpoint} as {caller_kind} ({relation})"
    assert response.status_code < 500, f"{cell}: {response.status_code} {response.text}"
    assert response.status_code == expected, f"{cell}: {response.status_code} {response.text}"
    if refused:
        assert_denied(response, expected)
        # Nothing of a review the caller may not act on leaks into the refusal.
        for review in (REVIEW_BODY, BYSTANDER_REVIEW):
            assert str(review["body"]) not in response.text, cell
    elif expected >= 400:  # refused on the merits, never for want of the permission
        assert_problem(response, expected, LEARNING_CODES[expected])
    else:
        await check_review_allowed(world, endpoint, call, response)
    if before is not None:
        assert await course_snapshot(connection, tables) == before, f"{cell} changed data"


# Attempt endpoints: every attempt endpoint x every caller x the caller's relation to the quiz
# (or to the attempt) under test.

CheckAllowed = Callable[[Any, AsyncConnection, str, Call, httpx.Response], Awaitable[None]]


async def send_cell(
    world: LearningWorld,
    rule: Rule,
    endpoint: str,
    caller_kind: str,
    connection: AsyncConnection,
    tables: list[str],
    check_allowed: CheckAllowed,
    login_as: LoginAs,
) -> tuple[httpx.Response, str]:
    """Build a learner-side cell's call, take a dead caller down, send the call, and check
    the outcome: the refusal of the caller, a refusal on the merits (which changes nothing in
    `tables`), or what `check_allowed` expects of an allowed call."""
    relation = world.relation
    call = await rule.build(world)
    if caller_kind in (DELETED, SUSPENDED):
        assert world.caller is not None
        await take_down(caller_kind, world.caller, await login_as(ADMIN_ROLE), world.client)
    denial = expected_denial(rule.policy, caller_kind)
    expected = (
        denial
        if denial is not None
        else (
            rule.status
            if relation == rule.relation
            else rule.elsewhere.get(f"{relation}:{caller_kind}", rule.elsewhere[relation])
        )
    )
    tables = COURSE_TABLES + LEARNING_TABLES + tables
    before = await course_snapshot(connection, tables) if expected >= 400 else None

    response = await world.client.request(
        endpoint.split(" ", 1)[0],
        call.path,
        json=call.json,
        params=call.params,
        headers=world.caller.headers if world.caller is not None else {},
    )

    cell = f"{endpoint} as {caller_kind} ({relation})"
    assert response.status_code < 500, f"{cell}: {response.status_code} {response.text}"
    assert response.status_code == expected, f"{cell}: {response.status_code} {response.text}"
    if denial is not None:
        assert_denied(response, denial)
    elif expected >= 400:  # refused on the merits, never for want of the permission
        assert_problem(response, expected, LEARNING_CODES[expected])
    else:
        await check_allowed(world, connection, endpoint, call, response)
    if before is not None:
        assert await course_snapshot(connection, tables) == before, f"{cell} changed data"
    return response, cell


ATTEMPT_TABLES = ["quiz_attempts", "quiz_answers", "quiz_answer_options"]


async def attempt_row(connection: AsyncConnection, attempt_id: str) -> tuple[Any, ...]:
    """(user_id, state, score, number of answers) of one attempt, as stored."""
    attempts = Base.metadata.tables["quiz_attempts"]
    answers = Base.metadata.tables["quiz_answers"]
    key = uuid.UUID(attempt_id)
    row = (
        await connection.execute(
            select(attempts.c.user_id, attempts.c.state, attempts.c.score).where(
                attempts.c.id == key
            )
        )
    ).one()
    count = await connection.scalar(
        select(func.count()).select_from(answers).where(answers.c.attempt_id == key)
    )
    return str(row.user_id), AttemptState(row.state), row.score, count


async def check_attempt_allowed(
    world: AttemptWorld,
    connection: AsyncConnection,
    endpoint: str,
    call: Call,
    response: httpx.Response,
) -> None:
    """What a successful attempt call must return, and have stored."""
    body, me = response.json(), world.caller
    assert me is not None
    answers = (await world.answers())["answers"]
    match endpoint.replace(API, "", 1):
        case "POST /quizzes/{quiz_id}/attempts":
            assert body["quiz_id"] == world.quiz_id and body["attempt_no"] == 1
            assert body["deadline"] is not None  # the quiz has a time limit
            assert [q["id"] for q in body["questions"]] == [a["question_id"] for a in answers]
            assert "is_correct" not in response.text  # no answer keys before submission
            stored = await attempt_row(connection, body["id"])
            assert stored == (me.id, AttemptState.IN_PROGRESS, None, 0), stored
        case "GET /quizzes/{quiz_id}/attempts":
            mine = [world.attempt] if world.attempt is not None else []
            assert [a["id"] for a in body["items"]] == mine, body
            assert body["attempts_remaining"] == QUIZ_BODY["max_attempts"] - len(mine)
        case "GET /attempts/{attempt_id}":
            assert body["id"] == call.subject and body["quiz_id"] == world.quiz_id
            if world.relation == SUBMITTED:
                assert body["state"] == "submitted" and body["score"] == 100.0
                assert [r["correct"] for r in body["review"]] == [True] * len(answers)
            else:  # open: the caller's own, or (an admin) the bystander's
                assert body["state"] == "in_progress" and body["review"] is None
                assert body["answers"] == [] and "is_correct" not in response.text
        case "PUT /attempts/{attempt_id}/answers":
            assert body["attempt_id"] == call.subject == world.attempt
            assert len(body["answers"]) == len(answers) and "is_correct" not in response.text
            stored = await attempt_row(connection, body["attempt_id"])
            assert stored == (me.id, AttemptState.IN_PROGRESS, None, len(answers)), stored
        case "POST /attempts/{attempt_id}/submit":
            assert body["attempt_id"] == call.subject == world.attempt
            assert body["score"] == 100.0 and body["passed"] is True
            assert body["results"] == [
                {"question_id": a["question_id"], "correct": True} for a in answers
            ]
            user_id, state, score, count = await attempt_row(connection, body["attempt_id"])
            assert (user_id, state, float(score), count) == (
                me.id,
                AttemptState.SUBMITTED,
                100.0,
                len(answers),
            )
        case other:
            raise AssertionError(f"no check for {other}")


@pytest.mark.parametrize(("endpoint", "relation", "caller_kind"), ATTEMPT_CELLS)
async def test_attempt_matrix(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    connection: AsyncConnection,
    endpoint: str,
    relation: str,
    caller_kind: str,
) -> None:
    rule = MATRIX[endpoint]
    owner = await login_as(INSTRUCTOR)
    content = await build_content(client, owner, QUIZ, publish=relation != DRAFT)
    world = AttemptWorld(client, owner, content, caller_kind=caller_kind, relation=relation)
    if relation != DRAFT:
        world.bystander = await login_as(STUDENT)
        world.bystander_enrollment = await world.enrol(world.bystander)
        world.bystander_attempt = await world.start(world.bystander)
    dead = caller_kind in (DELETED, SUSPENDED)
    if caller_kind != ANONYMOUS:
        # The dead callers are students, enrolled (and attempting) like the live ones before
        # being taken down.
        world.caller = await login_as(STUDENT if dead else caller_kind)
        if relation in (ENROLLED, CANCELLED, OPEN, SUBMITTED):
            world.enrollment = await world.enrol(world.caller)
        if relation == CANCELLED:
            cancelled = await client.post(
                f"{API}/enrollments/{world.enrollment}/cancel", headers=world.caller.headers
            )
            assert cancelled.status_code == 200, f"setup cancel: {cancelled.text}"
        if relation in (OPEN, SUBMITTED):
            world.attempt = await world.start(world.caller)
        if relation == SUBMITTED:
            path = f"{API}/attempts/{world.attempt}/submit"
            submitted = await client.post(
                path, json=await world.answers(), headers=world.caller.headers
            )
            assert submitted.status_code == 200, f"setup submit: {submitted.text}"
    response, cell = await send_cell(
        world,
        rule,
        endpoint,
        caller_kind,
        connection,
        ATTEMPT_TABLES,
        check_attempt_allowed,
        login_as,
    )
    if world.bystander is not None:
        # The bystander's attempt: still open and unanswered, and nothing of it leaks.
        assert world.bystander_attempt is not None
        stored = await attempt_row(connection, world.bystander_attempt)
        assert stored == (world.bystander.id, AttemptState.IN_PROGRESS, None, 0), cell
        assert world.bystander.id not in response.text, cell


TUTOR_TABLES = ["ai_conversations", "ai_messages", "ai_message_citations", "ai_usage"]


async def conversation_row(connection: AsyncConnection, conversation_id: str) -> tuple[str, int]:
    """(user_id, number of messages) of one conversation, as stored."""
    conversations = Base.metadata.tables["ai_conversations"]
    messages = Base.metadata.tables["ai_messages"]
    key = uuid.UUID(conversation_id)
    user_id = await connection.scalar(
        select(conversations.c.user_id).where(conversations.c.id == key)
    )
    count = await connection.scalar(
        select(func.count()).select_from(messages).where(messages.c.conversation_id == key)
    )
    return str(user_id), int(count or 0)


async def check_tutor_allowed(
    world: TutorWorld,
    connection: AsyncConnection,
    endpoint: str,
    call: Call,
    response: httpx.Response,
) -> None:
    """What a successful tutor call must return, and have stored."""
    body, me = response.json(), world.caller
    assert me is not None
    match endpoint.replace(API, "", 1):
        case "POST /courses/{course_id}/conversations":
            assert body["course_id"] == world.course.course_id and body["messages"] == []
            assert await conversation_row(connection, body["id"]) == (me.id, 0)
        case "GET /conversations/{conversation_id}":
            assert body["id"] == call.subject == world.conversation
            assert body["course_id"] == world.course.course_id and body["messages"] == []
        case "POST /conversations/{conversation_id}/messages":
            assert body["question"]["content"] == TUTOR_QUESTION["content"]
            assert body["answer"]["role"] == "assistant" and body["answer"]["content"]
            assert call.subject == world.conversation
            assert await conversation_row(connection, world.conversation) == (me.id, 2)
        case other:
            raise AssertionError(f"no check for {other}")


@pytest.mark.parametrize(("endpoint", "relation", "caller_kind"), TUTOR_CELLS)
async def test_tutor_matrix(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    connection: AsyncConnection,
    endpoint: str,
    relation: str,
    caller_kind: str,
) -> None:
    rule = MATRIX[endpoint]
    owner = await login_as(INSTRUCTOR)
    content = await build_content(client, owner, COURSE, publish=relation != DRAFT)
    world = TutorWorld(client, owner, content, caller_kind=caller_kind, relation=relation)
    if relation != DRAFT:
        world.bystander = await login_as(STUDENT)
        world.bystander_enrollment = await world.enrol(world.bystander)
        world.bystander_conversation = await world.start(world.bystander)
        asked = await client.post(
            f"{API}/conversations/{world.bystander_conversation}/messages",
            json={"content": "What does the welcome video say?"},
            headers=world.bystander.headers,
        )
        assert asked.status_code == 201, f"setup question: {asked.text}"
    dead = caller_kind in (DELETED, SUSPENDED)
    if caller_kind != ANONYMOUS:
        # The dead callers are students, enrolled (with a conversation) like the live ones
        # before being taken down.
        world.caller = await login_as(STUDENT if dead else caller_kind)
        if relation in (ENROLLED, CANCELLED, MINE, OTHERS):
            world.enrollment = await world.enrol(world.caller)
        if relation in (MINE, CANCELLED) and rule.relation == MINE:
            world.conversation = await world.start(world.caller)
        if relation == CANCELLED:
            cancelled = await client.post(
                f"{API}/enrollments/{world.enrollment}/cancel", headers=world.caller.headers
            )
            assert cancelled.status_code == 200, f"setup cancel: {cancelled.text}"
    response, cell = await send_cell(
        world, rule, endpoint, caller_kind, connection, TUTOR_TABLES, check_tutor_allowed, login_as
    )
    if world.bystander is not None:
        # The bystander's conversation: still theirs, with its one exchange, and private.
        assert world.bystander_conversation is not None
        stored = await conversation_row(connection, world.bystander_conversation)
        assert stored == (world.bystander.id, 2), cell
        assert "welcome video" not in response.text, cell


def routes_served(routes: list[Any], prefix: str = "") -> set[str]:
    """ "METHOD /path" for every route, looking into included routers (recent FastAPI keeps
    them as nodes with `original_router`; older versions flatten them into the app)."""
    found: set[str] = set()
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            context = getattr(route, "include_context", None)
            found |= routes_served(nested.routes, prefix + getattr(context, "prefix", ""))
            continue
        path = prefix + str(getattr(route, "path", repr(route)))
        methods = getattr(route, "methods", None)
        if isinstance(getattr(route, "app", None), StaticFiles):  # files: GET (and HEAD)
            found.add(f"GET {path}/{{path}}")
            continue
        if not methods:  # another mount or a websocket: nothing in MATRIX could describe it
            found.add(f"ANY {path}")
            continue
        found.update(f"{method} {path}" for method in methods if method != "HEAD")
    return found


async def test_matrix_lists_every_endpoint(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Every route the app serves has an entry, and every entry is a route the app serves."""
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    documented = {
        f"{method.upper()} {path}"
        for path, operations in response.json()["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    }
    served = documented | routes_served(app.routes)

    listed = {base_endpoint(key) for key in MATRIX}  # "?hard=true" variants count as theirs
    unlisted = sorted(served - listed)
    assert not unlisted, f"endpoints without an authorization decision in MATRIX: {unlisted}"
    stale = sorted(key for key in MATRIX if base_endpoint(key) not in served)
    assert not stale, f"MATRIX lists endpoints the app does not serve: {stale}"
    misfiled = sorted(
        e for e, rule in MATRIX.items() if rule.in_schema != (base_endpoint(e) in documented)
    )
    assert not misfiled, f"in_schema is wrong for: {misfiled}"


# Ownership: nobody but an administrator reaches another account, by any path.

NON_ADMINS = [STUDENT, INSTRUCTOR]


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_non_admin_cannot_read_or_change_another_user(
    client: httpx.AsyncClient, login_as: LoginAs, role: str
) -> None:
    operator = await login_as(ADMIN_ROLE)
    me = await login_as(role)
    other = await login_as(STUDENT)
    world = World(client, operator, other, me)
    before = await snapshot(world, other)
    mine_before = await snapshot(world, me)

    other_url = f"{API}/users/{other.id}"
    attempts = [
        ("GET", other_url, None, None),
        ("GET", other_url, None, {"include_deleted": "true"}),
        ("PATCH", other_url, {"display_name": "Hijacked"}, None),
        ("PATCH", other_url, {"status": "suspended"}, None),
        ("DELETE", other_url, None, None),
        ("DELETE", other_url, None, {"hard": "true"}),
        ("POST", f"{other_url}/restore", None, None),
        ("PUT", f"{other_url}/roles", {"roles": ["admin"]}, None),
        ("GET", f"{API}/users", None, {"q": other.email}),
        # ...and the caller's own id through the admin paths is no back door either.
        ("GET", f"{API}/users/{me.id}", None, None),
        ("PATCH", f"{API}/users/{me.id}", {"display_name": "Self Via Admin"}, None),
        ("PUT", f"{API}/users/{me.id}/roles", {"roles": ["admin"]}, None),
    ]
    for method, url, body, params in attempts:
        response = await client.request(method, url, json=body, params=params, headers=me.headers)
        assert response.status_code == 403, f"{method} {url} {params}: {response.text}"
        assert_problem(response, 403, "forbidden")
        assert other.email not in response.text

    assert await snapshot(world, other) == before
    assert await snapshot(world, me) == mine_before


@pytest.mark.parametrize("role", [STUDENT, INSTRUCTOR, ADMIN_ROLE])
async def test_me_is_always_the_caller(
    client: httpx.AsyncClient, login_as: LoginAs, role: str
) -> None:
    me = await login_as(role)
    other = await login_as(STUDENT)
    for params in (None, {"user_id": other.id}, {"id": other.id}):
        response = await client.get(f"{API}/users/me", params=params, headers=me.headers)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == me.id != other.id
        assert response.json()["email"] == me.email

    export = await client.get(
        f"{API}/users/me/export", params={"user_id": other.id}, headers=me.headers
    )
    assert export.status_code == 200, export.text
    assert export.json()["user"]["id"] == me.id
    assert other.email not in export.text

    # Each token names its own account, whoever else is logged in.
    assert (await client.get(f"{API}/users/me", headers=other.headers)).json()["id"] == other.id


@pytest.mark.parametrize(
    "body",
    [
        {"id": "00000000-0000-0000-0000-000000000001", "display_name": "Someone Else"},
        {"user_id": "00000000-0000-0000-0000-000000000001"},
        {"roles": ["admin"]},
        {"status": "active"},
        {"email": "takeover@example.com"},
    ],
    ids=["id", "user_id", "roles", "status", "email"],
)
async def test_patch_me_cannot_target_others_or_escalate(
    client: httpx.AsyncClient, login_as: LoginAs, body: dict[str, Any]
) -> None:
    operator = await login_as(ADMIN_ROLE)
    me = await login_as(STUDENT)
    other = await login_as(STUDENT)
    world = World(client, operator, other, me)
    before, mine_before = await snapshot(world, other), await snapshot(world, me)

    response = await client.patch(f"{API}/users/me", json=body, headers=me.headers)
    assert_problem(response, 422, "validation_error")

    assert await snapshot(world, other) == before
    assert await snapshot(world, me) == mine_before
    assert mine_before["roles"] == ["student"]
    assert_problem(await client.get(f"{API}/users", headers=me.headers), 403, "forbidden")
