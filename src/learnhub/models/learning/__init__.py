from learnhub.models.learning.ai_chat import (
    TutorCitation,
    TutorConversation,
    TutorMessage,
    TutorUsage,
)
from learnhub.models.learning.attempt import (
    QuizAnswer,
    QuizAttempt,
    QuizAttemptGrant,
    answer_options,
)
from learnhub.models.learning.enrollment import Enrollment
from learnhub.models.learning.progress import VideoProgress, WatchedSegment
from learnhub.models.learning.review import Review
from learnhub.models.learning.stats import LearnerStats

__all__ = [
    "Enrollment",
    "LearnerStats",
    "QuizAnswer",
    "QuizAttempt",
    "QuizAttemptGrant",
    "Review",
    "TutorCitation",
    "TutorConversation",
    "TutorMessage",
    "TutorUsage",
    "VideoProgress",
    "WatchedSegment",
    "answer_options",
]
