"""Access to course content (SPEC 5) through the HTTP API, on both databases.

A published course's outline (sections, titles, durations, positions, question counts) is
public; video urls, transcripts and quiz questions are for the learners enrolled in it, its
instructor and the admins, except videos marked `is_preview`. For everyone else a video shows
`locked: true` with `url` and `transcript` null, and a quiz `locked: true` with `questions`
null. Answer keys are the instructor's and the admins' only. An archived course leaves the
catalog but stays open to its learners (reading and progress); nobody new may enrol, and for
everyone else it is 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Account, LoginAs, assert_problem
from tests.api.test_courses import API, COURSES, course_url

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

ANONYMOUS, OUTSIDER, CANCELLED, LEARNER, OWNER, OTHER_INSTRUCTOR, ADMIN = (
    "anonymous",
    "outsider",  # a student who never enrolled
    "cancelled",  # a student who enrolled, then cancelled
    "learner",  # a student enrolled in the course
    "owner",  # the course's instructor
    "other_instructor",
    "admin",
)
# Who sees the content in full.
FULL = {LEARNER, OWNER, ADMIN}
KEYS = {OWNER, ADMIN}

LOCKED_URL = "https://videos.example.com/members-only.mp4"
LOCKED_TRANSCRIPT = "Only enrolled learners read this transcript."
PREVIEW_URL = "https://videos.example.com/free-preview.mp4"
PREVIEW_TRANSCRIPT = "Everyone may watch this preview."
QUESTION = "Which status answers a request without credentials?"


def auth(account: Account | None) -> dict[str, str]:
    return account.headers if account is not None else {}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Course:
    """A published course: section 0 holds a members-only video and a quiz, section 1 a free
    preview video."""

    def __init__(self, client: httpx.AsyncClient, owner: Account) -> None:
        self.client, self.owner = client, owner

    async def build(self) -> Course:
        client, h = self.client, self.owner.headers
        course = await ok(
            await client.post(COURSES, headers=h, json={"title": "Locked Content 101"}), 201
        )
        self.id = course["id"]
        first = await ok(
            await client.post(course_url(self.id, "/sections"), headers=h, json={"title": "A"}),
            201,
        )
        second = await ok(
            await client.post(course_url(self.id, "/sections"), headers=h, json={"title": "B"}),
            201,
        )
        self.sections = [first["id"], second["id"]]
        locked = await ok(
            await client.post(
                f"{API}/sections/{first['id']}/videos",
                headers=h,
                json={
                    "title": "Members only",
                    "url": LOCKED_URL,
                    "duration_seconds": 120,
                    "transcript": LOCKED_TRANSCRIPT,
                },
            ),
            201,
        )
        assert locked["is_preview"] is False and locked["locked"] is False
        # A preview on create...
        preview = await ok(
            await client.post(
                f"{API}/sections/{second['id']}/videos",
                headers=h,
                json={
                    "title": "Free preview",
                    "url": PREVIEW_URL,
                    "duration_seconds": 60,
                    "transcript": PREVIEW_TRANSCRIPT,
                    "is_preview": True,
                },
            ),
            201,
        )
        assert preview["is_preview"] is True
        self.locked_video, self.preview_video = locked["id"], preview["id"]
        quiz = await ok(
            await client.post(
                f"{API}/sections/{first['id']}/quizzes",
                headers=h,
                json={
                    "title": "Checkpoint",
                    "questions": [
                        {
                            "text": QUESTION,
                            "type": "single_choice",
                            "options": [
                                {"text": "401 Unauthorized", "is_correct": True},
                                {"text": "403 Forbidden", "is_correct": False},
                            ],
                        },
                        {
                            "text": "Capital of France?",
                            "type": "short_answer",
                            "answer_text": "Paris",
                        },
                    ],
                },
            ),
            201,
        )
        self.quiz = quiz["id"]
        await ok(await client.post(course_url(self.id, "/publish"), headers=h))
        return self

    async def enrol(self, account: Account) -> str:
        body = await ok(
            await self.client.post(course_url(self.id, "/enrollments"), headers=account.headers),
            201,
        )
        return str(body["id"])


async def caller_of(kind: str, login_as: LoginAs, course: Course) -> Account | None:
    match kind:
        case "anonymous":
            return None
        case "owner":
            return course.owner
        case "other_instructor":
            return await login_as("instructor")
        case "admin":
            return await login_as("admin")
    account = await login_as("student")
    if kind in (LEARNER, CANCELLED):
        enrollment = await course.enrol(account)
        if kind == CANCELLED:
            await ok(
                await course.client.post(
                    f"{API}/enrollments/{enrollment}/cancel", headers=account.headers
                )
            )
    return account


def assert_video(
    video: dict[str, Any], *, full: bool, preview: bool, members_only: bool | None = None
) -> None:
    """A video as the caller must see it: in full, or locked (url and transcript null).
    `members_only`: which of the two test videos it is (by default: the non-preview one)."""
    shown = full or preview
    own = (not preview) if members_only is None else members_only
    assert video["is_preview"] is preview
    assert video["locked"] is (not shown), video
    assert video["url"] == ((LOCKED_URL if own else PREVIEW_URL) if shown else None), video
    if "transcript" in video:
        transcript = LOCKED_TRANSCRIPT if own else PREVIEW_TRANSCRIPT
        assert video["transcript"] == (transcript if shown else None), video


@pytest.mark.parametrize(
    "kind", [ANONYMOUS, OUTSIDER, CANCELLED, LEARNER, OWNER, OTHER_INSTRUCTOR, ADMIN]
)
async def test_each_caller_sees_exactly_what_the_course_grants(
    client: httpx.AsyncClient, login_as: LoginAs, kind: str
) -> None:
    course = await Course(client, await login_as("instructor")).build()
    caller = await caller_of(kind, login_as, course)
    full = kind in FULL

    # The course page: the outline for everyone; urls only where granted or previewed.
    response = await client.get(course_url(course.id), headers=auth(caller))
    detail = await ok(response)
    assert response.headers["vary"] == "Authorization"
    first, second = detail["sections"]
    assert [v["title"] for v in first["videos"]] == ["Members only"]
    assert first["videos"][0]["duration_seconds"] == 120 and first["videos"][0]["position"] == 0
    assert_video(first["videos"][0], full=full, preview=False)
    assert_video(second["videos"][0], full=full, preview=True)
    assert [(q["title"], q["question_count"]) for q in first["quizzes"]] == [("Checkpoint", 2)]
    assert "transcript" not in response.text and "questions" not in response.text
    if not full:
        assert LOCKED_URL not in response.text

    # A video on its own: the same rule, transcript included.
    locked = await ok(await client.get(f"{API}/videos/{course.locked_video}", headers=auth(caller)))
    assert_video(locked, full=full, preview=False)
    preview = await ok(
        await client.get(f"{API}/videos/{course.preview_video}", headers=auth(caller))
    )
    assert_video(preview, full=full, preview=True)

    # The quiz: questions for learners, answer keys for the owner and admins only.
    response = await client.get(f"{API}/quizzes/{course.quiz}", headers=auth(caller))
    quiz = await ok(response)
    assert quiz["title"] == "Checkpoint" and quiz["pass_mark"] == 70
    if kind in KEYS:
        assert [o["is_correct"] for o in quiz["questions"][0]["options"]] == [True, False]
        assert quiz["questions"][1]["answer_text"] == "Paris"
    elif full:
        assert quiz["locked"] is False and quiz["question_count"] == 2
        assert [q["text"] for q in quiz["questions"]] == [QUESTION, "Capital of France?"]
        assert "is_correct" not in response.text and "Paris" not in response.text
    else:
        assert quiz["locked"] is True and quiz["questions"] is None
        assert quiz["question_count"] == 2
        assert QUESTION not in response.text and "Paris" not in response.text

    # A section is outline: everyone who sees the course sees it.
    section = await ok(
        await client.get(f"{API}/sections/{course.sections[0]}", headers=auth(caller))
    )
    assert section["title"] == "A"


async def test_preview_flag_is_set_by_the_instructor_and_unlocks_the_video(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    course = await Course(client, await login_as("instructor")).build()
    url = f"{API}/videos/{course.locked_video}"
    assert (await ok(await client.get(url)))["locked"] is True

    # Only the course's instructor (or an admin) may mark it.
    other = await login_as("instructor")
    refused = await client.patch(url, headers=other.headers, json={"is_preview": True})
    assert_problem(refused, 403, "forbidden")
    assert (await ok(await client.get(url)))["locked"] is True

    patched = await ok(
        await client.patch(url, headers=course.owner.headers, json={"is_preview": True})
    )
    assert patched["is_preview"] is True
    video = await ok(await client.get(url))
    assert_video(video, full=False, preview=True, members_only=True)
    detail = await ok(await client.get(course_url(course.id)))
    assert detail["sections"][0]["videos"][0]["is_preview"] is True
    assert detail["sections"][0]["videos"][0]["url"] == LOCKED_URL

    # ... and unmark it; a PATCH that does not name the flag leaves it as it is.
    await ok(await client.patch(url, headers=course.owner.headers, json={"title": "Renamed"}))
    assert (await ok(await client.get(url)))["is_preview"] is True
    await ok(await client.patch(url, headers=course.owner.headers, json={"is_preview": False}))
    assert (await ok(await client.get(url)))["locked"] is True

    # The audit trail records the flag like any other field.
    history = await ok(
        await client.get(course_url(course.id, "/history"), headers=course.owner.headers)
    )
    flips = [
        e["changes"]["is_preview"]
        for e in history["items"]
        if e["entity_id"] == course.locked_video and "is_preview" in e["changes"]
    ]
    assert flips == [[True, False], [False, True], [None, False]]  # newest first


async def test_archived_course_stays_open_to_its_learners_only(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    course = await Course(client, await login_as("instructor")).build()
    learner, outsider = await login_as("student"), await login_as("student")
    await course.enrol(learner)
    archived = await ok(
        await client.post(course_url(course.id, "/archive"), headers=course.owner.headers)
    )
    assert archived["status"] == "archived"

    # Out of the catalog, and no new enrolments.
    catalog = await ok(await client.get(COURSES))
    assert course.id not in [c["id"] for c in catalog["items"]]
    refused = await client.post(course_url(course.id, "/enrollments"), headers=outsider.headers)
    assert_problem(refused, 409, "conflict")
    mine = await ok(await client.get(f"{API}/users/me/enrollments", headers=outsider.headers))
    assert mine["items"] == []

    # Its learner keeps reading it in full...
    detail = await ok(await client.get(course_url(course.id), headers=learner.headers))
    assert detail["status"] == "archived"
    assert_video(detail["sections"][0]["videos"][0], full=True, preview=False)
    video = await ok(
        await client.get(f"{API}/videos/{course.locked_video}", headers=learner.headers)
    )
    assert_video(video, full=True, preview=False)
    quiz = await ok(await client.get(f"{API}/quizzes/{course.quiz}", headers=learner.headers))
    assert quiz["locked"] is False and len(quiz["questions"]) == 2
    await ok(await client.get(f"{API}/sections/{course.sections[0]}", headers=learner.headers))

    # ... and keeps making progress: heartbeats and quiz attempts.
    beat = await ok(
        await client.put(
            f"{API}/videos/{course.locked_video}/progress",
            headers=learner.headers,
            json={"position_seconds": 8, "played_segments": [[0, 8]]},
        )
    )
    assert beat["watched_seconds"] == 8.0
    attempt = await ok(
        await client.post(f"{API}/quizzes/{course.quiz}/attempts", headers=learner.headers), 201
    )
    keys = await ok(await client.get(f"{API}/quizzes/{course.quiz}", headers=course.owner.headers))
    answers = [
        {
            "question_id": keys["questions"][0]["id"],
            "option_ids": [o["id"] for o in keys["questions"][0]["options"] if o["is_correct"]],
        },
        {"question_id": keys["questions"][1]["id"], "text": "Paris"},
    ]
    graded = await ok(
        await client.post(
            f"{API}/attempts/{attempt['id']}/submit",
            headers=learner.headers,
            json={"answers": answers},
        )
    )
    assert graded["score"] == 100.0 and graded["passed"] is True
    progress = await ok(
        await client.get(course_url(course.id, "/progress"), headers=learner.headers)
    )
    assert progress["completed_items"] == 1 and progress["total_items"] == 3
    assert progress["resume"] == {"video_id": course.locked_video, "position_seconds": 8.0}
    # Its learners may still review it.
    review = await client.post(
        course_url(course.id, "/reviews"),
        headers=learner.headers,
        json={"rating": 5, "body": "Good"},
    )
    assert review.status_code == 201, review.text
    listed = await ok(await client.get(f"{API}/users/me/enrollments", headers=learner.headers))
    (item,) = listed["items"]
    assert item["course"]["status"] == "archived" and item["course_available"] is True
    assert item["progress_percent"] == round(100 / 3, 1)

    # For everyone else it does not exist any more (the outline is not public either).
    for account in (None, outsider, await login_as("instructor")):
        for path in (
            course_url(course.id),
            f"{API}/videos/{course.locked_video}",
            f"{API}/videos/{course.preview_video}",
            f"{API}/quizzes/{course.quiz}",
            f"{API}/sections/{course.sections[0]}",
        ):
            assert_problem(await client.get(path, headers=auth(account)), 404, "not_found")
    # Its instructor and the admins still see everything.
    for account in (course.owner, await login_as("admin")):
        detail = await ok(await client.get(course_url(course.id), headers=account.headers))
        assert_video(detail["sections"][0]["videos"][0], full=True, preview=False)


async def test_the_tutor_answers_enrolled_learners_only(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    course = await Course(client, await login_as("instructor")).build()
    learner = await login_as("student")
    for account in (await login_as("student"), course.owner, await login_as("admin")):
        refused = await client.post(
            course_url(course.id, "/conversations"), headers=account.headers, json={}
        )
        assert_problem(refused, 403, "not_enrolled")
    await course.enrol(learner)
    started = await ok(
        await client.post(
            course_url(course.id, "/conversations"), headers=learner.headers, json={}
        ),
        201,
    )
    asked = await ok(
        await client.post(
            f"{API}/conversations/{started['id']}/messages",
            headers=learner.headers,
            json={"content": "What do enrolled learners read?"},
        ),
        201,
    )
    assert asked["answer"]["role"] == "assistant"
