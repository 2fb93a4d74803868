"""The audit trail explains every row after any sequence of ordinary actions (SPEC 3).

A seeded random walk drives mixed actions through the HTTP API, as several callers (an
admin, two instructors, four students): authoring courses, sections, videos and quizzes,
editing, reordering, publishing, archiving, soft-deleting and restoring them (by their owner,
another instructor or an admin), enrolling, heartbeats, quiz attempts, reviews and their
moderation, the tutor, account administration (edit, roles, delete, restore, erase), logging
out and in, hard-deleting courses. Refusals on the merits (403, 404, 409, 412, 422) are
part of the walk; a 5xx never is. Every few steps, and at the end, `AuditService.verify`
(what `learnhub audit verify` runs) must find no gap: no row whose current state the trail
does not explain.

The seeds are fixed, so a run is deterministic and a failure names its seed and the steps
that led to it. To cover a new endpoint, add an `Action` to ACTIONS: a weight and a
coroutine that picks its target from the walk's state, makes one (or a few) requests through
`Walk.call`, and records what it created or removed.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from learnhub.db.uow import UnitOfWork
from learnhub.services.audit import AuditService
from tests.api.conftest import PASSWORD, Account, LoginAs
from tests.api.test_courses import API, PRICE, QUESTIONS

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

SEEDS = [1, 2, 3, 4, 5]
STEPS = 50
VERIFY_EVERY = 10


@dataclass
class Walk:
    client: httpx.AsyncClient
    rng: random.Random
    admin: Account
    instructors: list[Account]
    students: list[Account]
    # What exists (or existed: soft-deleted rows stay listed, so restores find them).
    courses: dict[str, str] = field(default_factory=dict)  # course id -> owner's user id
    sections: dict[str, str] = field(default_factory=dict)  # section id -> course id
    videos: dict[str, str] = field(default_factory=dict)  # video id -> course id
    quizzes: dict[str, str] = field(default_factory=dict)  # quiz id -> course id
    enrollments: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (user, course)
    attempts: dict[str, tuple[str, list[dict]]] = field(default_factory=dict)  # -> (user, qs)
    reviews: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (author, course)
    erased: set[str] = field(default_factory=set)  # user ids
    deleted_users: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)
    counter: int = 0

    # ---- choosing -------------------------------------------------------------------------

    def pick(self, items: dict[str, Any]) -> str | None:
        return self.rng.choice(sorted(items)) if items else None

    def account(self, user_id: str) -> Account | None:
        for account in [self.admin, *self.instructors, *self.students]:
            if account.id == user_id and user_id not in self.erased:
                return account
        return None

    def learner(self) -> Account:
        """Mostly students; instructors learn too."""
        pool = [a for a in self.students if a.id not in self.erased]
        if not pool or self.rng.random() < 0.15:
            pool = self.instructors
        return self.rng.choice(pool)

    def editor(self, course_id: str) -> Account:
        """Usually the course's owner, sometimes an admin, now and then another instructor."""
        roll = self.rng.random()
        owner = self.account(self.courses.get(course_id, ""))
        if roll < 0.3:
            return self.admin
        if roll < 0.4 or owner is None:
            return self.rng.choice(self.instructors)
        return owner

    def text(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix} {self.counter}"

    # ---- calling --------------------------------------------------------------------------

    async def call(
        self,
        who: Account | None,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        response = await self.client.request(
            method,
            f"{API}{path}",
            json=json,
            params=params,
            headers=who.headers if who is not None else {},
        )
        who_name = who.email.split("@")[0] if who is not None else "anonymous"
        query = f"?{params}" if params else ""
        self.log.append(f"{who_name} {method} {path}{query} {json or ''} -> {response.status_code}")
        assert response.status_code < 500, "\n".join(self.log[-15:]) + "\n" + response.text
        return response


# ---- actions ------------------------------------------------------------------------------------

ActionFn = Callable[[Walk], Awaitable[None]]


async def create_course(w: Walk) -> None:
    author = w.rng.choice(w.instructors)
    r = await w.call(author, "POST", "/courses", {"title": w.text("Course"), "price": PRICE})
    if r.status_code == 201:
        w.courses[r.json()["id"]] = author.id


async def edit_course(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    body: dict[str, Any] = {"title": w.text("Retitled")}
    if w.rng.random() < 0.5:
        body["price"] = {"amount": f"{w.rng.randint(0, 99)}.50", "currency": "USD"}
    await w.call(w.editor(course), "PATCH", f"/courses/{course}", body)


async def publish_course(w: Walk) -> None:
    if (course := w.pick(w.courses)) is not None:
        await w.call(w.editor(course), "POST", f"/courses/{course}/publish")


async def archive_course(w: Walk) -> None:
    if (course := w.pick(w.courses)) is not None:
        await w.call(w.editor(course), "POST", f"/courses/{course}/archive")


async def delete_course(w: Walk) -> None:
    if (course := w.pick(w.courses)) is not None:
        await w.call(w.editor(course), "DELETE", f"/courses/{course}")


async def restore_course(w: Walk) -> None:
    if (course := w.pick(w.courses)) is not None:
        await w.call(w.editor(course), "POST", f"/courses/{course}/restore")


async def hard_delete_course(w: Walk) -> None:
    # Enrolments keep a course (ON DELETE RESTRICT: 409): mostly pick one without any, and
    # when there is none, have an instructor make one with content first.
    taken = {c for _, c in w.enrollments.values()}
    free = {c: o for c, o in w.courses.items() if c not in taken}
    if not free and w.rng.random() < 0.8:
        await create_course(w)
        free = {c: o for c, o in w.courses.items() if c not in taken}
        for course in free:
            author = w.account(free[course]) or w.admin
            r = await w.call(author, "POST", f"/courses/{course}/sections", {"title": "Doomed"})
            if r.status_code == 201:
                w.sections[r.json()["id"]] = course
    if (course := w.pick(free if free and w.rng.random() < 0.8 else w.courses)) is None:
        return
    r = await w.call(w.admin, "DELETE", f"/courses/{course}", params={"hard": "true"})
    if r.status_code == 204:
        del w.courses[course]
        for table in (w.sections, w.videos, w.quizzes):
            for child in [k for k, v in table.items() if v == course]:
                del table[child]


async def add_section(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    r = await w.call(w.editor(course), "POST", f"/courses/{course}/sections", {"title": "Part"})
    if r.status_code == 201:
        w.sections[r.json()["id"]] = course


async def edit_section(w: Walk) -> None:
    if (section := w.pick(w.sections)) is not None:
        who = w.editor(w.sections[section])
        await w.call(who, "PATCH", f"/sections/{section}", {"title": w.text("Part")})


async def delete_section(w: Walk) -> None:
    if (section := w.pick(w.sections)) is not None:
        await w.call(w.editor(w.sections[section]), "DELETE", f"/sections/{section}")


async def restore_section(w: Walk) -> None:
    if (section := w.pick(w.sections)) is not None:
        await w.call(w.editor(w.sections[section]), "POST", f"/sections/{section}/restore")


async def add_video(w: Walk) -> None:
    if (section := w.pick(w.sections)) is None:
        return
    course = w.sections[section]
    body = {
        "title": w.text("Video"),
        "url": "https://videos.example.com/lesson.mp4",
        "duration_seconds": w.rng.choice([60, 120, 600]),
        "transcript": "hello world",
    }
    r = await w.call(w.editor(course), "POST", f"/sections/{section}/videos", body)
    if r.status_code == 201:
        w.videos[r.json()["id"]] = course


async def edit_video(w: Walk) -> None:
    if (video := w.pick(w.videos)) is not None:
        body = {"title": w.text("Video"), "duration_seconds": w.rng.choice([90, 300])}
        await w.call(w.editor(w.videos[video]), "PATCH", f"/videos/{video}", body)


async def delete_video(w: Walk) -> None:
    if (video := w.pick(w.videos)) is not None:
        await w.call(w.editor(w.videos[video]), "DELETE", f"/videos/{video}")


async def restore_video(w: Walk) -> None:
    if (video := w.pick(w.videos)) is not None:
        await w.call(w.editor(w.videos[video]), "POST", f"/videos/{video}/restore")


async def add_quiz(w: Walk) -> None:
    if (section := w.pick(w.sections)) is None:
        return
    course = w.sections[section]
    body = {"title": w.text("Quiz"), "pass_mark": 60, "max_attempts": 3, "questions": QUESTIONS}
    r = await w.call(w.editor(course), "POST", f"/sections/{section}/quizzes", body)
    if r.status_code == 201:
        w.quizzes[r.json()["id"]] = course


async def edit_quiz(w: Walk) -> None:
    if (quiz := w.pick(w.quizzes)) is not None:
        body = {"title": w.text("Quiz"), "pass_mark": w.rng.choice([50, 70])}
        await w.call(w.editor(w.quizzes[quiz]), "PATCH", f"/quizzes/{quiz}", body)


async def delete_quiz(w: Walk) -> None:
    if (quiz := w.pick(w.quizzes)) is not None:
        await w.call(w.editor(w.quizzes[quiz]), "DELETE", f"/quizzes/{quiz}")


async def restore_quiz(w: Walk) -> None:
    if (quiz := w.pick(w.quizzes)) is not None:
        await w.call(w.editor(w.quizzes[quiz]), "POST", f"/quizzes/{quiz}/restore")


async def replace_questions(w: Walk) -> None:
    if (quiz := w.pick(w.quizzes)) is not None:
        body = {"questions": w.rng.sample(QUESTIONS, 2)}
        await w.call(w.editor(w.quizzes[quiz]), "PATCH", f"/quizzes/{quiz}", body)


async def reorder_sections(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    ids = sorted(s for s, c in w.sections.items() if c == course)
    w.rng.shuffle(ids)
    await w.call(w.editor(course), "PUT", f"/courses/{course}/sections/order", {"ids": ids})


async def enrol(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    learner = w.learner()
    if (learner.id, course) in w.enrollments.values() and w.rng.random() < 0.8:
        return  # enrolling twice is a 409; try that only now and then
    r = await w.call(learner, "POST", f"/courses/{course}/enrollments")
    if r.status_code == 201:
        w.enrollments[r.json()["id"]] = (learner.id, course)


async def cancel_enrollment(w: Walk) -> None:
    if (enrollment := w.pick(w.enrollments)) is None:
        return
    who = w.account(w.enrollments[enrollment][0]) or w.admin
    await w.call(who, "POST", f"/enrollments/{enrollment}/cancel")


def enrolled(w: Walk, course: str) -> Account | None:
    """A live learner enrolled in `course`, if any."""
    users = sorted({u for u, c in w.enrollments.values() if c == course})
    accounts = [a for u in users if (a := w.account(u)) is not None]
    return w.rng.choice(accounts) if accounts else None


async def heartbeat(w: Walk) -> None:
    if (video := w.pick(w.videos)) is None:
        return
    learner = enrolled(w, w.videos[video]) or w.learner()
    start = w.rng.choice([0, 10, 30])
    body = {"position_seconds": start + 10, "played_segments": [[start, start + 10]]}
    await w.call(learner, "PUT", f"/videos/{video}/progress", body)


async def start_attempt(w: Walk) -> None:
    if (quiz := w.pick(w.quizzes)) is None:
        return
    learner = enrolled(w, w.quizzes[quiz]) or w.learner()
    r = await w.call(learner, "POST", f"/quizzes/{quiz}/attempts")
    if r.status_code == 201:
        w.attempts[r.json()["id"]] = (learner.id, r.json()["questions"])


async def submit_attempt(w: Walk) -> None:
    if (attempt := w.pick(w.attempts)) is None:
        return
    user, questions = w.attempts[attempt]
    answers = []
    for q in questions:
        if q["options"]:
            answers.append(
                {"question_id": q["id"], "option_ids": [w.rng.choice(q["options"])["id"]]}
            )
        else:
            answers.append({"question_id": q["id"], "text": w.rng.choice(["Paris", "Rome"])})
    who = w.account(user) or w.learner()
    await w.call(who, "POST", f"/attempts/{attempt}/submit", {"answers": answers})


async def post_review(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    learner = enrolled(w, course) or w.learner()
    body = {"rating": w.rng.randint(1, 5), "body": w.text("Review")}
    r = await w.call(learner, "POST", f"/courses/{course}/reviews", body)
    if r.status_code == 201:
        w.reviews[r.json()["id"]] = (learner.id, course)


async def edit_review(w: Walk) -> None:
    if (review := w.pick(w.reviews)) is None:
        return
    who = w.account(w.reviews[review][0]) or w.admin
    body = {"rating": w.rng.randint(1, 5), "body": w.text("Edited review")}
    await w.call(who, "PATCH", f"/reviews/{review}", body)


async def moderate_review(w: Walk) -> None:
    if (review := w.pick(w.reviews)) is None:
        return
    who = w.editor(w.reviews[review][1])
    status = w.rng.choice(["hidden", "published"])
    await w.call(who, "PATCH", f"/reviews/{review}", {"status": status})


async def delete_review(w: Walk) -> None:
    if (review := w.pick(w.reviews)) is None:
        return
    who = w.admin if w.rng.random() < 0.3 else (w.account(w.reviews[review][0]) or w.admin)
    await w.call(who, "DELETE", f"/reviews/{review}")


async def restore_review(w: Walk) -> None:
    if (review := w.pick(w.reviews)) is None:
        return
    who = w.admin if w.rng.random() < 0.5 else (w.account(w.reviews[review][0]) or w.admin)
    await w.call(who, "POST", f"/reviews/{review}/restore")


async def ask_tutor(w: Walk) -> None:
    if (course := w.pick(w.courses)) is None:
        return
    learner = enrolled(w, course) or w.learner()
    r = await w.call(learner, "POST", f"/courses/{course}/conversations", {"video_id": None})
    if r.status_code == 201:
        question = {"content": "What does the first video say?"}
        await w.call(learner, "POST", f"/conversations/{r.json()['id']}/messages", question)


def someone(w: Walk) -> Account | None:
    """A live account other than the admin."""
    pool = [a for a in [*w.instructors, *w.students] if a.id not in w.erased]
    return w.rng.choice(pool) if pool else None


async def edit_user(w: Walk) -> None:
    if (user := someone(w)) is not None:
        await w.call(w.admin, "PATCH", f"/users/{user.id}", {"display_name": w.text("Person")})


async def edit_me(w: Walk) -> None:
    if (user := someone(w)) is not None:
        await w.call(user, "PATCH", "/users/me", {"display_name": w.text("Me")})


async def delete_user(w: Walk) -> None:
    if (user := someone(w)) is not None:
        r = await w.call(w.admin, "DELETE", f"/users/{user.id}")
        if r.status_code == 204:
            w.deleted_users.add(user.id)


async def restore_user(w: Walk) -> None:
    deleted = [a for u in sorted(w.deleted_users - w.erased) if (a := w.account(u))]
    user = w.rng.choice(deleted) if deleted and w.rng.random() < 0.8 else someone(w)
    if user is None:
        return
    r = await w.call(w.admin, "POST", f"/users/{user.id}/restore")
    if r.status_code == 200:  # tokens issued before the deletion stay dead: log in again
        w.deleted_users.discard(user.id)
        await log_in(w, user)


async def erase_user(w: Walk) -> None:
    pool = [a for a in w.students if a.id not in w.erased]
    if w.rng.random() < 0.3:  # an instructor: refused while they own courses
        pool = [a for a in w.instructors if a.id not in w.erased]
    if len(pool) < 2:  # keep someone of each kind around
        return
    user = w.rng.choice(pool)
    r = await w.call(w.admin, "DELETE", f"/users/{user.id}", params={"hard": "true"})
    if r.status_code == 204:
        w.erased.add(user.id)
        if user in w.instructors:
            w.instructors.remove(user)


async def set_roles(w: Walk) -> None:
    students = [a for a in w.students if a.id not in w.erased]
    if not students:
        return
    roles = w.rng.choice([["student"], ["instructor", "student"]])
    await w.call(w.admin, "PUT", f"/users/{w.rng.choice(students).id}/roles", {"roles": roles})


async def log_in(w: Walk, account: Account) -> None:
    r = await w.call(None, "POST", "/auth/login", {"email": account.email, "password": PASSWORD})
    if r.status_code == 200:
        account.tokens = r.json()
        account.headers = {"Authorization": f"Bearer {account.tokens['access_token']}"}


async def log_out_and_in(w: Walk) -> None:
    if (user := someone(w)) is None:
        return
    refresh = {"refresh_token": user.tokens["refresh_token"]}
    await w.call(user, "POST", "/auth/logout", refresh)
    await log_in(w, user)


@dataclass(frozen=True)
class Action:
    name: str
    weight: int
    run: ActionFn


ACTIONS = [
    Action("create course", 3, create_course),
    Action("edit course", 4, edit_course),
    Action("publish course", 4, publish_course),
    Action("archive course", 2, archive_course),
    Action("delete course", 2, delete_course),
    Action("restore course", 3, restore_course),
    Action("hard-delete course", 2, hard_delete_course),
    Action("add section", 3, add_section),
    Action("edit section", 2, edit_section),
    Action("delete section", 2, delete_section),
    Action("restore section", 2, restore_section),
    Action("add video", 3, add_video),
    Action("edit video", 2, edit_video),
    Action("delete video", 2, delete_video),
    Action("restore video", 2, restore_video),
    Action("add quiz", 2, add_quiz),
    Action("edit quiz", 1, edit_quiz),
    Action("delete quiz", 1, delete_quiz),
    Action("restore quiz", 1, restore_quiz),
    Action("replace quiz questions", 1, replace_questions),
    Action("reorder sections", 1, reorder_sections),
    Action("enrol", 6, enrol),
    Action("cancel enrolment", 2, cancel_enrollment),
    Action("heartbeat", 5, heartbeat),
    Action("start attempt", 3, start_attempt),
    Action("submit attempt", 3, submit_attempt),
    Action("post review", 4, post_review),
    Action("edit review", 2, edit_review),
    Action("moderate review", 3, moderate_review),
    Action("delete review", 2, delete_review),
    Action("restore review", 2, restore_review),
    Action("ask the tutor", 1, ask_tutor),
    Action("edit user", 1, edit_user),
    Action("edit own profile", 1, edit_me),
    Action("delete user", 1, delete_user),
    Action("restore user", 2, restore_user),
    Action("erase user", 1, erase_user),
    Action("set roles", 1, set_roles),
    Action("log out and in", 1, log_out_and_in),
]


async def setup(w: Walk) -> None:
    """Each instructor's published course with a section, a video and a quiz, and a few
    enrolments: the walk starts from a catalog with something to learn."""
    for instructor in w.instructors:
        r = await w.call(
            instructor, "POST", "/courses", {"title": w.text("Course"), "price": PRICE}
        )
        course = r.json()["id"]
        w.courses[course] = instructor.id
        r = await w.call(instructor, "POST", f"/courses/{course}/sections", {"title": "Start"})
        w.sections[r.json()["id"]] = course
        section = r.json()["id"]
        video = {
            "title": "Welcome",
            "url": "https://videos.example.com/welcome.mp4",
            "duration_seconds": 120,
        }
        r = await w.call(instructor, "POST", f"/sections/{section}/videos", video)
        w.videos[r.json()["id"]] = course
        quiz = {"title": "Check", "pass_mark": 60, "max_attempts": 3, "questions": QUESTIONS}
        r = await w.call(instructor, "POST", f"/sections/{section}/quizzes", quiz)
        w.quizzes[r.json()["id"]] = course
        r = await w.call(instructor, "POST", f"/courses/{course}/publish")
        assert r.status_code == 200, r.text
        for student in w.students[:2]:
            r = await w.call(student, "POST", f"/courses/{course}/enrollments")
            w.enrollments[r.json()["id"]] = (student.id, course)


async def assert_trail_complete(w: Walk, session_factory: Any, where: str) -> None:
    async with UnitOfWork(session_factory) as uow:
        report = await AuditService(uow).verify()
    assert report.gaps == [], (
        f"{where}: audit verify found {len(report.gaps)} gaps, e.g. {report.gaps[:5]}\n"
        + "\n".join(w.log[-20:])
    )


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_walk_leaves_the_audit_trail_complete(
    client: httpx.AsyncClient, login_as: LoginAs, session_factory: Any, seed: int
) -> None:
    walk = Walk(
        client=client,
        rng=random.Random(seed),
        admin=await login_as("admin"),
        instructors=[await login_as("instructor") for _ in range(2)],
        students=[await login_as("student") for _ in range(4)],
    )
    await setup(walk)
    await assert_trail_complete(walk, session_factory, "after setup")
    walked_from = len(walk.log)
    weights = [a.weight for a in ACTIONS]
    for step in range(1, STEPS + 1):
        action = walk.rng.choices(ACTIONS, weights)[0]
        walk.log.append(f"-- step {step}: {action.name}")
        await action.run(walk)
        if step % VERIFY_EVERY == 0:
            await assert_trail_complete(walk, session_factory, f"seed {seed}, step {step}")
    await assert_trail_complete(walk, session_factory, f"seed {seed}, end")
    # The walk really walked: most requests were accepted, not refused.
    walked = walk.log[walked_from:]
    accepted = sum(1 for line in walked if line.endswith(("-> 200", "-> 201", "-> 204")))
    assert accepted >= STEPS // 2, "\n".join(walked)
