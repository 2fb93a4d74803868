"""The instructor's studio (issue 17, items 1 and 2): an instructor's courses (an admin's: all
of them), creating and editing a course, its sections, videos and quizzes, reordering them,
publishing and archiving. Each handler turns a form into one call of the same services the
API calls (courses, course_content, quiz_authoring) and validates it with the API's own
input schemas, so both accept and refuse the same things.

Every edit form carries the version it was loaded with. When someone else saved first, the
service refuses the stale version (`ConcurrencyConflict`) and the page shows their saved
values next to the ones just typed, with "Reload their version" and "Apply mine over theirs"
(the same values again, with the version they saved): never a silent overwrite."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.content import SectionIn, VideoIn
from learnhub.api.schemas.courses import CourseDetailOut, CourseIn, CourseOut
from learnhub.api.schemas.quizzes import QuizIn
from learnhub.domain.enums import DifficultyLevel, QuestionType
from learnhub.domain.errors import ConcurrencyConflict, InvalidValue, NotFound
from learnhub.domain.ids import parse_id
from learnhub.domain.permissions import COURSES_AUTHOR, COURSES_MANAGE
from learnhub.domain.principal import Principal
from learnhub.domain.quiz_rules import OptionSpec, QuestionSpec, QuizSpec
from learnhub.repositories.filters import CursorPagination
from learnhub.services.course import CourseChanges, CourseDraft, CourseService
from learnhub.services.course_content import ContentAuthoringService, SectionChanges, VideoChanges
from learnhub.services.quiz_authoring import QuizAuthoringService, QuizChanges
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    login_url,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
Field = Annotated[str, Form()]
PAGE_SIZE = 50
DIFFICULTIES = [level.value for level in DifficultyLevel]
QUESTION_TYPES = {
    QuestionType.SINGLE_CHOICE.value: "Single choice (one correct option)",
    QuestionType.MULTIPLE_CHOICE.value: "Multiple choice (one or more correct options)",
    QuestionType.TRUE_FALSE.value: "True or false",
    QuestionType.SHORT_ANSWER.value: "Short answer (typed)",
}
OPTION_SLOTS = 6  # option rows per question on the quiz form
NOTICES = {
    "created": "Course created. Add a section, then videos and quizzes.",
    "saved": "Saved.",
    "published": "Published: the course is in the catalog.",
    "archived": "Archived: the course left the catalog; enrolled learners keep it.",
    "deleted": "Deleted.",
    "moved": "Moved.",
}
COURSE_LABELS = {
    "title": "Title",
    "description": "Description",
    "price_amount": "Price",
    "price_currency": "Currency",
    "difficulty": "Difficulty",
    "tags": "Tags",
    "objectives": "Objectives",
}
VIDEO_LABELS = {
    "title": "Title",
    "url": "Video URL",
    "duration_seconds": "Duration (seconds)",
    "is_preview": "Free preview",
    "transcript": "Transcript",
}
QUIZ_LABELS = {
    "title": "Title",
    "pass_mark": "Pass mark (%)",
    "max_attempts": "Attempts allowed",
    "time_limit_seconds": "Time limit (seconds)",
    "questions": "Questions",
}

# What a value refused by a schema's pattern should look like, in words.
PATTERN_HINTS = {
    "price_amount": "a number such as 19.99 (at most two decimals)",
    "price_currency": "three letters such as USD",
    "url": "an http:// or https:// address without spaces",
    "title": "write some words",
}


# ---- small helpers: ids, versions, validation messages -------------------------------------


def entity_id(text: str, entity: str) -> uuid.UUID:
    """An id from the path; anything else names nothing (a 404 page, not a 422)."""
    found = parse_id(text)
    if found is None:
        raise NotFound(entity, text[:64])
    return found


def version_of(text: str) -> int | None:
    """The version a form was loaded with; a form without one cannot be checked, so it is
    refused rather than applied blindly."""
    if not text.strip().isdigit() or int(text) < 1:
        raise InvalidValue("this form has no valid version: reload the page and try again")
    return int(text)


def field_errors(invalid: ValidationError, names: Mapping[str, str]) -> dict[str, str]:
    """Pydantic's errors by form field, each a sentence naming the field."""
    found: dict[str, str] = {}
    for error in invalid.errors():
        loc = [str(part) for part in error["loc"]]
        if not loc:
            continue
        name = loc[0]
        if name == "price" and len(loc) > 1:
            name = f"price_{loc[1]}"
        if name == "questions" and len(loc) > 1:
            name = "questions"
            message = f"question {int(loc[1]) + 1}: {error['msg']}"
        elif error["type"] == "string_pattern_mismatch":
            message = PATTERN_HINTS.get(name, "contains characters that are not allowed")
        else:
            message = str(error["msg"])
        label = names.get(name, name.replace("_", " ").capitalize())
        found.setdefault(name, f"{label}: {message}.")
    return found


