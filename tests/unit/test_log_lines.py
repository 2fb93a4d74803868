"""Each log line leaves in ONE write to stdout, newline included: with unbuffered output
(PYTHONUNBUFFERED, as in many container images) every write is its own system call, and the
lines of several `serve --workers N` processes sharing the stream interleave only at write
boundaries. A line written in two parts (the text, then its newline) glued two workers'
lines into one unparseable line under load."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from learnhub.domain.context import current_actor_id, current_request_id
from learnhub.logging import HotLogger, configure_logging


class Writes:
    """A stdout that records each write call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return len(text)

    def flush(self) -> None:
        pass


@pytest.fixture
def configured() -> Iterator[None]:
    saved = structlog.get_config()
    configure_logging("info")
    try:
        yield
    finally:
        structlog.configure(**saved)


@pytest.mark.usefixtures("configured")
def test_a_log_line_is_one_write_with_its_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set here, not in a fixture: pytest puts its own capture back between setup and call.
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    structlog.get_logger("learnhub.access").info("request", route="/api/v1/courses", status=200)
    structlog.get_logger("learnhub.db").warning("slow_query", statement="SELECT 1")
    monkeypatch.undo()
    assert len(stdout.calls) == 2
    for call in stdout.calls:
        assert call.endswith("\n") and call.count("\n") == 1
        assert json.loads(call)["level"] in ("info", "warning")


@pytest.mark.usefixtures("configured")
def test_the_access_logger_writes_the_request_context_and_a_utc_timestamp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_token = current_request_id.set("req-1")
    actor = uuid.uuid4()
    actor_token = current_actor_id.set(actor)
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        HotLogger("learnhub.access").info("request", status=200, beyond_64_bits=2**70)
    finally:
        monkeypatch.undo()
        current_request_id.reset(request_token)
        current_actor_id.reset(actor_token)
    line = json.loads(stdout.calls[0])
    assert line["request_id"] == "req-1" and line["actor_id"] == str(actor)
    # orjson refuses integers beyond 64 bits: the standard library writes that line instead.
    assert line["beyond_64_bits"] == 2**70
    written = datetime.fromisoformat(line["timestamp"])
    assert line["timestamp"].endswith("Z")
    assert abs((datetime.now(UTC) - written).total_seconds()) < 60


def test_the_access_logger_follows_a_new_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = structlog.get_config()
    access = HotLogger("learnhub.access")
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        configure_logging("info", json=True)
        access.info("request", status=200)
        configure_logging("info", json=False)
        access.info("request", status=201)
    finally:
        monkeypatch.undo()
        structlog.configure(**saved)
    assert json.loads(stdout.calls[0])["status"] == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(stdout.calls[1])
    assert "status" in stdout.calls[1] and "201" in stdout.calls[1]
