"""The demo's story after the catalog: learners at different stages, reviews with a spread of
ratings, and an administrator with history to browse.

Everything goes through the services as real traffic would (audited, evented, with activity).
Progress too: the heartbeat service runs on a clock of the demo's own, set in the past and
moved forward by each video's duration between two heartbeats, so the server's real-time
budget credits the watching (SPEC 13); no progress row is written by hand.

Idempotent, one step at a time: a learner's stage in a course is skipped when they hold an
enrolment there (made in the same transaction as the rest of that stage), and the
administrator's history when the review it hides is hidden already.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.context import acting_as, current_request_id
from learnhub.domain.course_rules import slugify
from learnhub.domain.enums import QuestionType, ReviewStatus, UserStatus
from learnhub.domain.errors import NotFound
from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES, STUDENT
from learnhub.domain.principal import Principal
from learnhub.domain.progress import CreditPolicy
from learnhub.models.course import Course, Quiz
from learnhub.models.user import User
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.filters import Eq
from learnhub.repositories.learning import EnrollmentRepository, ReviewRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.course import CourseChanges, CourseService
from learnhub.services.learning import EnrollmentService, Heartbeat, ProgressService
from learnhub.services.quiz_attempts import AttemptAnswer, QuizAttemptService
from learnhub.services.reviews import ReviewService
from learnhub.services.user import UserAdminService, UserChanges

STUDENT_EMAIL = "demo-student@example.com"
ADMIN_EMAIL = "demo-admin@example.com"
LENA, SAM, PRIYA = (
    "lena.learner@example.com",
    "sam.learner@example.com",
    "priya.learner@example.com",
)
# More learners, so courses have reviews from several people (password: the demo's).
DEMO_LEARNERS = ((LENA, "Lena Novak"), (SAM, "Sam Okoye"), (PRIYA, "Priya Raman"))
SPAM = "Great course!!! Get 10,000 followers today at cheap-followers.example.com"


@dataclass(frozen=True)
class Stage:
    """How far one learner got in one course (videos in course order)."""

    learner: str
    course: str
    watched: int = 0  # videos watched to the end, from the first
    partly_seconds: int | None = None  # then this much of the next one: the resume point
    complete: bool = False  # every video watched and every quiz passed
    failed_quiz: bool = False  # one failed attempt at the course's first quiz
    rating: int | None = None
    review: str = ""


STAGES = (
    Stage(
        STUDENT_EMAIL,
        "The Science of Cooking",
        complete=True,
        rating=5,
        review="I finally understand why resting meat matters. Clear and practical.",
    ),
    Stage(
        STUDENT_EMAIL,
        "Python Fundamentals",
        watched=1,
        partly_seconds=300,
        failed_quiz=True,
        rating=4,
        review="Friendly pace so far; the quiz caught me out, so back to the videos.",
    ),
    Stage(LENA, "The Science of Cooking", watched=2, rating=4, review="Fun and well explained."),
    Stage(
        LENA,
        "SQL and Relational Databases",
        watched=1,
        rating=5,
        review="The best explanation of joins I have seen.",
    ),
    Stage(
        LENA,
        "Writing Clear Technical Documentation",
        complete=True,
        rating=4,
        review="Changed how I write READMEs at work.",
    ),
    Stage(SAM, "Version Control with Git", watched=1, rating=2, review="Too basic for me."),
    Stage(
        SAM,
        "Practical Statistics for Data Analysis",
        rating=1,
        review="Went far too fast; I was lost after the first section.",
    ),
    Stage(SAM, "The Science of Cooking", rating=3, review="Good, but I wanted more recipes."),
    Stage(PRIYA, "Data Visualisation with Python", watched=2, rating=5, review="Beautiful."),
    Stage(PRIYA, "Version Control with Git", rating=4, review="Solid refresher on branching."),
    Stage(PRIYA, "Python Fundamentals", rating=1, review=SPAM),  # the admin hides it
)
# What the administrator edits, to show an audited change by someone other than the author.
EDITED_COURSE = "Web Accessibility Essentials"
EDIT_NOTE = " Updated for WCAG 2.2."


class DemoClock:
    """The progress service's clock for the demo: starts in the past, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def principal_of(user: User, role: str) -> Principal:
    return Principal(
        user_id=user.id,
        session_id=None,
        roles=frozenset({role}),
        permissions=BUILTIN_ROLES[role][1],
    )


class _Lookup:
    """The demo's accounts and courses by e-mail and title, each read once per load."""

    def __init__(self, uow: AbstractUnitOfWork) -> None:
        self.uow = uow
        self.users: dict[str, User] = {}
        self.course_ids: dict[str, uuid.UUID] = {}

    async def user(self, email: str) -> User:
        if email not in self.users:
            user = await self.uow.repo(UserRepository).get_by_email(email)
            if user is None:
                raise NotFound("User", email)
            self.users[email] = user
        return self.users[email]

    async def course_id(self, title: str) -> uuid.UUID:
        if title not in self.course_ids:
            ids = await self.uow.repo(CourseRepository).ids_where([Eq(Course.slug, slugify(title))])
            if not ids:
                raise NotFound("Course", title)
            self.course_ids[title] = ids[0]
        return self.course_ids[title]

    async def course(self, title: str) -> Course:
        """With its outline (sections, videos, quizzes in order)."""
        course = await self.uow.repo(CourseRepository).get_detail(await self.course_id(title))
        if course is None:
            raise NotFound("Course", title)
        return course


