"""Course reviews, and the course rating they drive (exact, updated in the same transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.enums import CourseStatus, ReviewStatus
from learnhub.domain.errors import (
    Conflict,
    InvalidValue,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from learnhub.domain.permissions import COURSES_MANAGE, REVIEWS_MODERATE
from learnhub.domain.principal import Principal
from learnhub.events.events import ReviewPosted
from learnhub.models.learning import Review
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.filters import CursorPagination, Eq, IsNull, Page
from learnhub.repositories.learning import CourseRatingRepository, ReviewRepository
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService
from learnhub.services.learning import PARTICIPATE, EnrollmentService

MODERATE, MANAGE = REVIEWS_MODERATE, COURSES_MANAGE
MAX_BODY = 5000


@dataclass(frozen=True, slots=True)
class ReviewChanges:
    """A partial update of a review: its author's rating and body, or a moderator's status,
    never both at once (refused when made, before any precondition is looked at)."""

    rating: int | None = None
    body: str | None = None
    status: ReviewStatus | None = None

    def __post_init__(self) -> None:
        if self.status is not None and (self.rating is not None or self.body is not None):
            raise InvalidValue("change the status, or the rating and body, not both at once")


def _rating(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidValue("rating is a whole number from 1 to 5")
    return value


def _body(value: str) -> str:
    text = value.strip()
    if len(text) > MAX_BODY:
        raise InvalidValue(f"a review body has at most {MAX_BODY} characters")
    return text


@dataclass(frozen=True, slots=True)
class CourseReviews:
    """What a course page shows of its reviews: the newest published ones, whether there
    are more, and the caller's own (whatever its status: a hidden one is still theirs)."""

    reviews: list[Review]
    more: bool
    mine: Review | None


