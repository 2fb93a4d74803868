"""Domain errors: the only exceptions services and repositories raise on purpose.

The API maps each class to one HTTP status and a stable problem `code`, in one place.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every expected, client-explainable failure."""

    code: str = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidValue(DomainError):
    """A value object or argument was constructed from invalid data."""

    code = "invalid_value"


class PayloadTooLarge(InvalidValue):
    """An upload past its size limit."""

    code = "payload_too_large"


class UnsupportedMediaType(InvalidValue):
    """An upload whose content (not its name) is not of a kind accepted there."""

    code = "unsupported_media_type"


class InvalidCursor(InvalidValue):
    """A pagination cursor was malformed or belongs to another sort order."""

    code = "invalid_cursor"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found", entity=entity, entity_id=str(entity_id))


class Conflict(DomainError):
    """A uniqueness or state rule would be broken (duplicate e-mail, slug, enrolment...)."""

    code = "conflict"


class ConcurrencyConflict(Conflict):
    """Optimistic locking: the row changed since the caller read it."""

    code = "version_conflict"

    def __init__(
        self, entity: str, entity_id: object, expected: int | None, actual: int | None
    ) -> None:
        DomainError.__init__(
            self,
            f"{entity} {entity_id} was changed by someone else "
            f"(expected version {expected}, current {actual})",
            entity=entity,
            entity_id=str(entity_id),
            expected_version=expected,
            current_version=actual,
        )
        self.entity = entity


class PermissionDenied(DomainError):
    code = "forbidden"


class WrongPassword(PermissionDenied):
    """The current password given to confirm a change was wrong (the caller is logged in:
    a 403, not a 401 that would make a client drop its tokens)."""

    code = "wrong_password"


class InvalidResetToken(DomainError):
    """A password reset token that is unknown, already used or superseded, or expired (one
    answer for all, so a token's fate is not told)."""

    code = "reset_token_invalid"


class UnauditedWrite(RuntimeError):
    """A bulk ORM write on an audited model bypassed the repository's audited helpers.

    A programming error, not a domain error: it must never reach a client as a 4xx.
    """


class NotAuthenticated(DomainError):
    """No valid credentials: missing, malformed, expired or revoked token, bad password."""

    code = "unauthorized"


class AccountSuspended(PermissionDenied):
    code = "account_suspended"


class PreconditionFailed(DomainError):
    """An `If-Match` precondition did not hold."""

    code = "precondition_failed"


class TooManyRequests(DomainError):
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class NotEnrolled(PermissionDenied):
    """Progress, attempts or reviews on a course the caller is not enrolled in."""

    code = "not_enrolled"


class DeadlinePassed(Conflict):
    """A quiz attempt was submitted after its deadline; it is closed as overdue."""

    code = "deadline_passed"


class TutorDisabled(Conflict):
    """The course's editors switched the AI tutor off for it."""

    code = "tutor_disabled"


class ServiceUnavailable(DomainError):
    """A dependency the request needs is down for now; the client may retry later."""

    code = "service_unavailable"

    def __init__(self, message: str, retry_after_seconds: int = 30) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class TutorUnavailable(ServiceUnavailable):
    """The tutor provider could not answer (unreachable, timed out, malformed reply)."""

    code = "tutor_unavailable"
