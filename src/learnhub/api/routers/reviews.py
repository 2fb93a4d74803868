"""Reviews: learners review courses they are enrolled in; instructors and admins moderate."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from learnhub.api.deps import (
    Caller,
    IfMatch,
    Limit,
    MaybeCaller,
    Uow,
    set_etag,
    versioned,
)
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor, Deleted, PageOut
from learnhub.api.schemas.reviews import ReviewIn, ReviewOut, ReviewPatch
from learnhub.models.learning import Review
from learnhub.repositories.filters import CursorPagination
from learnhub.services.reviews import ReviewChanges, ReviewService

router = APIRouter(tags=["reviews"], responses=PROBLEM_RESPONSES)


def review_response(response: Response, review: Review) -> ReviewOut:
    set_etag(response, review.version)
    return ReviewOut.of(review)


@router.post(
    "/courses/{course_id}/reviews", summary="Review a course", status_code=status.HTTP_201_CREATED
)
async def post_review(
    course_id: uuid.UUID, body: ReviewIn, caller: Caller, uow: Uow, response: Response
) -> ReviewOut:
    """One review per learner and course, by enrolled learners only."""
    review = await ReviewService(uow).post(caller, course_id, body.rating, body.body)
    return review_response(response, review)


@router.get(
    "/courses/{course_id}/reviews", summary="List a course's reviews", dependencies=[KnownQueryOnly]
)
async def list_reviews(
    course_id: uuid.UUID,
    uow: Uow,
    caller: MaybeCaller,  # no login needed, but a dead token is still refused
    deleted: Deleted = "exclude",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PageOut[ReviewOut]:
    """The course's published reviews, newest first (public). `deleted=only` lists its
    soft-deleted reviews instead, for administrators (401 without a login, 403 others)."""
    service, pagination = ReviewService(uow), CursorPagination(limit, cursor)
    if deleted == "only":
        page = await service.deleted_for_course(caller, course_id, pagination)
    else:
        page = await service.for_course(course_id, pagination)
    return PageOut(items=[ReviewOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/reviews/{review_id}", summary="Read a review")
async def get_review(
    review_id: uuid.UUID, caller: MaybeCaller, uow: Uow, response: Response
) -> ReviewOut:
    return review_response(response, await ReviewService(uow).get(caller, review_id))


@router.patch("/reviews/{review_id}", summary="Edit or moderate a review")
async def update_review(
    review_id: uuid.UUID,
    body: ReviewPatch,
    caller: Caller,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewOut:
    """The author edits rating and body; moderators set `status` (published or hidden)."""
    changes = ReviewChanges(**body.model_dump(exclude_unset=True, exclude={"version"}))
    service = ReviewService(uow)
    review = await versioned(
        if_match, body.version, lambda v: service.update(caller, review_id, changes, v)
    )
    return review_response(response, review)


@router.delete(
    "/reviews/{review_id}", summary="Delete a review", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_review(
    review_id: uuid.UUID, caller: Caller, uow: Uow, if_match: IfMatch = None
) -> Response:
    service = ReviewService(uow)
    await versioned(if_match, None, lambda v: service.delete(caller, review_id, v))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/reviews/{review_id}/restore", summary="Restore a deleted review")
async def restore_review(
    review_id: uuid.UUID, caller: Caller, uow: Uow, response: Response
) -> ReviewOut:
    review = await ReviewService(uow).restore(caller, review_id)
    return review_response(response, review)
