from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Input, Output, Text, Version
from learnhub.api.schemas.courses import CourseOut
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import UserStatus
from learnhub.domain.permissions import BUILTIN_ROLES
from learnhub.models.user import User
from learnhub.services.passwords import MAX_LENGTH, MIN_LENGTH
from learnhub.services.profiles import PROFILE_COURSES, Profile

# A display name: no control character at all, and not blank (the service strips it).
DISPLAY_NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
DisplayName = Annotated[str, Field(min_length=1, max_length=100, pattern=DISPLAY_NAME_PATTERN)]
Email = Annotated[Text, Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})]


class RegisterIn(Input):
    model_config = example(
        {
            "email": "ada@example.com",
            "password": "correct horse battery",
            "display_name": "Ada Lovelace",
        }
    )

    email: Email
    password: Text = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    display_name: DisplayName


class LoginIn(Input):
    model_config = example({"email": "ada@example.com", "password": "correct horse battery"})

    email: Text = Field(max_length=254)
    password: Text = Field(max_length=256)


# Tokens are plain strings with no length or character rule here: a token that cannot be
# used (malformed, too long, an access token) is a 401 from the service, never a 422.
class RefreshIn(Input):
    model_config = example({"refresh_token": ex.REFRESH_TOKEN})

    refresh_token: str = Field(description="The refresh token from login or the last refresh")


class LogoutIn(Input):
    model_config = example({"refresh_token": ex.REFRESH_TOKEN})

    refresh_token: str | None = Field(
        default=None,
        description="The session to end; without it (or without a body), the session of the "
        "bearer access token",
    )


class PasswordChangeIn(Input):
    model_config = example(
        {"current_password": "correct horse battery", "new_password": "staple battery horse"}
    )

    current_password: Text = Field(max_length=MAX_LENGTH)
    new_password: Text = Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="The password policy of registration",
    )


class PasswordResetIn(Input):
    model_config = example({"email": "ada@example.com"})

    email: Text = Field(max_length=254)


class PasswordResetConfirmIn(Input):
    model_config = example(
        {"token": "q8vV1Xh3JrQ0b2yY7nWcTgA5mKfLpZs9RdEuIoHjNkM", "new_password": "a new passphrase"}
    )

    # No length or character rule: a token that cannot be used is a 400 from the service.
    token: str = Field(description="The token from the reset e-mail")
    new_password: Text = Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="The password policy of registration",
    )


class AcceptedOut(Output):
    model_config = example({"status": "accepted"})

    status: str = Field(
        default="accepted",
        description="Always the same answer, whether or not an account has this address",
    )


class TokenOut(Output):
    model_config = example(
        {
            "access_token": ex.ACCESS_TOKEN,
            "refresh_token": ex.REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 900,
        }
    )

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(Output):
    model_config = example(ex.USER)

    id: uuid.UUID
    email: str
    display_name: str
    status: UserStatus
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    version: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            status=user.status,
            roles=[r.name for r in user.roles],
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
            version=user.version,
        )


class AdminUserOut(UserOut):
    model_config = example(ex.USER | {"deleted_at": None})

    deleted_at: datetime | None

    @classmethod
    def of(cls, user: User) -> AdminUserOut:
        return cls(**UserOut.of(user).model_dump(), deleted_at=user.deleted_at)


class ProfilePatch(Input):
    model_config = example({"display_name": "Ada King", "version": 3})

    display_name: DisplayName | None = None
    version: Version | None = None


class AdminUserPatch(Input):
    model_config = example({"status": "suspended", "version": 3})

    display_name: DisplayName | None = None
    status: UserStatus | None = None
    version: Version | None = None


class RolesIn(Input):
    model_config = example({"roles": ["instructor", "student"], "version": 3})

    roles: list[
        Annotated[Text, Field(max_length=64, json_schema_extra={"enum": sorted(BUILTIN_ROLES)})]
    ] = Field(max_length=10)
    version: Version | None = None


class ActivityOut(Output):
    model_config = example(ex.ACTIVITY)

    id: uuid.UUID
    type: str
    subject_type: str | None
    subject_id: uuid.UUID | None
    occurred_at: datetime
    metadata: dict[str, Any] = Field(validation_alias="details")


class LearnerStatsOut(Output):
    """The caller's learning totals, kept fresh by an event handler after each change."""

    model_config = example(
        {
            "enrolled_courses": 3,
            "completed_courses": 1,
            "completed_videos": 14,
            "passed_quizzes": 4,
            "last_activity_at": ex.UPDATED,
            "refreshed_at": ex.UPDATED,
        }
    )

    enrolled_courses: int = Field(description="Courses the learner is in (active or completed)")
    completed_courses: int
    completed_videos: int
    passed_quizzes: int = Field(description="Distinct quizzes with a passed attempt")
    last_activity_at: datetime | None
    refreshed_at: datetime | None = Field(description="When the totals were last recomputed")


class PublicProfileOut(Output):
    """What anyone may see of a user: no e-mail, status, login or dates."""

    model_config = example(ex.PROFILE)

    id: uuid.UUID
    display_name: str
    badges: list[str] = Field(description="public roles: instructor, student (never admin)")
    courses: list[CourseOut] = Field(
        description=f"up to {PROFILE_COURSES} of the user's published courses, in the "
        "catalog's default order (best rated first)"
    )
    courses_next: str | None = Field(
        description="the catalog page continuing after `courses`; null when they are all"
    )

    @classmethod
    def of(cls, profile: Profile, courses_next: str | None) -> PublicProfileOut:
        return cls(
            id=profile.user_id,
            display_name=profile.display_name,
            badges=profile.badges,
            courses=[CourseOut(**CourseOut.card_fields(c)) for c in profile.courses.items],
            courses_next=courses_next,
        )
