from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import JSON_INTEGER, Input, Output, Text, Version
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import ReviewStatus


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
    course_id: uuid.UUID
    rating: int
    body: str
    status: ReviewStatus
    version: int
    created_at: datetime
    updated_at: datetime
