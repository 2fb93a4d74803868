"""`learnhub seed`: the learners' rows. Each chunk of students gets its own seeded random
generator (see `SeedGenerator`), so the rows do not depend on how chunks are scheduled; popular
courses are picked more often, and progress, completions, cancellations and reviews follow the
shares in `seed_spec`."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator

from learnhub.domain.permissions import STUDENT
from learnhub.models.learning import Enrollment, Review, VideoProgress
from learnhub.ops.seed_generator import SeedGenerator
from learnhub.ops.seed_spec import (
    CANCEL_SHARE,
    COMPLETE_SHARE,
    DAY,
    HIDDEN_SHARE,
    HOUR,
    MINUTE,
    SECOND,
    Chunk,
    id_maker,
    time_at,
)
from learnhub.ops.seed_words import FIRST_NAMES, LAST_NAMES, RATING_WEIGHTS, REVIEW_BODIES


def student_chunks(gen: SeedGenerator) -> Iterator[Callable[[], Chunk]]:
    """Chunk makers for every student (called in order, possibly in a worker thread)."""
    spec = gen.spec
    for k, start in enumerate(range(0, spec.students, spec.batch_size)):
        stop = min(spec.students, start + spec.batch_size)
        yield functools.partial(student_chunk, gen, k, start, stop)


def student_chunk(gen: SeedGenerator, k: int, start: int, stop: int) -> Chunk:
    """The rows of students `start` to `stop` (chunk `k`): their accounts, enrolments, video
    progress, reviews and learner stats, with their audit entries."""
    spec = gen.spec
    rng = gen.rng("students", k)
    make = id_maker(rng)
    rand, choice, choices = rng.random, rng.choice, rng.choices
    at = time_at
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
    courses, enrolled_counts, histogram = gen.courses, gen.enrolled, gen.histogram
    n_courses, per_user = len(courses), spec.enrollments_per_user
    per_enrollment, ratio = spec.progress_per_enrollment, spec.completion_ratio
    reviews_ratio, stars_choices = spec.reviews_ratio, (1, 2, 3, 4, 5)
    seed = spec.seed
    for j in range(start, stop):
        user_us = int(rand() * 330 * DAY)
        name = f"{choice(FIRST_NAMES)} {choice(LAST_NAMES)}"
        uid = gen.user(
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
                        gen.audit(
                            audit_rows, make(created_us), created, VideoProgress, pid,
                            {"id": pid, "user_id": uid, "video_id": vid, "course_id": cid,
                             "completed": True, "completed_at": beat},
                        )  # fmt: skip
                else:
                    progress_rows.append(
                        (pid, created, beat, uid, vid, cid, float(position), float(watched),
                         False, None, beat)
                    )  # fmt: skip
                    if audit:
                        gen.audit(
                            audit_rows, make(created_us), created, VideoProgress, pid,
                            {"id": pid, "user_id": uid, "video_id": vid, "course_id": cid,
                             "completed": False},
                        )  # fmt: skip
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
                gen.audit(
                    audit_rows, make(enrolled_us), enrolled_at, Enrollment, eid,
                    {"id": eid, "user_id": uid, "course_id": cid, "status": status,
                     "enrolled_at": enrolled_at, "completed_at": completed_at,
                     "cancelled_at": cancelled_at},
                )  # fmt: skip
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
                reviews.append((rid, review_at, review_at, uid, cid, stars, body, review_status))
                if audit:
                    gen.audit(
                        audit_rows, make(review_us), review_at, Review, rid,
                        {"id": rid, "user_id": uid, "course_id": cid, "rating": stars,
                         "body": body, "status": review_status},
                    )  # fmt: skip
        stats.append(
            (make(last_activity), uid, in_course, completed_courses, completed_videos, 0,
             at(last_activity), at(last_activity + SECOND))
        )  # fmt: skip
    return chunk
