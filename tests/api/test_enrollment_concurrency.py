"""Enrolment and progress races through the HTTP API, with real commits on separate
PostgreSQL connections (`committed_client`): duplicates are refused with 409 (never a 500
and never a second row), `enrollment_count` stays exact, and concurrent heartbeats of one
learner never count a second twice."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from learnhub.domain.progress import merge_segments
from learnhub.models import Course, OutboxMessage
from learnhub.models.learning import Enrollment, VideoProgress, WatchedSegment
from tests.api.conftest import Account, FakeClock, create_account, login
from tests.api.test_courses import (
    API,
    add_section,
    add_video,
    course_url,
    create_course,
    publish,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("fast_password_hashing")]

USERS = 20
# 5 users send one request, 5 send two, 5 three and 5 four: 50 requests in all.
REQUESTS_PER_USER = [1] * 5 + [2] * 5 + [3] * 5 + [4] * 5


async def accounts(
    client: httpx.AsyncClient, engine: AsyncEngine, role: str, n: int
) -> list[Account]:
    factory = create_session_factory(engine)
    emails = [await create_account(factory, role) for _ in range(n)]
    return list(await asyncio.gather(*(login(client, e) for e in emails)))


async def published_course(
    client: httpx.AsyncClient, instructor: Account, duration: int = 600
) -> tuple[dict, dict]:
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"], duration_seconds=duration)
    return await publish(client, instructor, course["id"]), video


def histogram(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(sorted(Counter(r.status_code for r in responses).items()))


async def test_concurrent_enrolments_leave_one_row_per_learner_and_an_exact_count(
    committed_client, committed_engine
):
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    students = await accounts(committed_client, committed_engine, "student", USERS)
    course, _ = await published_course(committed_client, instructor)
    url = course_url(course["id"], "/enrollments")

    senders = [s for s, n in zip(students, REQUESTS_PER_USER, strict=True) for _ in range(n)]
    random.Random(7).shuffle(senders)
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(committed_client.post(url, headers=s.headers) for s in senders)
    )
    duration = time.perf_counter() - started

    statuses = histogram(list(responses))
    cid = uuid.UUID(course["id"])
    async with committed_engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Enrollment.user_id, func.count())
                .where(Enrollment.course_id == cid)
                .group_by(Enrollment.user_id)
            )
        ).all()
        stored_count = (
            await conn.execute(select(Course.enrollment_count).where(Course.id == cid))
        ).scalar_one()
        enrolled_events = (
            await conn.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.aggregate_id == cid, OutboxMessage.event_type == "UserEnrolled"
                )
            )
        ).scalar_one()
    final_rows = sum(n for _, n in rows)
    figures = (
        f"{len(senders)} requests from {USERS} users in {duration:.2f}s; "
        f"statuses {statuses}; {final_rows} enrollment rows; enrollment_count {stored_count}; "
        f"{enrolled_events} UserEnrolled events"
    )
    print(figures)

    assert len(senders) == 50
    assert statuses == {201: USERS, 409: len(senders) - USERS}, figures
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "conflict", response.text
    winners = Counter(
        r.json()["user_id"] for r in responses if r.status_code == 201
    )  # one 201 per learner
    assert sorted(winners) == sorted(s.id for s in students), figures
    assert set(winners.values()) == {1}, figures
    assert final_rows == USERS and {n for _, n in rows} == {1}, figures
    assert {str(u) for u, _ in rows} == {s.id for s in students}, figures
    assert stored_count == USERS, figures
    assert enrolled_events == USERS, figures
    detail = await committed_client.get(course_url(course["id"]))
    assert detail.json()["enrollment_count"] == USERS, figures


async def test_concurrent_heartbeats_never_count_a_second_twice(
    committed_app, committed_client, committed_engine
):
    # Round 1 at the first heartbeat's instant (10 s of budget), round 2 an hour later.
    clock = committed_app.state.clock = FakeClock(datetime.now(UTC))
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    (student,) = await accounts(committed_client, committed_engine, "student", 1)
    course, video = await published_course(committed_client, instructor)
    enrolled = await committed_client.post(
        course_url(course["id"], "/enrollments"), headers=student.headers
    )
    assert enrolled.status_code == 201, enrolled.text
    url = f"{API}/videos/{video['id']}/progress"

    async def burst(offset: float) -> tuple[list[httpx.Response], list[list[float]], float]:
        """10 heartbeats at once, each 6 s long and overlapping its neighbours by 3 s: the
        stored union must end up exactly their union, whatever the interleaving."""
        played = [[offset + 3.0 * i, offset + 3.0 * i + 6.0] for i in range(10)]
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(
                committed_client.put(
                    url,
                    headers=student.headers,
                    json={"position_seconds": segment[1], "played_segments": [segment]},
                )
                for segment in played
            )
        )
        return list(responses), played, time.perf_counter() - started

    async def stored() -> tuple[float, float, list[tuple[float, float]]]:
        async with committed_engine.connect() as conn:
            progress = (
                await conn.execute(
                    select(
                        VideoProgress.id,
                        VideoProgress.watched_seconds,
                        VideoProgress.claimed_seconds,
                    ).where(
                        VideoProgress.user_id == uuid.UUID(student.id),
                        VideoProgress.video_id == uuid.UUID(video["id"]),
                    )
                )
            ).all()
            assert len(progress) == 1, progress
            segments = (
                await conn.execute(
                    select(WatchedSegment.start_seconds, WatchedSegment.end_seconds)
                    .where(WatchedSegment.progress_id == progress[0][0])
                    .order_by(WatchedSegment.start_seconds)
                )
            ).all()
        watched, claimed = float(progress[0][1]), float(progress[0][2])
        return watched, claimed, [(float(s), float(e)) for s, e in segments]

    credited: list[list[float]] = []
    report = []
    # Round 1 races to create the progress row (409 is acceptable for a lost race);
    # round 2 hits the existing row, where the row lock must serialise every heartbeat.
    for round_no, offset in ((1, 0.0), (2, 100.0)):
        if round_no == 2:
            clock.advance(3600)
        responses, played, duration = await burst(offset)
        statuses = histogram(responses)
        credited += [p for p, r in zip(played, responses, strict=True) if r.status_code == 200]
        watched, claimed, segments = await stored()
        union = merge_segments([(s, e) for s, e in credited])
        expected = sum(e - s for s, e in union)
        budget = 10.0 if round_no == 1 else 2 * 3600 + 10.0
        figures = (
            f"round {round_no}: 10 heartbeats in {duration:.2f}s, statuses {statuses}, "
            f"watched_seconds {watched}, stored union {segments}, expected union {union} "
            f"({expected} s)"
        )
        report.append(figures)
        print(figures)
        assert set(statuses) <= {200, 409}, figures
        for r in responses:
            if r.status_code == 409:
                assert r.json()["code"] == "conflict", r.text
        if round_no == 2:
            assert statuses == {200: 10}, figures
        assert statuses.get(200, 0) >= 1, figures
        assert claimed == pytest.approx(sum(e - s for s, e in segments), abs=1e-3), figures
        assert claimed == pytest.approx(expected, abs=1e-3), figures
        assert watched == pytest.approx(min(expected, budget), abs=1e-3), figures
        assert len(segments) == len(union), figures
        assert [x for seg in segments for x in seg] == pytest.approx(
            [x for seg in union for x in seg]
        ), figures
        best = max(r.json()["watched_seconds"] for r in responses if r.status_code == 200)
        assert best == pytest.approx(watched, abs=1e-3), figures
    print("; ".join(report))


async def test_concurrent_batches_of_one_learner_create_each_row_once(
    committed_client, committed_engine
):
    """Eight syncs at once from one learner, over the same three new videos in different
    orders: the first ones race to create the rows, every sync succeeds (the loser of an
    insert race reads the winner's row; locks are taken in video order, so no deadlock),
    and one row per video remains."""
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    (student,) = await accounts(committed_client, committed_engine, "student", 1)
    course = await create_course(committed_client, instructor)
    section = await add_section(committed_client, instructor, course["id"])
    videos = [
        await add_video(committed_client, instructor, section["id"], duration_seconds=600)
        for _ in range(3)
    ]
    await publish(committed_client, instructor, course["id"])
    enrolled = await committed_client.post(
        course_url(course["id"], "/enrollments"), headers=student.headers
    )
    assert enrolled.status_code == 201, enrolled.text

    def sync(order: list[dict]) -> dict:
        beats = [{"video_id": v["id"], "position_seconds": 4, "watched_seconds": 4} for v in order]
        return {"heartbeats": beats}

    orders = [random.Random(n).sample(videos, 3) for n in range(8)]
    responses = await asyncio.gather(
        *(
            committed_client.post(
                f"{API}/progress/heartbeats", headers=student.headers, json=sync(o)
            )
            for o in orders
        )
    )
    assert histogram(list(responses)) == {200: 8}, [r.text for r in responses]
    async with committed_engine.connect() as conn:
        rows = (
            await conn.execute(
                select(VideoProgress.video_id, func.count())
                .where(VideoProgress.user_id == uuid.UUID(student.id))
                .group_by(VideoProgress.video_id)
            )
        ).all()
    assert sorted((str(v), n) for v, n in rows) == sorted((v["id"], 1) for v in videos)
