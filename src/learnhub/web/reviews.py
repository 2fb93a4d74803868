"""The course page's review form: an enrolled learner writes a review of the course, or edits
the one they wrote (`ReviewService.write_mine`, by the rules of `POST /api/v1/courses/{id}/
reviews` and `PATCH /api/v1/reviews/{id}`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.domain.errors import InvalidValue
from learnhub.services.course import CourseService
from learnhub.services.reviews import ReviewService
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    login_url,
    redirect,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
Field = Annotated[str, Form()]
RATINGS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


@router.post("/courses/{slug}/review", name="web_review")
async def write_review(
    slug: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    rating: Field = "",
    body: Field = "",
) -> Response:
    here = f"/courses/{quote(slug)}"
    if caller is None:
        return redirect(request, login_url(here))
    # Not enrolled, no rating, too long: the reason, and the way back to the form.
    expect_form_failure(request, "error.html", message="", back_url=f"{here}#review-form")
    view = await CourseService(uow).view_by_key(caller, slug)
    if rating not in RATINGS:
        raise InvalidValue("choose a rating from 1 to 5 stars")
    await ReviewService(uow).write_mine(caller, view.course.id, RATINGS[rating], body)
    return redirect(request, f"{here}?reviewed=1#reviews")