def _answers(quiz: Quiz, *, right: bool) -> list[AttemptAnswer]:
    """All answers right, or only the first (a failed attempt with some score)."""
    answers = []
    for i, question in enumerate(quiz.questions):
        good = right or i == 0
        if question.type == QuestionType.SHORT_ANSWER:
            text = question.answer_text if good else "not sure"
            answers.append(AttemptAnswer(question.id, text=text))
        else:
            options = [o.id for o in question.options if o.is_correct == good]
            answers.append(AttemptAnswer(question.id, option_ids=options if good else options[:1]))
    return answers


async def _attempt(
    uow: AbstractUnitOfWork, learner: Principal, quiz_id: uuid.UUID, *, right: bool
) -> None:
    attempts = QuizAttemptService(uow)
    attempt, quiz = await attempts.start(learner, quiz_id)
    await attempts.submit(learner, attempt.id, _answers(quiz, right=right))


async def _watch(
    progress: ProgressService,
    clock: DemoClock,
    learner: Principal,
    video_id: uuid.UUID,
    seconds: float,
) -> None:
    """A player's first heartbeat, then `seconds` later the segment played since."""
    await progress.heartbeat(learner, video_id, Heartbeat(0.0, played_segments=[]))
    clock.advance(seconds)
    await progress.heartbeat(
        learner, video_id, Heartbeat(float(seconds), played_segments=[(0.0, float(seconds))])
    )
    clock.advance(60)  # a pause before the next video


async def _stage(uow: AbstractUnitOfWork, find: _Lookup, clock: DemoClock, stage: Stage) -> None:
    user, course_id = await find.user(stage.learner), await find.course_id(stage.course)
    if await uow.repo(EnrollmentRepository).for_user_and_course(user.id, course_id):
        return  # loaded before
    course = await find.course(stage.course)
    learner = principal_of(user, STUDENT)
    with acting_as(user.id, current_request_id.get()):
        await EnrollmentService(uow).enroll(learner, course.id)
        progress = ProgressService(uow, CreditPolicy(), clock=clock)
        videos = [v for s in course.sections for v in s.videos]
        quizzes = [q for s in course.sections for q in s.quizzes]
        watched = len(videos) if stage.complete else stage.watched
        for video in videos[:watched]:
            await _watch(progress, clock, learner, video.id, video.duration_seconds)
        if stage.partly_seconds is not None and watched < len(videos):
            await _watch(progress, clock, learner, videos[watched].id, stage.partly_seconds)
        if stage.failed_quiz and quizzes:
            await _attempt(uow, learner, quizzes[0].id, right=False)
        if stage.complete:
            for quiz in quizzes:
                await _attempt(uow, learner, quiz.id, right=True)
        if stage.rating is not None:
            await ReviewService(uow).post(learner, course.id, stage.rating, stage.review)
        await uow.repo(UserRepository).flush()  # audited as this learner


async def _admin_history(uow: AbstractUnitOfWork, find: _Lookup) -> None:
    """An administrator's audited actions: a review hidden, an account suspended and
    reactivated, a course edited. Done once: the hidden review marks it done."""
    spam_course = await find.course_id("Python Fundamentals")
    author = await find.user(PRIYA)
    review = await uow.repo(ReviewRepository).for_user_and_course(author.id, spam_course)
    if review is None or review.status != ReviewStatus.PUBLISHED:
        return
    user = await find.user(ADMIN_EMAIL)
    admin = principal_of(user, ADMIN)
    with acting_as(user.id, current_request_id.get()):
        await ReviewService(uow).moderate(admin, review.id, ReviewStatus.HIDDEN, None)
        accounts = UserAdminService(uow, admin)
        suspended = await find.user(SAM)
        await accounts.update(suspended.id, UserChanges(status=UserStatus.SUSPENDED), None)
        await accounts.update(suspended.id, UserChanges(status=UserStatus.ACTIVE), None)
        course = await find.course(EDITED_COURSE)
        if not course.description.endswith(EDIT_NOTE):
            changes = CourseChanges(description=course.description + EDIT_NOTE)
            await CourseService(uow).update(admin, course.id, changes, None)
        await uow.repo(UserRepository).flush()  # audited as the administrator


async def load_activity(uow: AbstractUnitOfWork) -> None:
    """The learners' stages, then the administrator's history (each only once)."""
    clock, find = DemoClock(utc_now() - timedelta(days=2)), _Lookup(uow)
    for stage in STAGES:
        await _stage(uow, find, clock, stage)
    await _admin_history(uow, find)
