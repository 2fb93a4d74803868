from learnhub.models.learning.enrollment import Enrollment
from learnhub.models.learning.progress import VideoProgress, WatchedSegment
from learnhub.models.learning.review import Review

__all__ = ["Enrollment", "Review", "VideoProgress", "WatchedSegment"]
