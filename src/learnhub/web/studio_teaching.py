"""The studio's teaching pages (issue 17, item 3): a course's learners (the roster with
progress, last activity and best quiz scores; the CSV export; extra quiz attempts), its
reviews with hide and show, and its statistics drawn as server-rendered SVG bar charts with
a table of the same numbers. Each handler is one call of a service (TeachingService, the
roster's, the attempt grants', the reviews'), the same the API calls."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.routers.roster import csv_lines
from learnhub.domain.enums import ReviewStatus
from learnhub.domain.errors import InvalidValue
from learnhub.repositories.filters import CursorPagination
from learnhub.services.attempt_grants import MAX_EXTRA_ATTEMPTS, AttemptGrantService
from learnhub.services.reviews import ReviewService
from learnhub.services.roster import RosterService
from learnhub.services.teaching import MAX_WEEKS, TeachingService
from learnhub.web.base import WebCaller, expect_form_failure, redirect, render, require_csrf
from learnhub.web.charts import bar_chart
from learnhub.web.errors import WEB_TAG
from learnhub.web.studio_forms import PAGE_SIZE, Field, entity_id, needs_login, version_of

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])

NOTICES = {
    "granted": "Extra attempts saved.",
    "hidden": "Review hidden: it no longer counts in the course's rating.",
    "shown": "Review shown again: it counts in the course's rating.",
}


def cursor_of(request: Request) -> CursorPagination:
    return CursorPagination(PAGE_SIZE, request.query_params.get("cursor") or None)


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


# ---- learners ----------------------------------------------------------------------------------


@router.get("/studio/courses/{course_id}/learners", name="web_studio_learners")
async def learners_page(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    found = await TeachingService(uow).learners(caller, the_id, cursor_of(request))
    more_url = (
        f"/studio/courses/{the_id}/learners?cursor={found.next_cursor}"
        if found.next_cursor
        else None
    )
    return render(
        request,
        "studio/learners.html",
        caller,
        found=found,
        course=found.course,
        more_url=more_url,
        first_page=request.query_params.get("cursor") is None,
        notice=notice_of(request),
        max_extra=MAX_EXTRA_ATTEMPTS,
    )


@router.get("/studio/courses/{course_id}/learners.csv", name="web_studio_learners_csv")
async def learners_csv(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    entries = await RosterService(uow).export(caller, the_id)
    return StreamingResponse(
        csv_lines(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="course-{the_id}-learners.csv"'},
    )


@router.post("/studio/courses/{course_id}/learners/grant", name="web_studio_grant")
async def grant_attempts(
    course_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    quiz_id: Field = "",
    user_id: Field = "",
    extra_attempts: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    service = TeachingService(uow)
    found = await service.learners(caller, the_id, CursorPagination(PAGE_SIZE, None))
    context = {
        "found": found,
        "course": found.course,
        "more_url": None,
        "first_page": True,
        "notice": None,
        "max_extra": MAX_EXTRA_ATTEMPTS,
    }
    expect_form_failure(request, "studio/learners.html", **context)
    extra = extra_attempts.strip()
    if not extra.isdigit():
        raise InvalidValue(f"extra attempts: a whole number from 0 to {MAX_EXTRA_ATTEMPTS}")
    quiz = entity_id(quiz_id, "Quiz")
    if quiz not in {item.id for item in found.quizzes}:
        raise InvalidValue("choose one of this course's quizzes")
    await AttemptGrantService(uow).grant(caller, quiz, entity_id(user_id, "Learner"), int(extra))
    return redirect(request, f"/studio/courses/{the_id}/learners?notice=granted")


# ---- reviews -----------------------------------------------------------------------------------


@router.get("/studio/courses/{course_id}/reviews", name="web_studio_reviews")
async def reviews_page(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    course, page = await TeachingService(uow).reviews(caller, the_id, cursor_of(request))
    more_url = (
        f"/studio/courses/{the_id}/reviews?cursor={page.next_cursor}" if page.next_cursor else None
    )
    return render(
        request,
        "studio/reviews.html",
        caller,
        course=course,
        reviews=page.items,
        more_url=more_url,
        notice=notice_of(request),
    )


@router.post("/studio/reviews/{review_id}/hide", name="web_studio_review_hide")
async def hide_review(
    review_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await moderate(review_id, request, uow, caller, version, ReviewStatus.HIDDEN)


@router.post("/studio/reviews/{review_id}/show", name="web_studio_review_show")
async def show_review(
    review_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await moderate(review_id, request, uow, caller, version, ReviewStatus.PUBLISHED)


async def moderate(
    review_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    version: str,
    status: ReviewStatus,
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(review_id, "Review")
    review = await ReviewService(uow).moderate(caller, the_id, status, version_of(version))
    done = "hidden" if status == ReviewStatus.HIDDEN else "shown"
    return redirect(
        request, f"/studio/courses/{review.course_id}/reviews?notice={done}#review-{the_id}"
    )


# ---- statistics --------------------------------------------------------------------------------


@router.get("/studio/courses/{course_id}/stats", name="web_studio_stats")
async def stats_page(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id: uuid.UUID = entity_id(course_id, "Course")
    stats = await TeachingService(uow).stats(caller, the_id)
    weekly = bar_chart(
        [(f"{week.week:%d %b}", float(week.enrolments)) for week in stats.weeks],
        unit="",
    )
    drop_off = bar_chart(
        [(video.video.title, video.share) for video in stats.videos], unit="%", maximum=100.0
    )
    return render(
        request,
        "studio/stats.html",
        caller,
        course=stats.course,
        stats=stats,
        weekly=weekly,
        drop_off=drop_off,
        max_weeks=MAX_WEEKS,
    )
