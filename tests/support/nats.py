"""A private NATS JetStream server for fault tests: its own loopback port and store
directory, so a test can stop and restart the broker, and read its stream, without touching
the shared server or another test's messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reliability import clusters

REQUIRE_NATS = os.environ.get("LEARNHUB_REQUIRE_NATS", "") not in ("", "0", "false")


def nats_server_binary() -> str:
    try:
        return clusters.find_nats_server()
    except clusters.MissingTool as missing:
        if REQUIRE_NATS:
            pytest.fail(str(missing), pytrace=False)
        pytest.skip(str(missing))


class PrivateNats(clusters.PrivateNats):
    """`nats-server -js` on 127.0.0.1:<free port> with its store under `directory` (see
    `reliability.clusters.PrivateNats`); skips, or fails in CI, when nats-server is missing."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, nats_server_binary())
