"""The arithmetic of video progress, with no session: the union of played segments and the
policy that credits watch time against the real-time budget (see services/learning.py for how
a heartbeat uses them)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from learnhub.domain.enums import EnrollmentStatus
from learnhub.domain.errors import InvalidValue

Segment = tuple[float, float]


def merge_segments(segments: Sequence[Segment]) -> list[Segment]:
    """The union of intervals, sorted and non-overlapping (touching intervals join)."""
    merged: list[Segment] = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered(segments: Sequence[Segment]) -> float:
    return sum(end - start for start, end in segments)


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """How watch time is credited: completion at `completion_ratio` of the duration, and a
    player may run at up to `max_playback_rate`, with `tolerance_seconds` of slack for the
    time a heartbeat spends on its way and a first heartbeat's already played seconds."""

    completion_ratio: float = 0.9
    max_playback_rate: float = 2.0
    tolerance_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.completion_ratio <= 1:
            raise InvalidValue("completion ratio must be in (0, 1]")
        if not (self.max_playback_rate >= 1 and self.tolerance_seconds >= 0):
            raise InvalidValue("max playback rate must be >= 1 and the tolerance >= 0")

    def budget(self, since: datetime, now: datetime) -> float:
        """The most watch time creditable `now` for a video whose first heartbeat came at
        `since`, in whole milliseconds rounded down (credit never exceeds it; the 1e-6 ms
        keeps float noise from taking a millisecond off, as in 540.4 -> 540.399)."""
        elapsed = max(0.0, (now - since).total_seconds())
        seconds = self.max_playback_rate * elapsed + self.tolerance_seconds
        return math.floor(1000 * seconds + 1e-6) / 1000

    def completion_allowed(self, since: datetime, now: datetime, duration: float) -> bool:
        """SPEC 5: no number or rhythm of heartbeats completes a video sooner than
        duration / max_playback_rate after its first heartbeat. The tolerance and the
        completion ratio let credit run a little ahead of that; completion waits for it."""
        elapsed = max(0.0, (now - since).total_seconds())
        return self.max_playback_rate * elapsed + 1e-6 >= duration

    def window(self, previous: datetime | None, now: datetime) -> float:
        """How much a simple client's `watched_seconds` may grow since its previous
        heartbeat (a first heartbeat: the tolerance)."""
        return self.budget(previous or now, now)


def credit(previous: float, claimed: float, budget: float) -> float:
    """The seconds credited: what is claimed, up to the budget, never less than before."""
    return max(previous, min(round(claimed, 3), budget))


def is_open(status: EnrollmentStatus | None) -> bool:
    """An enrolment the learner may learn in: active, or completed (revisiting)."""
    return status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


def checked_seconds(value: float, name: str) -> float:
    if not (value == value) or value < 0 or value > 7 * 24 * 3600:  # NaN, negative, absurd
        raise InvalidValue(f"{name} must be between 0 and one week")
    return float(value)


def played_segment(start: float, end: float, duration: float) -> Segment:
    start, end = checked_seconds(start, "segment start"), checked_seconds(end, "segment end")
    if end <= start:
        raise InvalidValue("a played segment ends after it starts")
    if start >= duration:
        raise InvalidValue("a played segment starts after the video ends")
    return start, min(end, duration)


def resume_index(completed: Sequence[bool], touched_at: Sequence[datetime | None]) -> int | None:
    """Where a learner picks a course up again, as an index into its videos in outline order
    (`completed` and `touched_at`, the last heartbeat, per video): the video touched most
    recently, unless it is completed, then the next unfinished one after it in outline order
    (else the first unfinished one before it). With every video completed, the last touched
    one (to watch again); None when no video was ever touched."""
    touched = [i for i, at in enumerate(touched_at) if at is not None]
    if not touched:
        return None
    latest = max(touched, key=lambda i: (touched_at[i], i))
    if not completed[latest]:
        return latest
    unfinished = [i for i, done in enumerate(completed) if not done]
    after = [i for i in unfinished if i > latest]
    if after:
        return after[0]
    return unfinished[0] if unfinished else latest
