from learnhub.models.learning.enrollment import Enrollment
from learnhub.models.learning.progress import VideoProgress, WatchedSegment

__all__ = ["Enrollment", "VideoProgress", "WatchedSegment"]
