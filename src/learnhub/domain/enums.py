"""Enumerations shared by models, services and the API."""

from __future__ import annotations

from enum import StrEnum


class DifficultyLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    EXPERT = "expert"


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class UserStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SOFT_DELETE = "soft_delete"
    RESTORE = "restore"
    HARD_DELETE = "hard_delete"


class PersonalData(StrEnum):
    """What erasing a user does to a column (declared on every column of every model)."""

    NONE = "none"  # not personal data
    DELETE = "delete"  # the row goes with the user
    ANONYMISE = "anonymise"  # the value is replaced, the row stays
    KEEP = "keep"  # kept on a documented legal basis (pseudonymous ids, ledgers)


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"


class ReviewStatus(StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"


class AttemptState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    OVERDUE = "overdue"


class ChatRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
