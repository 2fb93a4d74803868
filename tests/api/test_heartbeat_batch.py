"""POST /progress/heartbeats: a player's buffered heartbeats synced at once, on both databases.
Beats follow a single heartbeat's rules (a video's credit within its one real-time budget,
which a batch's beats share; never backwards; completion exactly once), the batch is all or
nothing, and it costs the statements of one heartbeat, not one round of statements per beat."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Account, assert_problem
from tests.api.test_learning import (
    course_progress,
    enrol,
    event_types,
    heartbeat,
    rewind,
    stored_segments,
    video_course,
)
from tests.api.test_query_counts import Statements, listing

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

URL = "/api/v1/progress/heartbeats"


async def sync(
    client: httpx.AsyncClient, account: Account, *beats: dict[str, Any]
) -> httpx.Response:
    return await client.post(URL, headers=account.headers, json={"heartbeats": list(beats)})


def by_video(response: httpx.Response) -> dict[str, dict]:
    assert response.status_code == 200, response.text
    return {item["video_id"]: item for item in response.json()["items"]}


async def test_beats_apply_in_order_with_the_single_heartbeat_rules(client, login_as, session):
    instructor, learner = await login_as("instructor"), await login_as("student")
    course, (first, second) = await video_course(client, instructor, durations=(100, 300))
    await enrol(client, learner, course["id"])

    response = await sync(
        client,
        learner,
        {"video_id": first["id"], "position_seconds": 8, "watched_seconds": 8},
        {"video_id": second["id"], "position_seconds": 250, "played_segments": [[0, 250]]},
        # The same video again: the batch shares one budget per video, no more.
        {"video_id": first["id"], "position_seconds": 60, "watched_seconds": 60},
    )
    progress = by_video(response)
    assert list(progress) == [first["id"], second["id"]]  # first-seen order
    assert progress[first["id"]]["watched_seconds"] == 10.0  # a first heartbeat's 10 s
    assert progress[first["id"]]["position_seconds"] == 60.0
    # Seeking far ahead earns only the budget (10 s on a first heartbeat); the claim is kept.
    assert progress[second["id"]]["watched_seconds"] == 10.0
    assert await stored_segments(session, learner, second["id"]) == [(0.0, 250.0)]

    # A buffer synced an hour later: the stale beat lowers nothing, the others are credited
    # within the hour's budget and complete the video, once.
    await rewind(session, learner, first["id"], 3600)
    response = await sync(
        client,
        learner,
        {"video_id": first["id"], "position_seconds": 5, "watched_seconds": 5},
        {"video_id": first["id"], "position_seconds": 95, "watched_seconds": 95},
        {"video_id": first["id"], "position_seconds": 100, "watched_seconds": 100},
    )
    done = by_video(response)[first["id"]]
    assert done["watched_seconds"] == 100.0 and done["completed"] is True
    assert (await course_progress(client, learner, course["id"]))["completed_items"] == 1
    assert (await event_types(session, course["id"])).count("VideoCompleted") == 1


async def test_a_batch_is_all_or_nothing(client, login_as, session):
    instructor, learner = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor)
    _other, (elsewhere,) = await video_course(client, instructor)
    await enrol(client, learner, course["id"])
    before = await heartbeat(client, learner, video["id"], position_seconds=4, watched_seconds=4)
    await rewind(session, learner, video["id"], 600)

    refused = await sync(
        client,
        learner,
        {"video_id": video["id"], "position_seconds": 50, "watched_seconds": 50},
        {"video_id": elsewhere["id"], "position_seconds": 5, "watched_seconds": 5},
    )
    assert_problem(refused, 403, "not_enrolled")
    # Not even the first beat was kept.
    after = await heartbeat(client, learner, video["id"], position_seconds=4, watched_seconds=4)
    assert after["watched_seconds"] == before["watched_seconds"] == 4.0

    missing = await sync(
        client,
        learner,
        {"video_id": video["id"], "position_seconds": 1, "watched_seconds": 1},
        {"video_id": "00000000-0000-4000-8000-000000000000", "position_seconds": 1},
    )
    assert_problem(missing, 404, "not_found")
    bad_segment = await sync(
        client,
        learner,
        {"video_id": video["id"], "position_seconds": 1, "played_segments": [[200, 300]]},
    )
    assert bad_segment.status_code == 422, bad_segment.text


@pytest.mark.parametrize("count", [0, 101])
async def test_an_empty_or_oversized_batch_is_refused(client, login_as, count):
    learner = await login_as("student")
    beat = {"video_id": "00000000-0000-4000-8000-000000000000", "position_seconds": 1}
    response = await sync(client, learner, *([beat] * count))
    assert_problem(response, 422, "validation_error")


async def test_anonymous_callers_are_refused(client):
    response = await client.post(URL, json={"heartbeats": []})
    assert_problem(response, 401, "unauthorized")


async def test_many_beats_cost_the_statements_of_one(client, login_as, connection):
    instructor, learner = await login_as("instructor"), await login_as("student")
    course, videos = await video_course(client, instructor, durations=(100, 100, 100))
    await enrol(client, learner, course["id"])
    beats = [
        {"video_id": v["id"], "position_seconds": n, "watched_seconds": n}
        for n in range(1, 8)
        for v in videos
    ]
    # The first sync inserts the three rows (one INSERT) and audits them (one INSERT).
    with Statements(connection) as created:
        by_video(await sync(client, learner, *beats[:3]))
    with Statements(connection) as one_each:
        by_video(await sync(client, learner, *beats[:3]))
    with Statements(connection) as many:
        by_video(await sync(client, learner, *beats))
    # The principal, the targets, the locked progress rows, then the UPDATEs: at most one
    # per video (SQLAlchemy batches rows whose changed columns are the same), never one per
    # beat.
    updates = [s for s in many.serving if s.startswith("UPDATE video_progress")]
    assert 1 <= len(updates) <= len(videos), listing(many.serving)
    assert len(many.serving) == 3 + len(updates), listing(many.serving)
    assert len(many.serving) <= len(one_each.serving), listing(one_each.serving)
    inserts = [s for s in created.serving if s.startswith("INSERT")]
    assert len(inserts) == 2, listing(created.serving)  # the rows, their audit entries
