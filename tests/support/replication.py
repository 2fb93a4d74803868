"""A throwaway PostgreSQL primary and a streaming replica of it, on free loopback ports (made by
`reliability.clusters`, which the topology load run shares). Nothing is skipped: a machine that
cannot make the pair fails the tests that need it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reliability import clusters

PG_SERVER_USER = clusters.PG_SERVER_USER
Cluster = clusters.Cluster

__all__ = ["PG_SERVER_USER", "Cluster", "ReplicatedPair", "replicated_pair"]


class ReplicatedPair(clusters.ReplicatedPair):
    def __init__(self, root: Path) -> None:
        try:
            super().__init__(root)
        except clusters.MissingTool as missing:
            pytest.fail(str(missing))


@contextmanager
def replicated_pair() -> Iterator[ReplicatedPair]:
    with clusters.replicated_pair(ReplicatedPair) as pair:
        assert isinstance(pair, ReplicatedPair)
        yield pair