M = TypeVar("M", bound=BaseModel)


def validated(schema: type[M], body: dict[str, Any], names: Mapping[str, str]) -> M:
    try:
        return schema.model_validate(body)
    except ValidationError as invalid:
        raise FormInvalid(field_errors(invalid, names)) from None


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid form")
        self.errors = errors


def can_author(principal: Principal | None) -> bool:
    if principal is None:
        return False
    return principal.can(COURSES_AUTHOR) or principal.can(COURSES_MANAGE)


def needs_login(request: Request) -> Response:
    return redirect(request, login_url(request.url.path))


@dataclass(frozen=True, slots=True)
class ConflictRow:
    label: str
    theirs: str
    mine: str

    @property
    def differs(self) -> bool:
        return self.theirs.strip() != self.mine.strip()


def conflict_page(
    request: Request,
    caller: Principal,
    *,
    what: str,
    labels: Mapping[str, str],
    theirs: Mapping[str, str],
    mine: Mapping[str, str],
    resubmit: Mapping[str, str],
    version: int,
    action: str,
    reload_url: str,
) -> Response:
    rows = [
        ConflictRow(label, theirs.get(name, ""), mine.get(name, ""))
        for name, label in labels.items()
    ]
    return render(
        request,
        "studio/conflict.html",
        caller,
        409,
        what=what,
        rows=rows,
        resubmit={**resubmit, "version": str(version)},
        action=action,
        reload_url=reload_url,
    )


# ---- the course list -------------------------------------------------------------------------


