"""Every model, imported in one place so Alembic and the mappers see them all."""

from learnhub.models.audit import AuditLog
from learnhub.models.base import AuditableModel, Base, BaseModel, VersionedModel
from learnhub.models.course import (
    Course,
    CourseObjective,
    Quiz,
    QuizOption,
    QuizQuestion,
    Section,
    Tag,
    Video,
    course_tags,
)
from learnhub.models.learning import (
    Enrollment,
    LearnerStats,
    QuizAnswer,
    QuizAttempt,
    Review,
    TutorCitation,
    TutorConversation,
    TutorMessage,
    TutorUsage,
    VideoProgress,
    WatchedSegment,
)
from learnhub.models.monitoring import AuditCheckGap, AuditCheckpoint
from learnhub.models.outbox import OutboxMessage
from learnhub.models.user import (
    LoginFailure,
    Permission,
    Role,
    User,
    UserActivity,
    UserSession,
    role_permissions,
    user_roles,
)

__all__ = [
    "AuditCheckGap",
    "AuditCheckpoint",
    "AuditLog",
    "AuditableModel",
    "Base",
    "BaseModel",
    "Course",
    "CourseObjective",
    "Enrollment",
    "LearnerStats",
    "LoginFailure",
    "OutboxMessage",
    "Permission",
    "Quiz",
    "QuizAnswer",
    "QuizAttempt",
    "QuizOption",
    "QuizQuestion",
    "Review",
    "Role",
    "Section",
    "Tag",
    "TutorCitation",
    "TutorConversation",
    "TutorMessage",
    "TutorUsage",
    "User",
    "UserActivity",
    "UserSession",
    "VersionedModel",
    "Video",
    "VideoProgress",
    "WatchedSegment",
    "course_tags",
    "role_permissions",
    "user_roles",
]
