"""`learnhub serve --demo` / `learnhub seed --demo`: demo accounts, a small catalog and the
learners' and administrator's activity on it (`ops.demo_activity`), fed through the same
services as real traffic (so it is audited and evented like any data)."""

from __future__ import annotations

from decimal import Decimal

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.context import acting_as, current_request_id
from learnhub.domain.course_rules import slugify
from learnhub.domain.permissions import ADMIN, INSTRUCTOR, STUDENT
from learnhub.domain.principal import Principal
from learnhub.domain.quiz_rules import OptionSpec, QuestionSpec, QuizSpec
from learnhub.domain.value_objects import Price
from learnhub.media.demo_clips import demo_clip
from learnhub.media.storage import MediaStorage, media_url
from learnhub.models.user import User
from learnhub.ops.demo_activity import DEMO_LEARNERS, load_activity, principal_of
from learnhub.ops.demo_catalog import DemoCourse, demo_instructors
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.course import CourseDraft, CourseService
from learnhub.services.course_content import ContentAuthoringService
from learnhub.services.quiz_authoring import QuizAuthoringService
from learnhub.services.user import UserService

DEMO_PASSWORD = "learnhub-demo"
DEMO_ACCOUNTS = (
    ("demo-admin@example.com", "Demo Admin", ADMIN),
    ("demo-instructor@example.com", "Demo Instructor", INSTRUCTOR),
    ("demo-student@example.com", "Demo Student", STUDENT),
)


async def _account(uow: AbstractUnitOfWork, email: str, name: str, role: str) -> User:
    existing = await uow.repo(UserRepository).get_by_email(email)
    if existing is not None:
        return existing
    return await UserService(uow).register(email, DEMO_PASSWORD, name, roles=[role])


async def _course(
    uow: AbstractUnitOfWork, author: Principal, demo: DemoCourse, media: MediaStorage | None
) -> bool:
    """Create one demo course unless its slug exists already (idempotent). With a media
    storage, each video is a real clip of its duration stored there (`media.demo_clips`) and
    its row points at it; without one (tests with no player), at the catalog's URL."""
    if await uow.repo(CourseRepository).slug_taken(slugify(demo.title)):
        return False
    service = CourseService(uow)
    content, quizzes = ContentAuthoringService(uow), QuizAuthoringService(uow)
    course = await service.create(
        author,
        CourseDraft(
            title=demo.title,
            description=demo.description,
            price=Price(Decimal(demo.price_amount), demo.currency),
            difficulty=demo.difficulty,
            tags=demo.tags,
            objectives=demo.objectives,
        ),
    )
    clips = 0
    for section_demo in demo.sections:
        section = await content.add_section(author, course.id, section_demo.title)
        for video in section_demo.videos:
            url = video.url
            if media is not None:
                clips += 1
                key = f"courses/{course.id}/{clips}.webm"
                media.save(key, demo_clip(video.duration_seconds, hue=clips))
                url = media_url(key)
            await content.add_video(
                author,
                section.id,
                title=video.title,
                url=url,
                duration_seconds=video.duration_seconds,
                transcript=video.transcript,
            )
        for quiz in section_demo.quizzes:
            await quizzes.add_quiz(
                author,
                section.id,
                QuizSpec(
                    title=quiz.title,
                    pass_mark=quiz.pass_mark,
                    max_attempts=quiz.max_attempts,
                    time_limit_seconds=quiz.time_limit_seconds,
                    questions=[
                        QuestionSpec(
                            text=q.text,
                            type=q.type,
                            answer_text=q.answer_text,
                            options=[OptionSpec(o.text, o.is_correct) for o in q.options],
                        )
                        for q in quiz.questions
                    ],
                ),
            )
    if demo.publish:
        await service.publish(author, course.id)
    return True


async def load_demo(
    uow: AbstractUnitOfWork, media: MediaStorage | None = None
) -> list[tuple[str, str]]:
    """Create whatever part of the demo data is missing; returns the accounts (email, role),
    the three demo logins first. `media`: where the demo's video clips go (`learnhub serve
    --demo` passes the configured storage)."""
    accounts = [(email, role) for email, _, role in DEMO_ACCOUNTS]
    for email, name, role in DEMO_ACCOUNTS:
        await _account(uow, email, name, role)
    for instructor in demo_instructors():
        user = await _account(uow, instructor.email, instructor.display_name, INSTRUCTOR)
        if (instructor.email, INSTRUCTOR) not in accounts:
            accounts.append((instructor.email, INSTRUCTOR))
        # Audit rows name the instructor as the author of their demo courses.
        with acting_as(user.id, current_request_id.get()):
            for demo in instructor.courses:
                await _course(uow, principal_of(user, INSTRUCTOR), demo, media)
    for email, name in DEMO_LEARNERS:
        await _account(uow, email, name, STUDENT)
        accounts.append((email, STUDENT))
    await load_activity(uow)
    return accounts