@router.get("/studio", name="web_studio")
async def studio(request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    expect_form_failure(request, "studio/forbidden.html")
    page = await CourseService(uow).studio(
        caller, CursorPagination(PAGE_SIZE, request.query_params.get("cursor") or None)
    )
    courses = [CourseOut.of(course) for course in page.items]
    more_url = f"/studio?cursor={page.next_cursor}" if page.next_cursor else None
    return render(
        request,
        "studio/index.html",
        caller,
        courses=courses,
        more_url=more_url,
        everyone=caller.can(COURSES_MANAGE),
    )


# ---- creating and editing a course -----------------------------------------------------------


def course_values(course: CourseOut) -> dict[str, str]:
    return {
        "title": course.title,
        "description": course.description,
        "price_amount": course.price.amount,
        "price_currency": course.price.currency,
        "difficulty": course.difficulty.value,
        "tags": ", ".join(course.tags),
        "objectives": "\n".join(course.objectives),
    }


def course_body(values: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": values["title"],
        "description": values["description"],
        "price": {"amount": values["price_amount"].strip(), "currency": values["price_currency"]},
        "difficulty": values["difficulty"],
        "tags": [t.strip() for t in values["tags"].split(",") if t.strip()],
        "objectives": [o.strip() for o in values["objectives"].splitlines() if o.strip()],
    }


def typed_course(
    title: str, description: str, price_amount: str, price_currency: str, difficulty: str,
    tags: str, objectives: str,
) -> dict[str, str]:  # fmt: skip
    return {
        "title": title[:200],
        "description": description[:20_000],
        "price_amount": price_amount[:20],
        "price_currency": price_currency.strip().upper()[:3],
        "difficulty": difficulty,
        "tags": tags[:1000],
        "objectives": objectives[:10_000],
    }


BLANK_COURSE = typed_course("", "", "0.00", "USD", DifficultyLevel.BEGINNER.value, "", "")


@router.get("/studio/new", name="web_studio_new")
async def new_course_page(request: Request, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    if not can_author(caller):
        return render(request, "studio/forbidden.html", caller, 403)
    context: dict[str, Any] = {"values": BLANK_COURSE, "errors": {}, "difficulties": DIFFICULTIES}
    return render(request, "studio/new.html", caller, **context)


@router.post("/studio/new", name="web_studio_create")
async def create_course(
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    description: Field = "",
    price_amount: Field = "",
    price_currency: Field = "",
    difficulty: Field = "",
    tags: Field = "",
    objectives: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    values = typed_course(
        title, description, price_amount, price_currency, difficulty, tags, objectives
    )
    context = {"values": values, "errors": {}, "difficulties": DIFFICULTIES}
    try:
        body = validated(CourseIn, course_body(values), COURSE_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/new.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/new.html", **context)
    course = await CourseService(uow).create(
        caller,
        CourseDraft(
            title=body.title,
            description=body.description,
            price=body.price.to_price(),
            difficulty=body.difficulty,
            tags=body.tags,
            objectives=body.objectives,
        ),
    )
    return redirect(request, f"/studio/courses/{course.id}?notice=created")


async def course_context(
    request: Request, uow: Uow, caller: Principal, course_id: uuid.UUID
) -> dict[str, Any]:
    """Everything the course's studio page shows, as plain values (a failed form renders it
    again after its transaction rolled back)."""
    service = CourseService(uow)
    course = CourseDetailOut.of(await service.for_editing(caller, course_id), full=True)
    checklist = await service.publish_checklist(caller, course_id)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return {
        "course": course,
        "values": course_values(course),
        "errors": {},
        "checklist": checklist,
        "ready": all(check.met for check in checklist),
        "difficulties": DIFFICULTIES,
        "notice": notice,
    }


@router.get("/studio/courses/{course_id}", name="web_studio_course")
async def course_page(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    context = await course_context(request, uow, caller, entity_id(course_id, "Course"))
    return render(request, "studio/course.html", caller, **context)


@router.post("/studio/courses/{course_id}", name="web_studio_course_save")
async def save_course(
    course_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    description: Field = "",
    price_amount: Field = "",
    price_currency: Field = "",
    difficulty: Field = "",
    tags: Field = "",
    objectives: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    mine = typed_course(
        title, description, price_amount, price_currency, difficulty, tags, objectives
    )
    context.update(values=mine, notice=None)
    try:
        body = validated(CourseIn, course_body(mine), COURSE_LABELS)
    except FormInvalid as invalid:
        context["errors"] = invalid.errors
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    changes = CourseChanges(
        title=body.title,
        description=body.description,
        price=body.price.to_price(),
        difficulty=body.difficulty,
        tags=body.tags,
        objectives=body.objectives,
    )
    service = CourseService(uow)
    try:
        await service.update(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        theirs = CourseDetailOut.of(await service.for_editing(caller, the_id), full=True)
        here = f"/studio/courses/{the_id}"
        return conflict_page(
            request,
            caller,
            what=f"the course “{theirs.title}”",
            labels=COURSE_LABELS,
            theirs=course_values(theirs),
            mine=mine,
            resubmit=mine,
            version=theirs.version,
            action=here,
            reload_url=here,
        )
    return redirect(request, f"/studio/courses/{the_id}?notice=saved")


@router.post("/studio/courses/{course_id}/publish", name="web_studio_publish")
async def publish(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await lifecycle(course_id, request, uow, caller, version, publishing=True)


@router.post("/studio/courses/{course_id}/archive", name="web_studio_archive")
async def archive(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await lifecycle(course_id, request, uow, caller, version, publishing=False)


async def lifecycle(
    course_id: str, request: Request, uow: Uow, caller: Principal | None, version: str,
    *, publishing: bool,
) -> Response:  # fmt: skip
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    context["notice"] = None
    # A stale version shows the course as it now is, with the reason: publish or archive
    # again after a look at what changed.
    expect_form_failure(request, "studio/course.html", **context)
    service = CourseService(uow)
    try:
        if publishing:
            await service.publish(caller, the_id, version_of(version))
        else:
            await service.archive(caller, the_id, version_of(version))
    except ConcurrencyConflict:
        # The page loaded above already shows the course as they saved it.
        context["error"] = (
            "Someone else changed this course since you loaded the page. It is shown below as "
            f"they saved it: check it, then {'publish' if publishing else 'archive'} again."
        )
        return render(request, "studio/course.html", caller, 409, **context)
    done = "published" if publishing else "archived"
    return redirect(request, f"/studio/courses/{the_id}?notice={done}")


# ---- sections ---------------------------------------------------------------------------------


def direction(value: str) -> int:
    if value not in ("up", "down"):
        raise InvalidValue("move up or down")
    return -1 if value == "up" else 1


@router.post("/studio/courses/{course_id}/sections", name="web_studio_add_section")
async def add_section(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, title: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    context.update(notice=None, new_section=title[:200])
    try:
        body = validated(SectionIn, {"title": title}, {"title": "Section title"})
    except FormInvalid as invalid:
        context.update(errors={"new_section": " ".join(invalid.errors.values())})
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).add_section(caller, the_id, body.title)
    return redirect(request, f"/studio/courses/{the_id}?notice=saved#sections")


async def section_course(uow: Uow, caller: Principal, section_id: uuid.UUID) -> uuid.UUID:
    section = await ContentAuthoringService(uow).get_section(caller, section_id)
    return section.course_id


@router.post("/studio/sections/{section_id}", name="web_studio_section_save")
async def rename_section(
    section_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    try:
        body = validated(SectionIn, {"title": title}, {"title": "Section title"})
    except FormInvalid as invalid:
        context.update(errors={f"section-{the_id}": " ".join(invalid.errors.values())})
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    service = ContentAuthoringService(uow)
    try:
        await service.update_section(
            caller, the_id, SectionChanges(title=body.title), version_of(version)
        )
    except ConcurrencyConflict:
        theirs = await service.get_section(caller, the_id)
        return conflict_page(
            request,
            caller,
            what=f"the section “{theirs.title}”",
            labels={"title": "Section title"},
            theirs={"title": theirs.title},
            mine={"title": title[:200]},
            resubmit={"title": title[:200]},
            version=theirs.version,
            action=f"/studio/sections/{the_id}",
            reload_url=f"/studio/courses/{course_id}#sections",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#sections")


@router.post("/studio/sections/{section_id}/delete", name="web_studio_section_delete")
async def delete_section(
    section_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).delete_section(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/sections/{section_id}/move", name="web_studio_section_move")
async def move_section(
    section_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).move_section(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{the_id}")


# ---- videos -----------------------------------------------------------------------------------


def typed_video(
    title: str, url: str, duration_seconds: str, transcript: str, is_preview: str
) -> dict[str, str]:
    return {
        "title": title[:200],
        "url": url.strip()[:2000],
        "duration_seconds": duration_seconds.strip()[:12],
        "transcript": transcript[:200_000],
        "is_preview": "yes" if is_preview else "",
    }


def video_body(values: Mapping[str, str]) -> dict[str, Any]:
    seconds = values["duration_seconds"]
    return {
        "title": values["title"],
        "url": values["url"],
        "duration_seconds": int(seconds) if seconds.isdigit() else seconds or None,
        "transcript": values["transcript"],
        "is_preview": bool(values["is_preview"]),
    }


def video_values(video: Any) -> dict[str, str]:
    return {
        "title": video.title,
        "url": video.url or "",
        "duration_seconds": str(video.duration_seconds),
        "transcript": video.transcript or "",
        "is_preview": "yes" if video.is_preview else "",
    }


@router.post("/studio/sections/{section_id}/videos", name="web_studio_add_video")
async def add_video(
    section_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    url: Field = "",
    duration_seconds: Field = "",
    transcript: Field = "",
    is_preview: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    typed = typed_video(title, url, duration_seconds, transcript, is_preview)
    context.update(notice=None, new_video={str(the_id): typed})
    try:
        body = validated(VideoIn, video_body(typed), VIDEO_LABELS)
    except FormInvalid as invalid:
        context["errors"] = {f"video-{the_id}": " ".join(invalid.errors.values())}
        return render(request, "studio/course.html", caller, 422, **context)
    context["errors"] = {f"video-{the_id}": ""}  # the domain error's message goes on top
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).add_video(
        caller,
        the_id,
        title=body.title,
        url=body.url,
        duration_seconds=body.duration_seconds,
        transcript=body.transcript,
        is_preview=body.is_preview,
    )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{the_id}")


@router.get("/studio/videos/{video_id}", name="web_studio_video")
async def video_page(video_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    video = await ContentAuthoringService(uow).editable_video(caller, entity_id(video_id, "Video"))
    return render(
        request,
        "studio/video.html",
        caller,
        video_id=video.id,
        course_id=video.course_id,
        version=video.version,
        values=video_values(video),
        errors={},
    )


@router.post("/studio/videos/{video_id}", name="web_studio_video_save")
async def save_video(
    video_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    url: Field = "",
    duration_seconds: Field = "",
    transcript: Field = "",
    is_preview: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id, section_id = video.id, video.course_id, video.section_id
    mine = typed_video(title, url, duration_seconds, transcript, is_preview)
    context = {
        "video_id": the_id,
        "course_id": course_id,
        "version": version[:12],
        "values": mine,
        "errors": {},
    }
    try:
        body = validated(VideoIn, video_body(mine), VIDEO_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/video.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/video.html", **context)
    changes = VideoChanges(
        title=body.title,
        url=body.url,
        duration_seconds=body.duration_seconds,
        transcript=body.transcript,
        is_preview=body.is_preview,
    )
    try:
        await service.update_video(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        theirs = await service.editable_video(caller, the_id)
        return conflict_page(
            request,
            caller,
            what=f"the video “{theirs.title}”",
            labels=VIDEO_LABELS,
            theirs=video_values(theirs),
            mine=mine,
            resubmit=mine,
            version=theirs.version,
            action=f"/studio/videos/{the_id}",
            reload_url=f"/studio/videos/{the_id}",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{section_id}")


@router.post("/studio/videos/{video_id}/delete", name="web_studio_video_delete")
async def delete_video(
    video_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id = video.id, video.course_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.delete_video(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/videos/{video_id}/move", name="web_studio_video_move")
async def move_video(
    video_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id, section_id = video.id, video.course_id, video.section_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.move_video(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{section_id}")


# ---- quizzes ----------------------------------------------------------------------------------


def question_slots(form: Mapping[str, str], count: int) -> list[dict[str, Any]]:
    """The questions typed on the quiz form, as typed (one blank slot is left for a new one;
    a question whose text is blank is not part of the quiz)."""
    slots = []
    for i in range(count):
        prefix = f"q{i}_"
        slots.append(
            {
                "text": form.get(prefix + "text", "")[:2000],
                "type": form.get(prefix + "type", QuestionType.SINGLE_CHOICE.value),
                "answer_text": form.get(prefix + "answer", "")[:500],
                "explanation": form.get(prefix + "explanation", "")[:2000],
                "options": [
                    {
                        "text": form.get(f"{prefix}opt{j}", "")[:500],
                        "is_correct": bool(form.get(f"{prefix}correct{j}")),
                    }
                    for j in range(OPTION_SLOTS)
                ],
            }
        )
    return slots


def quiz_body(values: Mapping[str, Any]) -> dict[str, Any]:
    def number(text: str) -> Any:
        text = text.strip()
        return None if not text else int(text) if text.isdigit() else text

    questions = []
    for slot in values["questions"]:
        if not slot["text"].strip():
            continue
        options = [o for o in slot["options"] if o["text"].strip()]
        kind = slot["type"]
        if kind == QuestionType.SHORT_ANSWER.value:
            options = []
        questions.append(
            {
                "text": slot["text"],
                "type": kind,
                "options": options,
                "answer_text": slot["answer_text"] if kind == QuestionType.SHORT_ANSWER else None,
                "explanation": slot["explanation"] or None,
            }
        )
    return {
        "title": values["title"],
        "pass_mark": number(values["pass_mark"]) if values["pass_mark"].strip() else 70,
        "max_attempts": number(values["max_attempts"]),
        "time_limit_seconds": number(values["time_limit_seconds"]),
        "questions": questions,
    }


def typed_quiz(form: Mapping[str, str]) -> dict[str, Any]:
    count = min(int(c) if (c := form.get("slots", "1")).isdigit() else 1, 101)
    return {
        "title": form.get("title", "")[:200],
        "pass_mark": form.get("pass_mark", "")[:6],
        "max_attempts": form.get("max_attempts", "")[:6],
        "time_limit_seconds": form.get("time_limit_seconds", "")[:8],
        "questions": question_slots(form, count),
    }


def quiz_values(quiz: Any) -> dict[str, Any]:
    questions = [
        {
            "text": q.text,
            "type": q.type.value,
            "answer_text": q.answer_text or "",
            "explanation": q.explanation or "",
            "options": [{"text": o.text, "is_correct": o.is_correct} for o in q.options],
        }
        for q in quiz.questions
    ]
    return {
        "title": quiz.title,
        "pass_mark": str(quiz.pass_mark),
        "max_attempts": "" if quiz.max_attempts is None else str(quiz.max_attempts),
        "time_limit_seconds": ""
        if quiz.time_limit_seconds is None
        else str(quiz.time_limit_seconds),
        "questions": questions,
    }


def with_blank_slot(values: dict[str, Any]) -> dict[str, Any]:
    """The form's question slots: the quiz's questions, each with OPTION_SLOTS option rows,
    and one blank question to add (no script needed to grow the form)."""
    blank_option = {"text": "", "is_correct": False}
    questions = [q for q in values["questions"] if q["text"].strip()]
    questions.append(
        {
            "text": "",
            "type": QuestionType.SINGLE_CHOICE.value,
            "answer_text": "",
            "explanation": "",
            "options": [],
        }
    )
    for question in questions:
        options = question["options"][:OPTION_SLOTS]
        question["options"] = options + [blank_option] * (OPTION_SLOTS - len(options))
    return {**values, "questions": questions}


def quiz_summary(values: Mapping[str, Any]) -> str:
    """The questions in one readable text, to put theirs next to mine."""
    lines = []
    for n, q in enumerate((q for q in values["questions"] if q["text"].strip()), start=1):
        correct = [o["text"] for o in q["options"] if o["is_correct"] and o["text"].strip()]
        key = q["answer_text"] if q["type"] == QuestionType.SHORT_ANSWER else ", ".join(correct)
        lines.append(f"{n}. {q['text']} [{q['type']}] → {key}")
    return "\n".join(lines)


def quiz_flat(values: Mapping[str, Any]) -> dict[str, str]:
    """The quiz's values as the form's fields (to resubmit them as hidden fields)."""
    flat = {
        name: values[name] for name in ("title", "pass_mark", "max_attempts", "time_limit_seconds")
    }
    for i, q in enumerate(values["questions"]):
        flat.update(
            {
                f"q{i}_text": q["text"],
                f"q{i}_type": q["type"],
                f"q{i}_answer": q["answer_text"],
                f"q{i}_explanation": q["explanation"],
            }
        )
        for j, option in enumerate(q["options"]):
            flat[f"q{i}_opt{j}"] = option["text"]
            if option["is_correct"]:
                flat[f"q{i}_correct{j}"] = "yes"
    flat["slots"] = str(len(values["questions"]))
    return flat


def quiz_spec(body: QuizIn) -> QuizSpec:
    return QuizSpec(
        title=body.title,
        pass_mark=body.pass_mark,
        max_attempts=body.max_attempts,
        time_limit_seconds=body.time_limit_seconds,
        questions=[
            QuestionSpec(
                text=q.text,
                type=q.type,
                options=[OptionSpec(o.text, o.is_correct) for o in q.options],
                answer_text=q.answer_text,
                explanation=q.explanation,
            )
            for q in body.questions
        ],
    )


def quiz_form_context(
    values: dict[str, Any], *, action: str, course_id: uuid.UUID, version: str = ""
) -> dict[str, Any]:
    return {
        "values": with_blank_slot(values),
        "errors": {},
        "action": action,
        "course_id": course_id,
        "version": version,
        "question_types": QUESTION_TYPES,
        "option_slots": OPTION_SLOTS,
    }


def form_strings(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


BLANK_QUIZ: dict[str, Any] = {
    "title": "",
    "pass_mark": "70",
    "max_attempts": "",
    "time_limit_seconds": "",
    "questions": [],
}


@router.get("/studio/sections/{section_id}/quizzes/new", name="web_studio_new_quiz")
async def new_quiz_page(section_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    await CourseService(uow).for_editing(caller, course_id)
    context = quiz_form_context(
        dict(BLANK_QUIZ), action=f"/studio/sections/{the_id}/quizzes", course_id=course_id
    )
    return render(request, "studio/quiz.html", caller, **context)


@router.post("/studio/sections/{section_id}/quizzes", name="web_studio_add_quiz")
async def add_quiz(section_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    await CourseService(uow).for_editing(caller, course_id)
    typed = typed_quiz(form_strings(await request.form()))
    context = quiz_form_context(
        typed, action=f"/studio/sections/{the_id}/quizzes", course_id=course_id
    )
    try:
        body = validated(QuizIn, quiz_body(typed), QUIZ_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/quiz.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/quiz.html", **context)
    await QuizAuthoringService(uow).add_quiz(caller, the_id, quiz_spec(body))
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{the_id}")


@router.get("/studio/quizzes/{quiz_id}", name="web_studio_quiz")
async def quiz_page(quiz_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    quiz = await QuizAuthoringService(uow).editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    context = quiz_form_context(
        quiz_values(quiz),
        action=f"/studio/quizzes/{quiz.id}",
        course_id=quiz.course_id,
        version=str(quiz.version),
    )
    return render(request, "studio/quiz.html", caller, **context)


@router.post("/studio/quizzes/{quiz_id}", name="web_studio_quiz_save")
async def save_quiz(quiz_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id, section_id = quiz.id, quiz.course_id, quiz.section_id
    form = form_strings(await request.form())
    version = form.get("version", "")
    mine = typed_quiz(form)
    context = quiz_form_context(
        mine, action=f"/studio/quizzes/{the_id}", course_id=course_id, version=version[:12]
    )
    try:
        body = validated(QuizIn, quiz_body(mine), QUIZ_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/quiz.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/quiz.html", **context)
    spec = quiz_spec(body)
    changes = QuizChanges(
        title=spec.title,
        pass_mark=spec.pass_mark,
        max_attempts=spec.max_attempts,
        time_limit_seconds=spec.time_limit_seconds,
        questions=spec.questions,
    )
    try:
        await service.update_quiz(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        fresh = await service.editable_quiz(caller, the_id)
        theirs = quiz_values(fresh)
        return conflict_page(
            request,
            caller,
            what=f"the quiz “{fresh.title}”",
            labels=QUIZ_LABELS,
            theirs={**theirs, "questions": quiz_summary(theirs)},
            mine={**mine, "questions": quiz_summary(mine)},
            resubmit=quiz_flat(mine),
            version=fresh.version,
            action=f"/studio/quizzes/{the_id}",
            reload_url=f"/studio/quizzes/{the_id}",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{section_id}")


@router.post("/studio/quizzes/{quiz_id}/delete", name="web_studio_quiz_delete")
async def delete_quiz(
    quiz_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id = quiz.id, quiz.course_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.delete_quiz(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/quizzes/{quiz_id}/move", name="web_studio_quiz_move")
async def move_quiz(
    quiz_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id, section_id = quiz.id, quiz.course_id, quiz.section_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.move_quiz(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{section_id}")
