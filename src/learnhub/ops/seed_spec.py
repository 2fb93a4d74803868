"""`learnhub seed`: what to generate (`SeedSpec`), the tables and columns written, what a run
reports, and the row primitives every generator uses: deterministic UUIDv7-shaped ids whose
time part is the row's time and whose random bits come from a seeded generator, never from
the clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from learnhub.domain.errors import InvalidValue
from learnhub.ops.bulk_load import Row

SEED_PASSWORD = "learnhub-seed"
# argon2id of SEED_PASSWORD, computed once: hashing a million passwords is not an option.
SEED_PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$gOfIRKad1mwupATcUjnqSg"
    "$lxH9q1IkBTYYULTUouGjKnwHcwdBbD1+lbHLVU2kYFc"
)

# Tables written, in foreign-key order.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "tags": ("id", "created_at", "updated_at", "name"),
    "users": ("id", "created_at", "updated_at", "email", "display_name", "password_hash", "status"),
    "user_roles": ("user_id", "role_id", "assigned_at"),
    "courses": (
        "id", "created_at", "updated_at", "title", "slug", "description", "instructor_id",
        "price_amount", "price_currency", "difficulty", "status", "published_at", "tutor_enabled",
    ),
    "course_tags": ("course_id", "tag_id"),
    "sections": ("id", "created_at", "updated_at", "course_id", "title", "position"),
    "videos": (
        "id", "created_at", "updated_at", "course_id", "section_id", "title", "url",
        "duration_seconds", "position", "transcript", "is_preview",
    ),
    "learner_stats": (
        "id", "user_id", "enrolled_courses", "completed_courses", "completed_videos",
        "passed_quizzes", "last_activity_at", "refreshed_at",
    ),
    "enrollments": (
        "id", "created_at", "updated_at", "user_id", "course_id", "status", "enrolled_at",
        "completed_at", "cancelled_at", "completed_videos", "passed_quizzes",
    ),
    "video_progress": (
        "id", "created_at", "updated_at", "user_id", "video_id", "course_id", "position_seconds",
        "watched_seconds", "completed", "completed_at", "last_heartbeat_at",
    ),
    "video_progress_segments": ("progress_id", "start_seconds", "end_seconds"),
    "reviews": (
        "id", "created_at", "updated_at", "user_id", "course_id", "rating", "body", "status",
    ),
    "audit_log": (
        "id", "occurred_at", "request_id", "transaction_id", "entity_type", "entity_id",
        "action", "changes",
    ),
}  # fmt: skip
TABLES = tuple(TABLE_COLUMNS)
# A database holding rows in any of these is "populated": indexes are then never dropped.
ENTITY_TABLES = ("users", "tags", "courses", "sections", "videos", "enrollments",
                 "video_progress", "reviews", "learner_stats")  # fmt: skip

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
BASE_MS = int(BASE_TIME.timestamp() * 1000)
SECOND, MINUTE, HOUR, DAY = 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000
PRICES = tuple(Decimal(p) for p in ("0.00", "9.99", "19.99", "29.99", "49.99", "99.99"))
DIFFICULTIES = ("beginner", "beginner", "intermediate", "intermediate", "advanced", "expert")
CANCEL_SHARE, HIDDEN_SHARE, COMPLETE_SHARE = 0.04, 0.05, 0.7


@dataclass(frozen=True, slots=True)
class SeedSpec:
    users: int
    courses: int
    enrollments_per_user: int = 0
    progress_per_enrollment: int = 0
    videos_per_course: int = 5  # each course gets this many videos plus 0..2 more
    reviews_ratio: float = 0.1  # share of enrolments (active or completed) with a review
    seed: int = 1
    batch_size: int = 10_000  # students (or courses) generated and written per chunk
    audit: bool = True
    completion_ratio: float = 0.9

    def validate(self) -> None:
        for name in ("users", "courses", "enrollments_per_user", "progress_per_enrollment"):
            if getattr(self, name) < 0:
                raise InvalidValue(f"{name.replace('_', '-')} must not be negative")
        if self.videos_per_course < 1:
            raise InvalidValue("videos-per-course must be at least 1")
        if self.batch_size < 1:
            raise InvalidValue("batch-size must be at least 1")
        if not 0 <= self.reviews_ratio <= 1:
            raise InvalidValue("reviews-ratio must be between 0 and 1")
        if not 0 < self.completion_ratio <= 1:
            raise InvalidValue("completion ratio must be in (0, 1]")
        if self.seed < 0:
            raise InvalidValue("seed must not be negative")
        if self.courses and not self.users:
            raise InvalidValue("courses need instructors: give at least one user")
        if self.enrollments_per_user > self.courses:
            raise InvalidValue(
                f"enrollments-per-user ({self.enrollments_per_user}) exceeds the number of "
                f"courses ({self.courses}): enrolments are unique per learner and course"
            )

    @property
    def instructors(self) -> int:
        if not self.courses:
            return 0
        return min(max(1, self.courses // 4), max(1, self.users // 10))

    @property
    def students(self) -> int:
        return self.users - self.instructors

    @property
    def request_id(self) -> str:
        return f"seed:{self.seed}"


@dataclass
class SeedReport:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    write_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TABLES, 0.0))
    phases: dict[str, float] = field(default_factory=dict)
    dropped_indexes: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


Progress = Callable[[str, int], None]
Chunk = dict[str, list[Row]]


def id_maker(rng: random.Random) -> Callable[[int], str]:
    """Canonical UUIDv7 strings: the 48-bit time part from the row's time (microseconds after
    BASE_TIME), 72 random bits from `rng` (the two variant bits are `10`, the rest of that
    nibble is zero), never the clock."""
    bits = rng.getrandbits

    def make(us: int) -> str:
        m = "%012x" % (BASE_MS + us // 1000)
        r = "%018x" % bits(72)  # noqa: UP031
        return f"{m[:8]}-{m[8:]}-7{r[:3]}-8{r[3:6]}-{r[6:]}"

    return make


def time_at(us: int) -> datetime:
    return BASE_TIME + timedelta(microseconds=us)


def rating(histogram: list[int]) -> Decimal:
    total = sum(histogram)
    if not total:
        return Decimal("0.00")
    weighted = sum(stars * n for stars, n in enumerate(histogram, start=1))
    return (Decimal(weighted) / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(slots=True)
class SeededCourse:
    id: str
    published_us: int
    videos: list[tuple[str, int]]  # (video id, duration in seconds), in order
