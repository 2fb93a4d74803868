from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, StrictInt

from learnhub.api.schemas.common import Input, Output
from learnhub.domain.enums import ReviewStatus


class ReviewIn(Input):
    rating: StrictInt = Field(ge=1, le=5)
    body: str = Field(default="", max_length=5000)


class ReviewPatch(Input):
    rating: StrictInt | None = Field(default=None, ge=1, le=5)
    body: str | None = Field(default=None, max_length=5000)
    status: ReviewStatus | None = None
    version: int | None = Field(default=None, ge=1)


class ReviewOut(Output):
    id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    rating: int
    body: str
    status: ReviewStatus
    version: int
    created_at: datetime
    updated_at: datetime
