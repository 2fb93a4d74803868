"""Course value objects live in `learnhub.domain.value_objects` (Price, Rating, Duration),
shared by every layer; this module re-exports them for the course domain's convenience."""

from learnhub.domain.value_objects import Duration, Price, Rating

__all__ = ["Duration", "Price", "Rating"]