class ReviewService(BaseService):
    async def mine(self, principal: Principal, course_id: uuid.UUID) -> Review | None:
        """The caller's own review of the course, if they wrote one (and did not delete it)."""
        return await self.uow.repo(ReviewRepository).for_user_and_course(
            principal.user_id, course_id
        )

    async def write_mine(
        self, principal: Principal, course_id: uuid.UUID, rating: int, body: str
    ) -> Review:
        """The web app's one review form: post the caller's review of the course, or edit it
        when they have one (by the same rules as `post` and `edit`)."""
        existing = await self.mine(principal, course_id)
        if existing is None:
            return await self.post(principal, course_id, rating, body)
        return await self.edit(principal, existing.id, rating, body, None)

    async def for_course_page(
        self, principal: Principal | None, course_id: uuid.UUID, limit: int
    ) -> CourseReviews:
        """The course page's reviews; a draft (seen by its editors) has none to show."""
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        mine = None if principal is None else await self.mine(principal, course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            return CourseReviews([], False, mine)
        page = await self.for_course(course_id, CursorPagination(limit, None))
        return CourseReviews(list(page.items), page.next_cursor is not None, mine)

    async def post(
        self, principal: Principal, course_id: uuid.UUID, rating: int, body: str
    ) -> Review:
        principal.require(PARTICIPATE)
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        # An archived course's learners may still review it; a draft or deleted one is not there.
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Course", course_id)
        await EnrollmentService(self.uow).require(principal.user_id, course.id)
        reviews = self.uow.repo(ReviewRepository)
        if await reviews.for_user_and_course(principal.user_id, course.id) is not None:
            raise Conflict("you have already reviewed this course")
        review = await reviews.create(
            Review(
                user_id=principal.user_id,
                course_id=course.id,
                rating=_rating(rating),
                body=_body(body),
            )
        )
        await self.uow.repo(CourseRatingRepository).apply(course.id, {review.rating: +1})
        self.uow.record(
            ReviewPosted(
                course_id=course.id,
                user_id=principal.user_id,
                review_id=review.id,
                rating=review.rating,
            )
        )
        ActivityService(self.uow).record(
            principal.user_id, "review_posted", subject_type="course", subject_id=course.id
        )
        return await reviews.get(review.id)  # with its author's name, as every read

    async def get(
        self, principal: Principal | None, review_id: uuid.UUID, *, lock: bool = False
    ) -> Review:
        review = await self.uow.repo(ReviewRepository).get(review_id, lock=lock)
        if review.status == ReviewStatus.HIDDEN and not await self._may_see_hidden(
            principal, review
        ):
            raise NotFound("Review", review_id)
        await self._live_course(review.course_id)
        return review

    async def for_course(self, course_id: uuid.UUID, pagination: CursorPagination) -> Page[Review]:
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Course", course_id)
        return await self.uow.repo(ReviewRepository).get_all(
            [Eq(Review.course_id, course_id), Eq(Review.status, ReviewStatus.PUBLISHED)],
            pagination,
            "newest",
        )

    async def deleted_for_course(
        self, principal: Principal | None, course_id: uuid.UUID, pagination: CursorPagination
    ) -> Page[Review]:
        """The course's soft-deleted reviews, newest first, for administrators
        (courses:manage) to find one to restore; 401 without a login, 403 for others."""
        if principal is None:
            raise NotAuthenticated("log in to list deleted reviews")
        principal.require(MANAGE)
        if await self.uow.repo(CourseRepository).get_by_id(course_id) is None:
            raise NotFound("Course", course_id)
        return await self.uow.repo(ReviewRepository).get_all(
            [Eq(Review.course_id, course_id), IsNull(Review.deleted_at, is_null=False)],
            pagination,
            "newest",
            include_deleted=True,
        )

    async def update(
        self,
        principal: Principal,
        review_id: uuid.UUID,
        changes: ReviewChanges,
        expected_version: int | None,
    ) -> Review:
        """A status is moderation; rating and body are the author's edit."""
        if changes.status is not None:
            return await self.moderate(principal, review_id, changes.status, expected_version)
        return await self.edit(principal, review_id, changes.rating, changes.body, expected_version)

    async def edit(
        self,
        principal: Principal,
        review_id: uuid.UUID,
        rating: int | None,
        body: str | None,
        expected_version: int | None,
    ) -> Review:
        reviews = self.uow.repo(ReviewRepository)
        review = await self.get(principal, review_id, lock=True)
        if review.user_id != principal.user_id:
            raise PermissionDenied("only the author may edit a review")
        reviews.check_version(review, expected_version)
        old = review.rating
        if rating is not None:
            review.rating = _rating(rating)
        if body is not None:
            review.body = _body(body)
        await reviews.flush(review)
        if review.status == ReviewStatus.PUBLISHED and review.rating != old:
            await self.uow.repo(CourseRatingRepository).apply(
                review.course_id, {old: -1, review.rating: +1}
            )
        return review

    async def moderate(
        self,
        principal: Principal,
        review_id: uuid.UUID,
        status: ReviewStatus,
        expected_version: int | None,
    ) -> Review:
        reviews = self.uow.repo(ReviewRepository)
        review = await reviews.get(review_id, lock=True)
        if not await self._may_moderate(principal, review):
            raise PermissionDenied("only the course's instructor or an admin may moderate")
        reviews.check_version(review, expected_version)
        if review.status == status:
            return review
        review.status = status
        await reviews.flush(review)
        delta = +1 if status == ReviewStatus.PUBLISHED else -1
        await self.uow.repo(CourseRatingRepository).apply(review.course_id, {review.rating: delta})
        return review

    async def delete(
        self, principal: Principal, review_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        reviews = self.uow.repo(ReviewRepository)
        review = await reviews.get(review_id, lock=True)
        if review.user_id != principal.user_id and not principal.can(MANAGE):
            raise PermissionDenied("only the author or an admin may delete a review")
        counted = review.status == ReviewStatus.PUBLISHED
        course_id, stars = review.course_id, review.rating
        await reviews.delete(review_id, expected_version)
        if counted:
            await self.uow.repo(CourseRatingRepository).apply(course_id, {stars: -1})

    async def restore(self, principal: Principal, review_id: uuid.UUID) -> Review:
        reviews = self.uow.repo(ReviewRepository)
        review = await reviews.get(review_id, include_deleted=True, lock=True)
        if review.user_id != principal.user_id and not principal.can(MANAGE):
            raise NotFound("Review", review_id)
        if review.deleted_at is None:
            return review
        await self._live_course(review.course_id)
        review = await reviews.restore(review_id)
        if review.status == ReviewStatus.PUBLISHED:
            await self.uow.repo(CourseRatingRepository).apply(review.course_id, {review.rating: +1})
        return review

    async def _live_course(self, course_id: uuid.UUID) -> None:
        """A soft-deleted course is unavailable everywhere: its reviews are neither shown nor
        edited nor restored (404 naming the course). Deleting one's own review stays possible."""
        if await self.uow.repo(CourseRepository).get_by_id(course_id) is None:
            raise NotFound("Course", course_id)

    async def _may_moderate(self, principal: Principal | None, review: Review) -> bool:
        if principal is None:
            return False
        if principal.can(MANAGE):
            return True
        if not principal.can(MODERATE):
            return False
        course = await self.uow.repo(CourseRepository).get_by_id(review.course_id)
        return course is not None and course.instructor_id == principal.user_id

    async def _may_see_hidden(self, principal: Principal | None, review: Review) -> bool:
        if principal is not None and principal.user_id == review.user_id:
            return True
        return await self._may_moderate(principal, review)
