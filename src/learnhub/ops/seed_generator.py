"""`learnhub seed`: the catalog's rows (tags, instructors, courses with their section and
videos) and the derived course counters; the learners' rows come from `seed_learners`.

Every chunk has its own `random.Random` derived from the seed, so the same seed always gives
the same rows, ids included. Each entity gets the `create` audit entry the unit of work would
have written, built by the flush hook's row builder (`db.audit`)."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper

from learnhub.db.audit import build_audit_row, creation_changes, entity_type_of
from learnhub.domain.course_rules import slugify
from learnhub.domain.enums import AuditAction
from learnhub.domain.permissions import INSTRUCTOR
from learnhub.models.base import BaseModel
from learnhub.models.course import Course, Section, Tag, Video
from learnhub.models.user import User
from learnhub.ops.bulk_load import Row
from learnhub.ops.seed_spec import (
    DAY,
    DIFFICULTIES,
    HOUR,
    PRICES,
    SEED_PASSWORD_HASH,
    TABLE_COLUMNS,
    Chunk,
    SeededCourse,
    SeedSpec,
    id_maker,
    rating,
    time_at,
)
from learnhub.ops.seed_words import (
    DESCRIPTION_SENTENCES,
    EXTRA_TAGS,
    FIRST_NAMES,
    LAST_NAMES,
    SECTION_TITLES,
    TITLE_PREFIXES,
    TITLE_SUFFIXES,
    TOPICS,
    TRANSCRIPT_SENTENCES,
    VIDEO_TOPICS,
)


@functools.cache
def _mapper(model: type[BaseModel]) -> Mapper[Any]:
    # Looked up once per model: the seeder builds an audit row for every generated entity.
    return inspect(model)


class SeedGenerator:
    """Generates the rows chunk by chunk; every chunk has its own seeded random generator, so
    the output does not depend on how chunks are scheduled."""

    def __init__(self, spec: SeedSpec, role_ids: dict[str, str], tag_ids: dict[str, str]):
        self.spec = spec
        self.role_ids = role_ids
        self.existing_tags = tag_ids
        self.tag_ids: dict[str, str] = {}
        self.courses: list[SeededCourse] = []
        self.instructor_ids: list[tuple[str, int]] = []
        n = spec.courses
        self.enrolled = [0] * n
        self.histogram = [[0] * 5 for _ in range(n)]
        tx = random.Random(f"{spec.seed}:transaction")
        self.transaction_id = id_maker(tx)(0)
        self.audit_prefix = (spec.request_id, self.transaction_id)

    def rng(self, part: str, index: int = 0) -> random.Random:
        return random.Random(f"{self.spec.seed}:{part}:{index}")

    def audit(
        self,
        rows: list[Row],
        audit_id: str,
        at: datetime,
        model: type[BaseModel],
        entity_id: str,
        values: dict[str, Any],
    ) -> None:
        """The `create` entry the unit of work's flush hook would have written for the row,
        built by the same row builder (actor NULL: the system)."""
        mapper = _mapper(model)
        request_id, tx = self.audit_prefix
        row = build_audit_row(
            row_id=audit_id,
            occurred_at=at,
            entity_type=entity_type_of(mapper),
            entity_id=entity_id,
            action=AuditAction.CREATE,
            changes=creation_changes(mapper, values),
            transaction_id=tx,
            request_id=request_id,
        )
        row["action"] = row["action"].value
        row["changes"] = json.dumps(row["changes"])
        rows.append(tuple(row[column] for column in TABLE_COLUMNS["audit_log"]))

    # -- catalog ---------------------------------------------------------------------------

    def tags_chunk(self) -> Chunk:
        rng = self.rng("tags")
        make = id_maker(rng)
        names = sorted({tag for _, tag in TOPICS} | set(EXTRA_TAGS))
        chunk: Chunk = {"tags": [], "audit_log": []}
        for name in names:
            if name in self.existing_tags:
                self.tag_ids[name] = self.existing_tags[name]
                continue
            us = rng.randrange(0, HOUR)
            tid, at = make(us), time_at(us)
            self.tag_ids[name] = tid
            chunk["tags"].append((tid, at, at, name))
            if self.spec.audit:
                self.audit(chunk["audit_log"], make(us), at, Tag, tid, {"id": tid, "name": name})
        return chunk

    def user(
        self, chunk: Chunk, make: Callable[[int], str], us: int, email: str, name: str, role: str
    ) -> str:
        uid, at = make(us), time_at(us)
        role_id = self.role_ids[role]
        chunk["users"].append((uid, at, at, email, name, SEED_PASSWORD_HASH, "active"))
        chunk["user_roles"].append((uid, role_id, at))
        if self.spec.audit:
            values = {
                "id": uid,
                "email": email,
                "display_name": name,
                "password_hash": SEED_PASSWORD_HASH,  # the builder redacts it
                "status": "active",
                "roles": [role_id],
            }
            self.audit(chunk["audit_log"], make(us), at, User, uid, values)
        return uid

    def instructors_chunk(self) -> Chunk:
        rng = self.rng("instructors")
        make = id_maker(rng)
        chunk: Chunk = {"users": [], "user_roles": [], "audit_log": []}
        seed = self.spec.seed
        for i in range(self.spec.instructors):
            us = rng.randrange(HOUR, 10 * DAY)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            email = f"instructor-{i}@seed{seed}.example.com"
            self.instructor_ids.append((self.user(chunk, make, us, email, name, INSTRUCTOR), us))
        return chunk

    def course_chunks(self) -> Iterator[Chunk]:
        spec = self.spec
        for k, start in enumerate(range(0, spec.courses, spec.batch_size)):
            yield self._course_chunk(k, start, min(spec.courses, start + spec.batch_size))

    def _course_chunk(self, k: int, start: int, stop: int) -> Chunk:
        rng = self.rng("courses", k)
        make = id_maker(rng)
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
            cid, created, published = make(created_us), time_at(created_us), time_at(published_us)
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
                    self.audit(
                        audit_rows, make(created_us), created, Video, vid,
                        {"id": vid, "course_id": cid, "section_id": sid, "title": video_title,
                         "url": url, "duration_seconds": duration, "position": position,
                         "transcript": transcript, "is_preview": False},
                    )  # fmt: skip
            self.courses.append(SeededCourse(cid, published_us, videos))
            if audit:
                self.audit(
                    audit_rows, make(created_us), created, Course, cid,
                    {"id": cid, "title": title, "slug": slug, "description": description,
                     "instructor_id": instructor_id, "price_amount": price,
                     "price_currency": currency, "difficulty": difficulty,
                     "status": "published", "published_at": published,
                     "tutor_enabled": True, "tags": tag_ids},
                )  # fmt: skip
                self.audit(
                    audit_rows, make(created_us), created, Section, sid,
                    {"id": sid, "course_id": cid, "title": section_title, "position": 0},
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
                rows.append((course.id, enrolled, rating(histogram), sum(histogram), *histogram))
        return rows
