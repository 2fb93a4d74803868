"""Rows that point at a parent which goes away (SPEC 5): never a 500, always the documented
answer.

One test, parametrized over (parent x action) x endpoint. Each cell builds a published course
(section A: video 1 and a quiz; section B: video 2) and a learner with history in it: an
enrolment, a heartbeat on video 1, a passed quiz attempt, a review and a tutor conversation
about video 1 with one exchange. Then the parent goes (the course soft-deleted or archived, a
section, video or quiz soft-deleted, the course's instructor soft-deleted) and the learner
calls one endpoint that returns or writes rows pointing at it.

The documented answers:
- A soft-deleted course is unavailable to its learners everywhere: the enrolment list keeps
  the enrolment with `course_available: false` and `progress_percent: null`; the course, its
  progress, content, reviews and everything written into it answer 404 `not_found`. The
  learner's own records stay readable: conversations, export, stats, activity.
- An archived course stays open to its learners: reading, progress, attempts, reviews and the
  tutor work as before (the enrolment list shows `course.status: archived`).
- Soft-deleted content (a section, with its videos and quizzes; a video; a quiz) is 404 where
  it is addressed (heartbeats, attempts, reads); the course's progress counts what is left.
- A soft-deleted instructor changes nothing for the course's learners.
The course's history stays readable by its instructor (or an admin, when the instructor is
gone) in every case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.conftest import Account, LoginAs, assert_problem
from tests.api.test_courses import API

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

# (parent, action)
COURSE_DELETED = "course-deleted"
COURSE_ARCHIVED = "course-archived"
SECTION_DELETED = "section-deleted"
VIDEO_DELETED = "video-deleted"
QUIZ_DELETED = "quiz-deleted"
INSTRUCTOR_DELETED = "instructor-deleted"
PARENTS = [
    COURSE_DELETED,
    COURSE_ARCHIVED,
    SECTION_DELETED,
    VIDEO_DELETED,
    QUIZ_DELETED,
    INSTRUCTOR_DELETED,
]


@dataclass
class World:
    client: httpx.AsyncClient
    instructor: Account
    admin: Account
    learner: Account
    course: str = ""
    sections: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    quiz: str = ""
    answers: list[dict[str, Any]] = field(default_factory=list)
    enrollment: str = ""
    review: str | None = None
    conversation: str = ""
    open_attempt: str | None = None

    async def call(
        self, method: str, path: str, account: Account | None = None, **kwargs: Any
    ) -> httpx.Response:
        who = account or self.learner
        return await self.client.request(method, f"{API}{path}", headers=who.headers, **kwargs)

    async def ok(
        self, method: str, path: str, account: Account | None = None, status: int = 200, **kw: Any
    ) -> Any:
        response = await self.call(method, path, account, **kw)
        assert response.status_code == status, f"setup {method} {path}: {response.text}"
        return response.json() if response.content else None


async def build(client: httpx.AsyncClient, login_as: LoginAs, endpoint: str) -> World:
    world = World(
        client, await login_as("instructor"), await login_as("admin"), await login_as("student")
    )
    t = world.instructor
    world.course = (await world.ok("POST", "/courses", t, 201, json={"title": "Going Away"}))["id"]
    for name in ("A", "B"):
        section = await world.ok(
            "POST", f"/courses/{world.course}/sections", t, 201, json={"title": name}
        )
        world.sections.append(section["id"])
        video = await world.ok(
            "POST",
            f"/sections/{section['id']}/videos",
            t,
            201,
            json={
                "title": f"Video {name}",
                "url": f"https://videos.example.com/{name}.mp4",
                "duration_seconds": 100,
                "transcript": f"Section {name} explains soft deletes and archived courses.",
            },
        )
        world.videos.append(video["id"])
    quiz = await world.ok(
        "POST",
        f"/sections/{world.sections[0]}/quizzes",
        t,
        201,
        json={
            "title": "Check",
            "questions": [
                {"text": "Capital of France?", "type": "short_answer", "answer_text": "Paris"}
            ],
        },
    )
    world.quiz = quiz["id"]
    world.answers = [{"question_id": quiz["questions"][0]["id"], "text": "Paris"}]
    await world.ok("POST", f"/courses/{world.course}/publish", t)

    # The learner's history in the course.
    world.enrollment = (await world.ok("POST", f"/courses/{world.course}/enrollments", status=201))[
        "id"
    ]
    await world.ok(
        "PUT",
        f"/videos/{world.videos[0]}/progress",
        json={"position_seconds": 5, "played_segments": [[0, 5]]},
    )
    attempt = await world.ok("POST", f"/quizzes/{world.quiz}/attempts", status=201)
    await world.ok("POST", f"/attempts/{attempt['id']}/submit", json={"answers": world.answers})
    if endpoint == "attempt_submit":
        world.open_attempt = (
            await world.ok("POST", f"/quizzes/{world.quiz}/attempts", status=201)
        )["id"]
    if endpoint != "review_post":
        review = await world.ok(
            "POST", f"/courses/{world.course}/reviews", status=201, json={"rating": 4, "body": "Ok"}
        )
        world.review = review["id"]
    world.conversation = (
        await world.ok(
            "POST",
            f"/courses/{world.course}/conversations",
            status=201,
            json={"video_id": world.videos[0]},
        )
    )["id"]
    await world.ok(
        "POST",
        f"/conversations/{world.conversation}/messages",
        status=201,
        json={"content": "What about soft deletes?"},
    )
    return world


async def take_away(world: World, parent: str) -> None:
    t = world.instructor
    match parent:
        case "course-deleted":
            await world.ok("DELETE", f"/courses/{world.course}", t, 204)
        case "course-archived":
            await world.ok("POST", f"/courses/{world.course}/archive", t)
        case "section-deleted":
            await world.ok("DELETE", f"/sections/{world.sections[0]}", t, 204)
        case "video-deleted":
            await world.ok("DELETE", f"/videos/{world.videos[0]}", t, 204)
        case "quiz-deleted":
            await world.ok("DELETE", f"/quizzes/{world.quiz}", t, 204)
        case "instructor-deleted":
            await world.ok("DELETE", f"/users/{world.instructor.id}", world.admin, 204)


def gone(parent: str) -> tuple[bool, bool, bool]:
    """(course, video 1, quiz): what is no longer there for the learner."""
    course = parent == COURSE_DELETED
    video = course or parent in (SECTION_DELETED, VIDEO_DELETED)
    quiz = course or parent in (SECTION_DELETED, QUIZ_DELETED)
    return course, video, quiz


# endpoint -> (request, expected status given (course, video 1, quiz) gone, check of a success)
def request_of(world: World, endpoint: str) -> tuple[str, str, dict[str, Any], Account]:
    c, v, beat = world.course, world.videos[0], {"position_seconds": 9, "played_segments": [[5, 9]]}
    historian = world.admin if world.instructor is None else world.instructor
    return {
        "enrollments": ("GET", "/users/me/enrollments", {}, world.learner),
        "course_progress": ("GET", f"/courses/{c}/progress", {}, world.learner),
        "heartbeat": ("PUT", f"/videos/{v}/progress", {"json": beat}, world.learner),
        "heartbeats": (
            "POST",
            "/progress/heartbeats",
            {"json": {"heartbeats": [{"video_id": v, **beat}]}},
            world.learner,
        ),
        "attempt_start": ("POST", f"/quizzes/{world.quiz}/attempts", {}, world.learner),
        "attempt_submit": (
            "POST",
            f"/attempts/{world.open_attempt}/submit",
            {"json": {"answers": world.answers}},
            world.learner,
        ),
        "reviews": ("GET", f"/courses/{c}/reviews", {}, world.learner),
        "review_get": ("GET", f"/reviews/{world.review}", {}, world.learner),
        "review_edit": (
            "PATCH",
            f"/reviews/{world.review}",
            {"json": {"rating": 2, "body": "Changed my mind"}},
            world.learner,
        ),
        "review_post": (
            "POST",
            f"/courses/{c}/reviews",
            {"json": {"rating": 5, "body": "Late review"}},
            world.learner,
        ),
        "conversation": ("GET", f"/conversations/{world.conversation}", {}, world.learner),
        "conversation_start": ("POST", f"/courses/{c}/conversations", {"json": {}}, world.learner),
        "message": (
            "POST",
            f"/conversations/{world.conversation}/messages",
            {"json": {"content": "And archived courses?"}},
            world.learner,
        ),
        "course_detail": ("GET", f"/courses/{c}", {}, world.learner),
        "video": ("GET", f"/videos/{v}", {}, world.learner),
        "quiz": ("GET", f"/quizzes/{world.quiz}", {}, world.learner),
        "history": ("GET", f"/courses/{c}/history", {}, historian),
        "export": ("GET", "/users/me/export", {}, world.learner),
        "stats": ("GET", "/users/me/stats", {}, world.learner),
        "activity": ("GET", "/users/me/activity", {}, world.learner),
    }[endpoint]


def expected_status(endpoint: str, parent: str) -> int:
    course, video, quiz = gone(parent)
    success = {"attempt_start": 201, "review_post": 201, "conversation_start": 201, "message": 201}
    missing = {
        "course_progress": course,
        "heartbeat": video,
        "heartbeats": video,
        "attempt_start": quiz,
        "attempt_submit": quiz,
        "reviews": course,
        "review_get": course,
        "review_edit": course,
        "review_post": course,
        "conversation_start": course,
        "message": course,
        "course_detail": course,
        "video": video,
        "quiz": quiz,
    }.get(endpoint, False)  # the learner's own records and the history: always there
    return 404 if missing else success.get(endpoint, 200)


ENDPOINTS = [
    "enrollments",
    "course_progress",
    "heartbeat",
    "heartbeats",
    "attempt_start",
    "attempt_submit",
    "reviews",
    "review_get",
    "review_edit",
    "review_post",
    "conversation",
    "conversation_start",
    "message",
    "course_detail",
    "video",
    "quiz",
    "history",
    "export",
    "stats",
    "activity",
]


async def check_success(world: World, endpoint: str, parent: str, body: Any) -> None:
    course_gone, video_gone, quiz_gone = gone(parent)
    match endpoint:
        case "enrollments":
            (item,) = body["items"]
            assert item["id"] == world.enrollment and item["course"]["id"] == world.course
            assert item["course"]["title"] == "Going Away"
            assert item["course_available"] is (not course_gone)
            status = "archived" if parent == COURSE_ARCHIVED else "published"
            assert item["course"]["status"] == status
            # As GET /courses/{id}/progress counts: the enrolment's counters (one passed quiz)
            # over what is left of the course (3 items, minus what went).
            left = 3 - video_gone - quiz_gone
            percent = None if course_gone else round(100.0 * min(1, left) / left, 1)
            assert item["progress_percent"] == percent
        case "course_progress":
            assert body["total_items"] == 3 - video_gone - quiz_gone
            assert body["completed_items"] == min(1, body["total_items"])
            resume = None if video_gone else {"video_id": world.videos[0], "position_seconds": 5.0}
            assert body["resume"] == resume
        case "heartbeat":
            assert body["video_id"] == world.videos[0] and body["watched_seconds"] == 9.0
        case "heartbeats":
            assert [i["video_id"] for i in body["items"]] == [world.videos[0]]
        case "attempt_start":
            assert body["quiz_id"] == world.quiz and body["attempt_no"] == 2
        case "attempt_submit":
            assert body["attempt_id"] == world.open_attempt and body["passed"] is True
        case "reviews":
            assert [r["id"] for r in body["items"]] == [world.review]
        case "review_get":
            assert body["id"] == world.review
        case "review_edit":
            assert body["rating"] == 2
        case "review_post":
            assert body["rating"] == 5 and body["course_id"] == world.course
        case "conversation":
            assert body["id"] == world.conversation and len(body["messages"]) == 2
        case "conversation_start":
            assert body["course_id"] == world.course
        case "message":
            assert body["answer"]["role"] == "assistant"
        case "course_detail":
            assert body["id"] == world.course
            videos = [v["id"] for s in body["sections"] for v in s["videos"]]
            assert videos == world.videos[1:] if video_gone else world.videos
            assert all(not v["locked"] for s in body["sections"] for v in s["videos"])
        case "video":
            assert body["id"] == world.videos[0] and body["url"] and not body["locked"]
        case "quiz":
            assert body["id"] == world.quiz and len(body["questions"]) == 1
        case "history":
            assert any(e["entity_id"] == world.course for e in body["items"])
        case "export":
            assert [e["id"] for e in body["enrollments"]] == [world.enrollment]
            assert [c["id"] for c in body["tutor_conversations"]] == [world.conversation]
            assert len(body["quiz_attempts"]) >= 1 and len(body["video_progress"]) == 1
        case "stats":
            assert body["enrolled_courses"] >= 0
        case "activity":
            assert body["items"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("parent", PARENTS)
async def test_rows_pointing_at_a_parent_that_went_away(
    client: httpx.AsyncClient, login_as: LoginAs, parent: str, endpoint: str
) -> None:
    world = await build(client, login_as, endpoint)
    await take_away(world, parent)
    if parent == INSTRUCTOR_DELETED:
        world.instructor = None  # type: ignore[assignment]  # its token is dead: an admin reads
    method, path, kwargs, who = request_of(world, endpoint)

    response = await world.call(method, path, who, **kwargs)

    cell = f"{endpoint} after {parent}"
    assert response.status_code < 500, f"{cell}: {response.status_code} {response.text}"
    expected = expected_status(endpoint, parent)
    assert response.status_code == expected, f"{cell}: {response.text}"
    if expected == 404:
        body = assert_problem(response, 404, "not_found")
        assert body["detail"]
    else:
        await check_success(world, endpoint, parent, response.json())


async def test_a_deleted_course_comes_back_with_its_learners_history(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    """Unavailable is not lost: once the instructor restores the course, its learner finds
    the enrolment available again with the progress earned before."""
    world = await build(client, login_as, "enrollments")
    await take_away(world, COURSE_DELETED)
    listed = await world.ok("GET", "/users/me/enrollments")
    assert listed["items"][0]["course_available"] is False
    await world.ok("POST", f"/courses/{world.course}/restore", world.instructor)
    (item,) = (await world.ok("GET", "/users/me/enrollments"))["items"]
    assert item["course_available"] is True and item["progress_percent"] == round(100 / 3, 1)
    progress = await world.ok("GET", f"/courses/{world.course}/progress")
    assert progress["completed_items"] == 1 and progress["total_items"] == 3
    # The catalog lists it again.
    catalog = await world.ok("GET", "/courses")
    assert world.course in [c["id"] for c in catalog["items"]]
