"""The arithmetic behind video progress: `merge_segments` and `covered` (the stored union of
played segments) and `CreditPolicy.budget` / `credit`, which decide how much of it the
server credits.

Properties (hypothesis): the union is sorted, non-overlapping and covers exactly what was
played; whatever heartbeats arrive, credited time never decreases, never exceeds the budget
(`max_playback_rate` x seconds since the first heartbeat + tolerance) unless it was already
higher, is the whole claim once the budget covers it, and an exact replay changes nothing."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnhub.domain.enums import EnrollmentStatus
from learnhub.domain.errors import InvalidValue
from learnhub.domain.progress import (
    CreditPolicy,
    Segment,
    checked_seconds,
    covered,
    credit,
    is_open,
    merge_segments,
    played_segment,
)

EPS = 1e-9
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


# ---- strategies -------------------------------------------------------------------------------


def _segment(start: float, length: float) -> Segment:
    return (start, start + length)


# Player timestamps in tenths of a second (what real clients send: collisions, touching ends)
# and arbitrary floats.
tenths = st.builds(
    lambda s, n: (s / 10, (s + n) / 10),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=1, max_value=600),
)
floats = st.builds(
    _segment,
    st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-3, max_value=60, allow_nan=False, allow_infinity=False),
)
segments = st.one_of(tenths, floats)
segment_lists = st.lists(segments, max_size=8)
played_lists = st.lists(segments, min_size=1, max_size=6)
# Heartbeats: seconds after the previous one (0: back to back) and what they claim.
beat_lists = st.lists(
    st.tuples(st.floats(min_value=0, max_value=60, allow_nan=False), played_lists),
    min_size=1,
    max_size=30,
)


# ---- helpers ----------------------------------------------------------------------------------


def is_normalised(union: Sequence[Segment]) -> bool:
    """Sorted, each interval of positive length, neighbours strictly apart (touching join)."""
    return all(s < e for s, e in union) and all(
        union[i][1] < union[i + 1][0] for i in range(len(union) - 1)
    )


def uncovered(union: Sequence[Segment], start: float, end: float) -> float:
    """How much of [start, end) the (merged) union misses."""
    return covered(merge_segments([*union, (start, end)])) - covered(merge_segments(union))


def inside(inner: Sequence[Segment], outer: Sequence[Segment]) -> bool:
    """Every point of `inner` lies in `outer` (up to float noise)."""
    merged = merge_segments(list(outer))
    return all(uncovered(merged, s, e) <= EPS for s, e in inner)


# ---- covered ----------------------------------------------------------------------------------


def test_covered_sums_lengths():
    assert covered([]) == 0
    assert covered([(0.0, 10.0)]) == 10
    assert covered([(0.0, 1.5), (3.0, 4.0), (10.0, 10.25)]) == 2.75


# ---- merge_segments ---------------------------------------------------------------------------


def test_merge_examples():
    assert merge_segments([]) == []
    assert merge_segments([(5.0, 6.0)]) == [(5.0, 6.0)]
    assert merge_segments([(3.0, 4.0), (0.0, 1.0)]) == [(0.0, 1.0), (3.0, 4.0)]
    assert merge_segments([(0.0, 1.0), (1.0, 2.0)]) == [(0.0, 2.0)]  # touching intervals join
    assert merge_segments([(0.0, 10.0), (2.0, 3.0)]) == [(0.0, 10.0)]  # contained
    assert merge_segments([(0.0, 5.0), (4.0, 8.0), (8.0, 9.0), (20.0, 21.0)]) == [
        (0.0, 9.0),
        (20.0, 21.0),
    ]
    assert merge_segments([(0.0, 5.0), (0.0, 5.0)]) == [(0.0, 5.0)]  # a replay


def test_merge_does_not_modify_its_input():
    given_segments = [(4.0, 8.0), (0.0, 5.0)]
    merge_segments(given_segments)
    assert given_segments == [(4.0, 8.0), (0.0, 5.0)]


@given(segment_lists)
def test_merge_is_normalised_and_covers_exactly_its_input(items):
    merged = merge_segments(items)
    assert is_normalised(merged)
    assert inside(items, merged)
    assert inside(merged, items)
    assert covered(merged) <= covered(items) + EPS


@given(segment_lists, st.randoms(use_true_random=False))
def test_merge_is_idempotent_and_order_independent(items, rnd: random.Random):
    merged = merge_segments(items)
    assert merge_segments(merged) == merged
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert merge_segments(shuffled) == merged


# ---- the budget and the credit ----------------------------------------------------------------


def test_the_budget_grows_with_the_clock_from_the_first_heartbeat():
    policy = CreditPolicy()
    assert policy.budget(T0, T0) == 10.0  # a first heartbeat: the tolerance
    assert policy.budget(T0, T0 + timedelta(seconds=60)) == 130.0
    assert policy.budget(T0, T0 + timedelta(seconds=300)) == 610.0
    assert policy.budget(T0, T0 - timedelta(seconds=60)) == 10.0  # a clock that went back
    assert policy.budget(T0, T0 + timedelta(microseconds=1234)) == 10.002  # ms, rounded down
    assert policy.budget(T0, T0 + timedelta(seconds=265.2)) == 540.4  # not 540.399
    custom = CreditPolicy(max_playback_rate=1.5, tolerance_seconds=0)
    assert custom.budget(T0, T0 + timedelta(seconds=100)) == 150.0
    # A simple client's window since its previous heartbeat is the same formula.
    assert policy.window(None, T0) == 10.0
    assert policy.window(T0, T0 + timedelta(seconds=10)) == 30.0


@pytest.mark.parametrize(
    "values",
    [
        {"completion_ratio": 0},
        {"completion_ratio": 1.5},
        {"max_playback_rate": 0.5},
        {"tolerance_seconds": -1},
    ],
)
def test_a_policy_out_of_range_is_refused(values):
    with pytest.raises(InvalidValue):
        CreditPolicy(**values)


def test_credit_examples():
    assert credit(0.0, 30.0, 10.0) == 10.0  # capped by the budget
    assert credit(10.0, 30.0, 50.0) == 30.0  # the whole claim once covered
    assert credit(40.0, 30.0, 50.0) == 40.0  # never backwards
    assert credit(40.0, 100.0, 20.0) == 40.0  # nor when the budget is below (older rows)
    assert credit(0.0, 89.90000000000001, 100.0) == 89.9  # to the millisecond


@given(beat_lists)
def test_credit_never_exceeds_the_budget_never_decreases_and_catches_up(beats):
    """Heartbeats at any rhythm, claiming anything: the credited time follows
    min(union, budget) exactly, so it is bounded by real time and, once the budget
    covers the union, all of it."""
    policy, now, union, watched = CreditPolicy(), T0, [], 0.0
    for gap, played in beats:
        now += timedelta(seconds=gap)
        union = merge_segments([*union, *played])
        budget = policy.budget(T0, now)
        before, watched = watched, credit(watched, covered(union), budget)
        assert watched >= before
        assert watched <= budget + EPS
        assert watched == pytest.approx(min(round(covered(union), 3), budget), abs=1e-9)
        # An exact replay (same claim, same instant) changes nothing.
        assert credit(watched, covered(merge_segments([*union, *played])), budget) == watched
    later = policy.budget(T0, now + timedelta(days=1))
    assert credit(watched, covered(union), later) == round(covered(union), 3)


# ---- heartbeat values and enrolment state ---------------------------------------------------


def test_a_played_segment_is_clipped_to_the_video_and_must_move_forwards():
    assert played_segment(10, 500, 300) == (10.0, 300.0)
    for start, end, message in [
        (5, 5, "ends after it starts"),
        (300, 310, "starts after the video ends"),
        (-1, 5, "segment start must be between 0 and one week"),
        (0, float("nan"), "segment end must be between 0 and one week"),
    ]:
        with pytest.raises(InvalidValue, match=message):
            played_segment(start, end, 300)


def test_heartbeat_seconds_are_bounded_and_open_enrolments_are_active_or_completed():
    assert checked_seconds(7 * 24 * 3600, "position_seconds") == 7 * 24 * 3600
    with pytest.raises(InvalidValue, match="position_seconds must be between 0 and one week"):
        checked_seconds(7 * 24 * 3600 + 1, "position_seconds")
    assert {s for s in EnrollmentStatus if is_open(s)} == {
        EnrollmentStatus.ACTIVE,
        EnrollmentStatus.COMPLETED,
    }
    assert not is_open(None)
