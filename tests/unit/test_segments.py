"""The interval arithmetic behind video progress: `merge_segments`, `covered`, `_gaps` and
`grow_union`, which decides how much of a heartbeat's played segments the server credits.

Properties (hypothesis): the union never shrinks, it grows by at most the allowance and by
at most what was really played, it stays sorted, non-overlapping and made of intervals of
positive length (the database's `end_seconds > start_seconds`), and replaying what is
already in it adds nothing."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st

from learnhub.services.learning import Segment, _gaps, covered, grow_union, merge_segments

EPS = 1e-9


# ---- strategies -------------------------------------------------------------------------------


def _segment(start: float, length: float) -> Segment:
    return (start, start + length)


# Player timestamps in tenths of a second (what real clients send: collisions, touching ends,
# sums that exhaust the allowance exactly) and arbitrary floats.
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
allowances = st.one_of(
    st.integers(min_value=0, max_value=120).map(float),
    st.floats(min_value=0, max_value=300, allow_nan=False, allow_infinity=False),
)

# An allowance of exactly 10 s (the first heartbeat) spent to the last bit by the first played
# segment: the second segment gets a sliver of budget smaller than one ulp of its start.
EXHAUSTED_EXACTLY: tuple[list[Segment], list[Segment], float] = (
    [],
    [(12.4, 22.4), (40.0, 60.0)],
    10.0,
)


# ---- helpers ----------------------------------------------------------------------------------


def is_normalised(union: Sequence[Segment]) -> bool:
    """Sorted, each interval of positive length, neighbours strictly apart (touching join)."""
    return all(s < e for s, e in union) and all(
        union[i][1] < union[i + 1][0] for i in range(len(union) - 1)
    )


def uncovered(union: Sequence[Segment], start: float, end: float) -> float:
    """How much of [start, end) the (merged) union misses."""
    return covered(_gaps(union, start, end))


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


# ---- _gaps ------------------------------------------------------------------------------------


def test_gaps_examples():
    union = [(10.0, 20.0), (30.0, 40.0)]
    assert _gaps([], 0.0, 5.0) == [(0.0, 5.0)]
    assert _gaps(union, 0.0, 50.0) == [(0.0, 10.0), (20.0, 30.0), (40.0, 50.0)]
    assert _gaps(union, 12.0, 18.0) == []
    assert _gaps(union, 15.0, 35.0) == [(20.0, 30.0)]
    assert _gaps(union, 20.0, 30.0) == [(20.0, 30.0)]  # touching ends are not covered
    assert _gaps(union, 5.0, 10.0) == [(5.0, 10.0)]
    assert _gaps(union, 40.0, 45.0) == [(40.0, 45.0)]
    assert _gaps(union, 25.0, 25.0) == []


@given(segment_lists, segments)
def test_gaps_are_exactly_what_the_union_misses(items, probe):
    union = merge_segments(items)
    start, end = probe
    gaps = _gaps(union, start, end)
    assert is_normalised(gaps)
    assert all(start <= s and e <= end for s, e in gaps)
    # No gap overlaps the union...
    assert all(min(e, ue) <= max(s, us) for s, e in gaps for us, ue in union)
    # ...and gaps plus the union's part of [start, end) make up the whole of it.
    overlap = sum(max(0.0, min(e, end) - max(s, start)) for s, e in union)
    assert abs(covered(gaps) + overlap - (end - start)) <= EPS * max(1.0, end)


# ---- grow_union: examples ---------------------------------------------------------------------


def test_grow_with_enough_allowance_adds_everything_played():
    assert grow_union([], [(0.0, 5.0)], 10.0) == [(0.0, 5.0)]
    assert grow_union([(0.0, 5.0)], [(3.0, 8.0)], 10.0) == [(0.0, 8.0)]
    assert grow_union([(0.0, 5.0)], [(10.0, 12.0)], 10.0) == [(0.0, 5.0), (10.0, 12.0)]


def test_grow_takes_the_earliest_new_seconds_first():
    # Seeking to the end: only the allowance is credited, from where the player started.
    assert grow_union([], [(0.0, 600.0)], 10.0) == [(0.0, 10.0)]
    assert grow_union([(0.0, 10.0)], [(0.0, 600.0)], 10.0) == [(0.0, 20.0)]
    # Played segments are taken in time order, whatever order the client sent them in.
    assert grow_union([], [(50.0, 60.0), (0.0, 4.0)], 10.0) == [(0.0, 4.0), (50.0, 56.0)]
    # Already-watched parts cost nothing: the budget goes to the gaps.
    assert grow_union([(5.0, 10.0)], [(0.0, 30.0)], 10.0) == [(0.0, 15.0)]


def test_no_allowance_adds_nothing():
    old = [(0.0, 5.0), (10.0, 20.0)]
    assert grow_union(old, [(0.0, 100.0)], 0.0) == old
    assert grow_union(old, [(0.0, 100.0)], -5.0) == old
    assert grow_union([(10.0, 20.0), (0.0, 5.0)], [(30.0, 40.0)], 0.0) == old  # normalised


def test_replaying_the_union_adds_nothing():
    union = [(0.0, 5.0), (10.0, 20.0)]
    assert grow_union(union, union, 1000.0) == union
    assert grow_union(union, [(1.0, 2.0), (12.0, 19.0)], 1000.0) == union


def test_a_segment_that_exhausts_the_allowance_exactly_leaves_no_empty_interval():
    """10.0 - (22.4 - 12.4) is a few 1e-15 s of budget; 40.0 + that is 40.0: the union must
    not gain a zero-length interval (the database refuses `end_seconds <= start_seconds`)."""
    old, played, allowance = EXHAUSTED_EXACTLY
    result = grow_union(old, played, allowance)
    assert is_normalised(result), result
    assert abs(covered(result) - 10.0) <= EPS


# ---- grow_union: properties -------------------------------------------------------------------


@given(segment_lists, played_lists, allowances)
def test_the_union_never_shrinks(old, played, allowance):
    result = grow_union(old, played, allowance)
    assert inside(old, result)
    assert covered(result) >= covered(merge_segments(old)) - EPS


@given(segment_lists, played_lists, allowances)
def test_growth_never_exceeds_the_allowance(old, played, allowance):
    result = grow_union(old, played, allowance)
    assert covered(result) - covered(merge_segments(old)) <= allowance + EPS


@given(segment_lists, played_lists, allowances)
@example(*EXHAUSTED_EXACTLY)
@example([], [(0.1, 3.2), (5.3, 12.2), (40.0, 60.0)], 10.0)
def test_the_result_is_sorted_non_overlapping_and_of_positive_lengths(old, played, allowance):
    result = grow_union(old, played, allowance)
    assert is_normalised(result), result


@given(segment_lists, played_lists, allowances)
def test_growth_never_exceeds_what_was_played(old, played, allowance):
    merged_old = merge_segments(old)
    result = grow_union(old, played, allowance)
    new_in_played = sum(uncovered(merged_old, s, e) for s, e in merge_segments(played))
    assert covered(result) - covered(merged_old) <= new_in_played + EPS
    # Nothing outside what was ever played is credited.
    assert inside(result, [*old, *played])


@given(segment_lists, played_lists)
def test_with_ample_allowance_the_union_is_old_plus_played(old, played):
    result = grow_union(old, played, 1e9)
    expected = merge_segments([*old, *played])
    assert inside(result, expected) and inside(expected, result)
    assert abs(covered(result) - covered(expected)) <= EPS


@settings(max_examples=150)
@given(segment_lists, played_lists, allowances, allowances)
def test_replaying_the_same_segments_adds_nothing(old, played, allowance, later_allowance):
    # Credited in full, a replay (with any later allowance) finds nothing new.
    full = grow_union(old, played, 1e9)
    replayed = grow_union(full, played, later_allowance)
    assert covered(replayed) - covered(full) <= EPS
    assert inside(replayed, full)
    # Capped, a replay with no fresh allowance adds nothing either.
    capped = grow_union(old, played, allowance)
    assert grow_union(capped, played, 0.0) == capped
    # Replaying what is already in the union adds nothing whatever the allowance.
    assert covered(grow_union(capped, capped, later_allowance)) - covered(capped) <= EPS


@given(segment_lists, played_lists, allowances)
def test_growth_is_monotonic_in_the_allowance(old, played, allowance):
    smaller = grow_union(old, played, allowance)
    larger = grow_union(old, played, allowance + 5.0)
    assert covered(larger) >= covered(smaller) - EPS
    assert inside(smaller, larger)
