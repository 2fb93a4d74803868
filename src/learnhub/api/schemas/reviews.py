from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import JSON_INTEGER, Input, Output, PersonOut, Text, Version
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import ReviewStatus
from learnhub.models.learning import Review


class ReviewIn(Input):
    model_config = example({"rating": 5, "body": "Clear, practical, and the exercises are fun."})

    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER]
    body: Text = Field(default="", max_length=5000)


class ReviewPatch(Input):
    model_config = example(
        {"rating": 4, "body": "Clear and practical; the last section is rushed.", "version": 1}
    )

    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER] | None = None
    body: Text | None = Field(default=None, max_length=5000)
    status: ReviewStatus | None = None
    version: Version | None = None


class ReviewOut(Output):
    model_config = example(ex.REVIEW)

    id: uuid.UUID
    user_id: uuid.UUID
    author: PersonOut
    course_id: uuid.UUID
    rating: int
    body: str
    status: ReviewStatus
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        """From a review loaded with its author (ReviewRepository joins them in)."""
        author = review.author
        return cls(
            id=review.id,
            user_id=review.user_id,
            author=PersonOut.named(review.user_id, author.display_name if author else None),
            course_id=review.course_id,
            rating=review.rating,
            body=review.body,
            status=review.status,
            version=review.version,
            created_at=review.created_at,
            updated_at=review.updated_at,
        )
