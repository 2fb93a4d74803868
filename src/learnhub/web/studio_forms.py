"""What the studio's pages share (issue 17): the form helpers that turn typed values into
the API's input schemas and back, the messages of refused values, the page of a version
conflict (their saved values next to mine), and the studio page of a course."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.courses import CourseDetailOut, CourseOut
from learnhub.domain.enums import DifficultyLevel, QuestionType
from learnhub.domain.errors import InvalidValue, NotFound
from learnhub.domain.ids import parse_id
from learnhub.domain.permissions import COURSES_AUTHOR, COURSES_MANAGE
from learnhub.domain.principal import Principal
from learnhub.services.course import CourseService
from learnhub.services.course_content import ContentAuthoringService
from learnhub.web.base import (
    login_url,
    redirect,
    render,
)

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


def direction(value: str) -> int:
    if value not in ("up", "down"):
        raise InvalidValue("move up or down")
    return -1 if value == "up" else 1


async def section_course(uow: Uow, caller: Principal, section_id: uuid.UUID) -> uuid.UUID:
    section = await ContentAuthoringService(uow).get_section(caller, section_id)
    return section.course_id


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


# What an upload's form is checked with in place of the URL and length the file gives.
UPLOAD_PLACEHOLDER = {"url": "https://uploaded.invalid/video", "duration_seconds": 1}


def video_body(values: Mapping[str, str], *, uploaded: bool = False) -> dict[str, Any]:
    seconds = values["duration_seconds"]
    return {
        "title": values["title"],
        "url": values["url"],
        "duration_seconds": int(seconds) if seconds.isdigit() else seconds or None,
        **(UPLOAD_PLACEHOLDER if uploaded else {}),
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
