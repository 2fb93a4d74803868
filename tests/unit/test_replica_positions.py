"""WAL positions as clients carry them, and how a replica's lag is read from its state."""

from __future__ import annotations

import math

import pytest

from learnhub.db.replicas import ReplicaState, format_lsn, parse_lsn


@pytest.mark.parametrize("text", ["0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/3000060"])
def test_positions_read_back_as_written(text: str) -> None:
    position = parse_lsn(text)
    assert position is not None
    assert format_lsn(position) == text


def test_positions_compare_by_their_high_part_first() -> None:
    assert parse_lsn("1/0") > parse_lsn("0/FFFFFFFF")  # type: ignore[operator]


@pytest.mark.parametrize("text", ["", "garbage", "1/", "/1", "1/2/3", "123456789/0", "-1/0"])
def test_anything_else_is_not_a_position(text: str) -> None:
    assert parse_lsn(text) is None


def state(replayed: int | None, received: int | None, since: float | None) -> ReplicaState:
    return ReplicaState(
        in_recovery=True, replayed=replayed, received=received, since_last_replay=since
    )


def test_a_replica_that_replayed_all_it_received_has_no_lag() -> None:
    assert state(100, 100, 3600.0).lag_seconds == 0  # a quiet primary, not a slow replica
    assert state(100, None, None).lag_seconds == 0  # not streaming (yet): nothing pending


def test_a_replica_with_wal_to_replay_lags_since_its_last_replayed_commit() -> None:
    assert state(100, 200, 2.5).lag_seconds == 2.5
    assert state(100, 200, None).lag_seconds == math.inf  # nothing replayed since it started
    assert state(None, None, None).lag_seconds == math.inf  # not a standby
