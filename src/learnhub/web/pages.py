"""The catalog and course pages, and enrolling. Each handler turns the request into one call
of a service (through the request's unit of work, `api.deps.Uow`) and its result into a page;
the rules, queries and the commit are elsewhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.courses import CourseDetailOut
from learnhub.domain.enums import DifficultyLevel
from learnhub.domain.errors import InvalidValue
from learnhub.repositories.filters import CursorPagination
from learnhub.services.catalog import CatalogQuery, CatalogService
from learnhub.services.course import CourseService
from learnhub.services.course_access import ContentAccess
from learnhub.services.learning import EnrollmentService
from learnhub.services.reviews import ReviewService
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
PAGE_SIZE = 12
REVIEWS_SHOWN = 10  # the newest published reviews on a course page
PAGE_SIZES = {str(n) for n in range(1, 49)}  # ?limit=: cards per page, when asked for
SORTS = {
    "": "Best match",
    "rating": "Top rated",
    "enrollments": "Most popular",
    "newest": "Newest",
    "price": "Price: low to high",
    "-price": "Price: high to low",
}
DIFFICULTIES = [level.value for level in DifficultyLevel]


def _text(value: str | None, limit: int) -> str:
    """A search field as typed, without control characters, at most `limit` long."""
    return "".join(c for c in (value or "") if c.isprintable()).strip()[:limit]


def catalog_form(request: Request) -> dict[str, str]:
    params = request.query_params
    return {
        "q": _text(params.get("q"), 100),
        "difficulty": level if (level := params.get("difficulty", "")) in DIFFICULTIES else "",
        "tag": _text(params.get("tag"), 50).lower(),
        "sort": params.get("sort", "") if params.get("sort") in SORTS else "",
        "currency": _text(params.get("currency"), 3).upper(),
        "limit": limit if (limit := params.get("limit", "")) in PAGE_SIZES else "",
    }


@router.get("/", name="web_catalog")
async def catalog(request: Request, uow: Uow, caller: WebCaller) -> Response:
    form = catalog_form(request)
    context: dict[str, Any] = {
        "form": form,
        "sorts": SORTS,
        "difficulties": DIFFICULTIES,
        "cards": [],
        "more_url": None,
        "continued": bool(request.query_params.get("cursor")),
    }
    # A refused search (a price sort across currencies, a stale cursor) is the page again
    # with the reason.
    expect_form_failure(request, "catalog.html", **context)
    if form["currency"] and not (len(form["currency"]) == 3 and form["currency"].isalpha()):
        raise InvalidValue("a currency is three letters, e.g. USD")
    query = CatalogQuery(
        q=form["q"] or None,
        difficulty=DifficultyLevel(form["difficulty"]) if form["difficulty"] else None,
        tags=(form["tag"],) if form["tag"] else (),
        currency=form["currency"] or None,
    )
    cursor = request.query_params.get("cursor") or None
    page = await CatalogService(uow).catalog(
        query, CursorPagination(int(form["limit"] or PAGE_SIZE), cursor), form["sort"] or None
    )
    if page.next_cursor:
        kept = {k: v for k, v in form.items() if v}
        context["more_url"] = "/?" + urlencode({**kept, "cursor": page.next_cursor})
    context["cards"] = page.items
    return render(request, "catalog.html", caller, **context)


@router.get("/courses/{slug}", name="web_course")
async def course_page(slug: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    view = await CourseService(uow).view_by_key(caller, slug)
    course = CourseDetailOut.of(view.course, full=view.access.full)
    total = sum(v.duration_seconds for s in course.sections for v in s.videos)
    reviews = await ReviewService(uow).for_course_page(caller, view.course.id, REVIEWS_SHOWN)
    return render(
        request,
        "course.html",
        caller,
        course=course,
        total_seconds=total,
        enrolled=view.access is ContentAccess.LEARNER,
        editor=view.access is ContentAccess.EDITOR,
        just_enrolled=request.query_params.get("enrolled") == "1",
        enrol_url=f"/courses/{quote(slug)}/enrol",
        reviews=reviews,
        review_url=f"/courses/{quote(slug)}/review",
        just_reviewed=request.query_params.get("reviewed") == "1",
    )


@router.post("/courses/{slug}/enrol", name="web_enrol")
async def enrol(slug: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    here = f"/courses/{quote(slug)}"
    if caller is None:
        return redirect(request, login_url(here))
    service = CourseService(uow)
    view = await service.view_by_key(caller, slug)
    # Already enrolled, or the course closed meanwhile: the course page says why.
    expect_form_failure(request, "error.html", message="", back_url=here)
    await EnrollmentService(uow).enroll(caller, view.course.id)
    return redirect(request, here + "?enrolled=1")
