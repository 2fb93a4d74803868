from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from learnhub.api.schemas.common import JSON_INTEGER, Input, Output, Text, Version
from learnhub.domain.enums import ReviewStatus


class ReviewIn(Input):
    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER]
    body: Text = Field(default="", max_length=5000)


class ReviewPatch(Input):
    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER] | None = None
    body: Text | None = Field(default=None, max_length=5000)
    status: ReviewStatus | None = None
    version: Version | None = None


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
