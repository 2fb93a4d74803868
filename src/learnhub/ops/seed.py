"""`learnhub seed`: realistic, referentially valid data at scale, generated deterministically.

Rows are plain tuples generated in chunks, each chunk from its own `random.Random` derived from
the seed, so the same seed always gives the same rows, ids included (UUIDv7-shaped ids whose
time part is the row's `created_at` and whose random bits come from the generator, never from
the clock). `ops.bulk_load` writes them (COPY on PostgreSQL, executemany on SQLite) in
one transaction, generating the next chunk in a worker thread while the current one is written.

What is generated: instructors and students (one shared, precomputed argon2 hash of
`SEED_PASSWORD`, so load tests can log in), published courses with tags, one section and a few
videos each, enrolments, video progress with its watched segments, reviews, and the derived
values exactly: `courses.enrollment_count`, `rating`, `rating_count`, the `rating_N_count`
histogram, `enrollments.completed_videos` and the `learner_stats` read model. Each entity gets
the `create` audit entry the unit of work would have written (actor NULL: the system; request id
`seed:<seed>`), so `learnhub audit verify` stays clean. No domain events are recorded: seeded
data is history, not news, and nothing downstream should react to it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.domain.course_rules import slugify
from learnhub.domain.errors import InvalidValue
from learnhub.domain.permissions import INSTRUCTOR, STUDENT
from learnhub.ops.bulk_load import BulkLoader, Row
from learnhub.ops.seed_words import (
    DESCRIPTION_SENTENCES,
    EXTRA_TAGS,
    FIRST_NAMES,
    LAST_NAMES,
    RATING_WEIGHTS,
    REVIEW_BODIES,
    SECTION_TITLES,
    TITLE_PREFIXES,
    TITLE_SUFFIXES,
    TOPICS,
    TRANSCRIPT_SENTENCES,
    VIDEO_TOPICS,
)

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
_BASE_MS = int(BASE_TIME.timestamp() * 1000)
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


def _id_maker(rng: random.Random) -> Callable[[int], str]:
    """Canonical UUIDv7 strings: the 48-bit time part from the row's time (microseconds after
    BASE_TIME), 72 random bits from `rng` (the two variant bits are `10`, the rest of that
    nibble is zero), never the clock."""
    bits = rng.getrandbits

    def make(us: int) -> str:
        m = "%012x" % (_BASE_MS + us // 1000)
        r = "%018x" % bits(72)  # noqa: UP031
        return f"{m[:8]}-{m[8:]}-7{r[:3]}-8{r[3:6]}-{r[6:]}"

    return make


def _at(us: int) -> datetime:
    return BASE_TIME + timedelta(microseconds=us)


def _rating(histogram: list[int]) -> Decimal:
    total = sum(histogram)
    if not total:
        return Decimal("0.00")
    weighted = sum(stars * n for stars, n in enumerate(histogram, start=1))
    return (Decimal(weighted) / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(slots=True)
class _Course:
    id: str
    published_us: int
    videos: list[tuple[str, int]]  # (video id, duration in seconds), in order


class SeedGenerator:
    """Generates the rows chunk by chunk; every chunk has its own seeded random generator, so
    the output does not depend on how chunks are scheduled."""

    def __init__(self, spec: SeedSpec, role_ids: dict[str, str], tag_ids: dict[str, str]):
        self.spec = spec
        self.role_ids = role_ids
        self.existing_tags = tag_ids
        self.tag_ids: dict[str, str] = {}
        self.courses: list[_Course] = []
        self.instructor_ids: list[tuple[str, int]] = []
        n = spec.courses
        self.enrolled = [0] * n
        self.histogram = [[0] * 5 for _ in range(n)]
        tx = random.Random(f"{spec.seed}:transaction")
        self.transaction_id = _id_maker(tx)(0)
        self._audit_prefix = (spec.request_id, self.transaction_id)

    def _rng(self, part: str, index: int = 0) -> random.Random:
        return random.Random(f"{self.spec.seed}:{part}:{index}")

    def _audit(
        self, rows: list[Row], audit_id: str, at: datetime, entity: str, eid: str, changes: str
    ) -> None:
        request_id, tx = self._audit_prefix
        rows.append((audit_id, at, request_id, tx, entity, eid, "create", changes))

    @staticmethod
    def _changes(values: dict[str, Any]) -> str:
        return json.dumps({key: [None, value] for key, value in values.items()})

    # -- catalog ---------------------------------------------------------------------------

    def tags_chunk(self) -> Chunk:
        rng = self._rng("tags")
        make = _id_maker(rng)
        names = sorted({tag for _, tag in TOPICS} | set(EXTRA_TAGS))
        chunk: Chunk = {"tags": [], "audit_log": []}
        for name in names:
            if name in self.existing_tags:
                self.tag_ids[name] = self.existing_tags[name]
                continue
            us = rng.randrange(0, HOUR)
            tid, at = make(us), _at(us)
            self.tag_ids[name] = tid
            chunk["tags"].append((tid, at, at, name))
            if self.spec.audit:
                changes = self._changes({"id": tid, "name": name})
                self._audit(chunk["audit_log"], make(us), at, "tag", tid, changes)
        return chunk

    def _user(
        self, chunk: Chunk, make: Callable[[int], str], us: int, email: str, name: str, role: str
    ) -> str:
        uid, at = make(us), _at(us)
        role_id = self.role_ids[role]
        chunk["users"].append((uid, at, at, email, name, SEED_PASSWORD_HASH, "active"))
        chunk["user_roles"].append((uid, role_id, at))
        if self.spec.audit:
            self._audit(
                chunk["audit_log"],
                make(us),
                at,
                "user",
                uid,
                # Word-list names and generated addresses need no JSON escaping.
                f'{{"id": [null, "{uid}"], "email": [null, "{email}"], '
                f'"display_name": [null, "{name}"], "password_hash": [null, "[redacted]"], '
                f'"status": [null, "active"], "roles": [null, ["{role_id}"]]}}',
            )
        return uid

    def instructors_chunk(self) -> Chunk:
        rng = self._rng("instructors")
        make = _id_maker(rng)
        chunk: Chunk = {"users": [], "user_roles": [], "audit_log": []}
        seed = self.spec.seed
        for i in range(self.spec.instructors):
            us = rng.randrange(HOUR, 10 * DAY)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            email = f"instructor-{i}@seed{seed}.example.com"
            self.instructor_ids.append((self._user(chunk, make, us, email, name, INSTRUCTOR), us))
        return chunk

    def course_chunks(self) -> Iterator[Chunk]:
        spec = self.spec
        for k, start in enumerate(range(0, spec.courses, spec.batch_size)):
            yield self._course_chunk(k, start, min(spec.courses, start + spec.batch_size))

    def _course_chunk(self, k: int, start: int, stop: int) -> Chunk:
        rng = self._rng("courses", k)
        make = _id_maker(rng)
        rand, randrange, choice = rng.random, rng.randrange, rng.choice
        audit = self.spec.audit
        chunk: Chunk = {
            name: [] for name in ("courses", "course_tags", "sections", "videos", "audit_log")
        }
        audit_rows = chunk["audit_log"]
        extra_per_course = 2
        for c in range(start, stop):
            instructor_id, _ = self.instructor_ids[c % len(self.instructor_ids)]
            topic, topic_tag = choice(TOPICS)
            title = " ".join(
                w for w in (choice(TITLE_PREFIXES), topic, choice(TITLE_SUFFIXES)) if w
            )
            slug = f"{slugify(title)}-{self.spec.seed}-{c}"
            description = " ".join(
                s.format(topic=topic) for s in rng.sample(DESCRIPTION_SENTENCES, 3)
            )
            published_us = randrange(30 * DAY, 300 * DAY)
            created_us = published_us - randrange(HOUR, 20 * DAY)
            cid, created, published = make(created_us), _at(created_us), _at(published_us)
            price = choice(PRICES)
            currency = "EUR" if rand() < 0.2 else "USD"
            difficulty = choice(DIFFICULTIES)
            chunk["courses"].append(
                (cid, created, published, title, slug, description, instructor_id, price,
                 currency, difficulty, "published", published, True)
            )  # fmt: skip
            tags = [topic_tag, *rng.sample(EXTRA_TAGS, randrange(0, extra_per_course + 1))]
            tag_ids = [self.tag_ids[t] for t in tags]
            chunk["course_tags"].extend((cid, tid) for tid in tag_ids)
            sid = make(created_us)
            section_title = choice(SECTION_TITLES)
            chunk["sections"].append((sid, created, created, cid, section_title, 0))
            videos = []
            for position in range(self.spec.videos_per_course + randrange(0, 3)):
                lesson = choice(VIDEO_TOPICS)
                vid = make(created_us)
                duration = randrange(120, 1500)
                url = f"https://videos.example.com/{slug}/{position + 1}.mp4"
                transcript = " ".join(
                    s.format(topic=topic, lesson=lesson.lower())
                    for s in rng.sample(TRANSCRIPT_SENTENCES, 3)
                )
                video_title = f"{position + 1}. {lesson}"
                chunk["videos"].append(
                    (vid, created, created, cid, sid, video_title, url, duration, position,
                     transcript, False)
                )  # fmt: skip
                videos.append((vid, duration))
                if audit:
                    self._audit(
                        audit_rows, make(created_us), created, "video", vid,
                        self._changes({
                            "id": vid, "course_id": cid, "section_id": sid, "title": video_title,
                            "url": url, "duration_seconds": duration, "position": position,
                            "transcript": transcript, "is_preview": False,
                        }),
                    )  # fmt: skip
            self.courses.append(_Course(cid, published_us, videos))
            if audit:
                self._audit(
                    audit_rows, make(created_us), created, "course", cid,
                    self._changes({
                        "id": cid, "title": title, "slug": slug, "description": description,
                        "instructor_id": instructor_id, "price_amount": str(price),
                        "price_currency": currency, "difficulty": difficulty,
                        "status": "published", "published_at": published.isoformat(),
                        "tutor_enabled": True, "tags": tag_ids,
                    }),
                )  # fmt: skip
                self._audit(
                    audit_rows,
                    make(created_us),
                    created,
                    "section",
                    sid,
                    self._changes(
                        {"id": sid, "course_id": cid, "title": section_title, "position": 0}
                    ),
                )
        return chunk

    # -- learners --------------------------------------------------------------------------

    def student_chunks(self) -> Iterator[Callable[[], Chunk]]:
        """Chunk makers (called in order, possibly in a worker thread)."""
        spec = self.spec
        for k, start in enumerate(range(0, spec.students, spec.batch_size)):
            stop = min(spec.students, start + spec.batch_size)
            yield functools.partial(self._student_chunk, k, start, stop)

    def _student_chunk(self, k: int, start: int, stop: int) -> Chunk:
        spec = self.spec
        rng = self._rng("students", k)
        make = _id_maker(rng)
        rand, choice, choices = rng.random, rng.choice, rng.choices
        at = _at
        chunk: Chunk = {
            name: []
            for name in ("users", "user_roles", "learner_stats", "enrollments", "video_progress",
                         "video_progress_segments", "reviews", "audit_log")
        }  # fmt: skip
        users_chunk = {"users": chunk["users"], "user_roles": chunk["user_roles"]}
        users_chunk["audit_log"] = chunk["audit_log"]
        enrollments, progress_rows = chunk["enrollments"], chunk["video_progress"]
        segments, reviews, stats = (
            chunk["video_progress_segments"], chunk["reviews"], chunk["learner_stats"]
        )  # fmt: skip
        audit_rows = chunk["audit_log"]
        audit = spec.audit
        request_id, tx = self._audit_prefix
        courses, enrolled_counts, histogram = self.courses, self.enrolled, self.histogram
        n_courses, per_user = len(courses), spec.enrollments_per_user
        per_enrollment, ratio = spec.progress_per_enrollment, spec.completion_ratio
        reviews_ratio, stars_choices = spec.reviews_ratio, (1, 2, 3, 4, 5)
        seed = spec.seed
        for j in range(start, stop):
            user_us = int(rand() * 330 * DAY)
            name = f"{choice(FIRST_NAMES)} {choice(LAST_NAMES)}"
            uid = self._user(
                users_chunk, make, user_us, f"student-{j}@seed{seed}.example.com", name, STUDENT
            )
            if not per_user:
                continue
            if per_user * 2 > n_courses:
                picks = rng.sample(range(n_courses), per_user)
            else:
                chosen: set[int] = set()
                while len(chosen) < per_user:  # popular courses first: a skewed choice
                    chosen.add(int(n_courses * rand() * rand()))
                picks = sorted(chosen)
            in_course = completed_courses = completed_videos = 0
            last_activity = user_us
            for c in picks:
                course = courses[c]
                cid = course.id
                enrolled_us = max(user_us, course.published_us) + HOUR + int(rand() * 19 * DAY)
                eid = make(enrolled_us)
                enrolled_at = at(enrolled_us)
                videos = course.videos
                t = enrolled_us
                done = 0
                last_done = 0
                for vid, duration in videos[:per_enrollment]:
                    t += MINUTE + int(rand() * 3 * DAY)
                    created_us = t
                    pid = make(created_us)
                    if rand() < COMPLETE_SHARE:
                        if rand() < 0.7:
                            watched = duration
                        else:
                            low = math.ceil(ratio * duration)
                            watched = low + int(rand() * (duration + 1 - low))
                        segments.append((pid, 0.0, float(watched)))
                        position = watched
                    else:
                        watched = 1 + int(rand() * (math.ceil(ratio * duration) - 1))
                        if watched >= 20 and rand() < 0.3:
                            first = 1 + int(rand() * (watched - 1))
                            gap = 1 + int(rand() * (duration - watched))
                            end = first + gap + watched - first
                            segments.append((pid, 0.0, float(first)))
                            segments.append((pid, float(first + gap), float(end)))
                            position = end
                        else:
                            segments.append((pid, 0.0, float(watched)))
                            position = watched
                    t += watched * SECOND + int(rand() * 10 * MINUTE)
                    beat = at(t)
                    created = at(created_us)
                    if watched >= ratio * duration:
                        done += 1
                        last_done = t
                        progress_rows.append(
                            (pid, created, beat, uid, vid, cid, float(position), float(watched),
                             True, beat, beat)
                        )  # fmt: skip
                        if audit:
                            audit_rows.append((
                                make(created_us), created, request_id, tx, "video_progress", pid,
                                "create",
                                f'{{"id": [null, "{pid}"], "user_id": [null, "{uid}"], '
                                f'"video_id": [null, "{vid}"], "course_id": [null, "{cid}"], '
                                f'"completed": [null, true], '
                                f'"completed_at": [null, "{beat.isoformat()}"]}}',
                            ))  # fmt: skip
                    else:
                        progress_rows.append(
                            (pid, created, beat, uid, vid, cid, float(position), float(watched),
                             False, None, beat)
                        )  # fmt: skip
                        if audit:
                            audit_rows.append((
                                make(created_us), created, request_id, tx, "video_progress", pid,
                                "create",
                                f'{{"id": [null, "{pid}"], "user_id": [null, "{uid}"], '
                                f'"video_id": [null, "{vid}"], "course_id": [null, "{cid}"], '
                                f'"completed": [null, false]}}',
                            ))  # fmt: skip
                completed_at = cancelled_at = None
                updated_us = max(enrolled_us, last_done)
                if done == len(videos):
                    status = "completed"
                    completed_at = at(last_done)
                elif rand() < CANCEL_SHARE:
                    status = "cancelled"
                    t += HOUR + int(rand() * 9 * DAY)
                    updated_us = t
                    cancelled_at = at(t)
                else:
                    status = "active"
                enrollments.append(
                    (eid, enrolled_at, at(updated_us), uid, cid, status, enrolled_at,
                     completed_at, cancelled_at, done, 0)
                )  # fmt: skip
                if audit:
                    extra = ""
                    if completed_at is not None:
                        extra = f', "completed_at": [null, "{completed_at.isoformat()}"]'
                    elif cancelled_at is not None:
                        extra = f', "cancelled_at": [null, "{cancelled_at.isoformat()}"]'
                    audit_rows.append((
                        make(enrolled_us), enrolled_at, request_id, tx, "enrollment", eid,
                        "create",
                        f'{{"id": [null, "{eid}"], "user_id": [null, "{uid}"], '
                        f'"course_id": [null, "{cid}"], "status": [null, "{status}"], '
                        f'"enrolled_at": [null, "{enrolled_at.isoformat()}"]{extra}}}',
                    ))  # fmt: skip
                completed_videos += done
                last_activity = max(last_activity, t)
                if status == "cancelled":
                    continue
                in_course += 1
                completed_courses += status == "completed"
                enrolled_counts[c] += 1
                if rand() < reviews_ratio:
                    stars = choices(stars_choices, RATING_WEIGHTS)[0]
                    review_status = "hidden" if rand() < HIDDEN_SHARE else "published"
                    if review_status == "published":
                        histogram[c][stars - 1] += 1
                    review_us = t + HOUR + int(rand() * 4 * DAY)
                    rid, review_at = make(review_us), at(review_us)
                    body = choice(REVIEW_BODIES[stars])
                    reviews.append(
                        (rid, review_at, review_at, uid, cid, stars, body, review_status)
                    )
                    if audit:
                        audit_rows.append((
                            make(review_us), review_at, request_id, tx, "review", rid, "create",
                            f'{{"id": [null, "{rid}"], "user_id": [null, "{uid}"], '
                            f'"course_id": [null, "{cid}"], "rating": [null, {stars}], '
                            f'"body": [null, "{body}"], "status": [null, "{review_status}"]}}',
                        ))  # fmt: skip
            stats.append(
                (make(last_activity), uid, in_course, completed_courses, completed_videos, 0,
                 at(last_activity), at(last_activity + SECOND))
            )  # fmt: skip
        return chunk

    def course_counters(self) -> list[Row]:
        """(id, enrollment_count, rating, rating_count, rating_1_count .. rating_5_count) of
        every course with a non-zero value."""
        rows = []
        for course, enrolled, histogram in zip(
            self.courses, self.enrolled, self.histogram, strict=True
        ):
            if enrolled or any(histogram):
                rows.append((course.id, enrolled, _rating(histogram), sum(histogram), *histogram))
        return rows


async def seed(
    engine: AsyncEngine, spec: SeedSpec, on_progress: Progress | None = None
) -> SeedReport:
    """Generate and load everything `spec` asks for in one transaction (all or nothing)."""
    spec.validate()
    report = SeedReport()
    started = time.perf_counter()
    progress = on_progress or (lambda _table, _rows: None)
    async with engine.connect() as connection:
        loader = BulkLoader(connection)
        await loader.start()
        populated = await loader.count_rows(ENTITY_TABLES)
        role_ids = await loader.ids_by_name("roles", [INSTRUCTOR, STUDENT])
        if set(role_ids) != {INSTRUCTOR, STUDENT}:
            raise InvalidValue("the built-in roles are missing: run `learnhub db upgrade` first")
        tag_names = sorted({tag for _, tag in TOPICS} | set(EXTRA_TAGS))
        generator = SeedGenerator(spec, role_ids, await loader.ids_by_name("tags", tag_names))

        indexes: list[str] = []
        if not any(populated.values()):
            # An empty database: build secondary indexes once at the end instead of row by row.
            phase = time.perf_counter()
            indexes = await loader.drop_secondary_indexes(TABLES)
            report.dropped_indexes = len(indexes)
            report.phases["drop indexes"] = time.perf_counter() - phase

        async def write(chunk: Chunk) -> None:
            for table in TABLES:
                rows = chunk.get(table)
                if rows:
                    began = time.perf_counter()
                    await loader.write(table, TABLE_COLUMNS[table], rows)
                    report.write_seconds[table] += time.perf_counter() - began
                    report.rows[table] += len(rows)
                    progress(table, len(rows))

        phase = time.perf_counter()
        await write(generator.tags_chunk())
        await write(generator.instructors_chunk())
        for chunk in generator.course_chunks():
            await write(chunk)
        report.phases["catalog"] = time.perf_counter() - phase

        phase = time.perf_counter()
        makers = iter(list(generator.student_chunks()))
        pending = next(makers, None)
        upcoming = asyncio.create_task(asyncio.to_thread(pending)) if pending else None
        while upcoming is not None:
            chunk = await upcoming
            following = next(makers, None)
            # The next chunk is generated while this one is written.
            upcoming = asyncio.create_task(asyncio.to_thread(following)) if following else None
            await write(chunk)
        report.phases["learners"] = time.perf_counter() - phase

        phase = time.perf_counter()
        await loader.set_course_counters(generator.course_counters())
        report.phases["course counters"] = time.perf_counter() - phase
        if indexes:
            phase = time.perf_counter()
            for definition in indexes:
                await loader.create_index(definition)
                progress("indexes", 1)
            report.phases["build indexes"] = time.perf_counter() - phase
        phase = time.perf_counter()
        await loader.analyze(TABLES)
        report.phases["analyze"] = time.perf_counter() - phase
        phase = time.perf_counter()
        await connection.commit()
        report.phases["commit"] = time.perf_counter() - phase
    report.seconds = time.perf_counter() - started
    return report
