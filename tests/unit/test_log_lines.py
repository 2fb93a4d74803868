"""Each log line leaves in ONE write to stdout, newline included: with unbuffered output
(PYTHONUNBUFFERED, as in many container images) every write is its own system call, and the
lines of several `serve --workers N` processes sharing the stream interleave only at write
boundaries. A line written in two parts (the text, then its newline) glued two workers'
lines into one unparseable line under load."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum

import pytest
import structlog

import learnhub.logging as logging_module
from learnhub.domain.context import current_actor_id, current_request_id
from learnhub.logging import HotLogger, _Current, _ServiceChain, configure_logging


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


class Level(Enum):
    HIGH = "high"


@pytest.mark.usefixtures("configured")
def test_lines_are_ascii_and_values_read_alike_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """orjson writes most lines; the standard library writes a line orjson refuses (an
    integer beyond 64 bits) or one with characters beyond ASCII (escaped, so a stream that is
    not UTF-8 never fails a line). A UUID, an enum and a datetime read the same either way."""
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    an_id = uuid.uuid4()
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    values = {"an_id": an_id, "level_of": Level.HIGH, "at": when}
    access = HotLogger("learnhub.access")
    access.info("request", path="/plain", **values)
    access.info("request", path="/big", beyond_64_bits=2**70, **values)
    access.info("request", path="/cours/été", **values)
    monkeypatch.undo()
    lines = [json.loads(call) for call in stdout.calls]
    for call in stdout.calls:
        assert call.isascii() and '", "' not in call, "ASCII and compact on both paths"
    assert lines[2]["path"] == "/cours/été"
    for line in lines:
        assert line["an_id"] == str(an_id) and line["level_of"] == "high"
        assert line["at"] == "2026-01-02T03:04:05Z"


async def test_lines_of_one_loop_turn_leave_together_in_whole_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a running loop, the lines of one turn wait for its end and leave in writes of
    whole lines of at most 4 kB (a pipe takes such a write whole: workers sharing it never
    split each other's lines); a line written off the loop goes after them, at once."""
    stream = _Current("stdout", gathered=True)
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    lines = [f'{{"n":{n},"pad":"{"x" * 1000}"}}\n' for n in range(6)]
    for line in lines[:3]:
        stream.write(line)
    assert stdout.calls == [], "waiting for the end of the loop's turn"
    await asyncio.sleep(0)
    assert stdout.calls == ["".join(lines[:3])]
    stdout.calls.clear()
    for line in lines:
        stream.write(line)
    await asyncio.sleep(0)
    assert "".join(stdout.calls) == "".join(lines), "every line, in order"
    assert len(stdout.calls) == 2
    for call in stdout.calls:
        assert len(call) <= 4096 and call.endswith("\n")
    stdout.calls.clear()
    stream.write(lines[0])
    await asyncio.to_thread(stream.write, lines[1])  # off the loop: at once, after line 0
    assert stdout.calls == [lines[0], lines[1]]
    monkeypatch.undo()


def test_standard_library_records_are_written_as_json_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A library logging through the standard library (SQLAlchemy's pool at shutdown) writes
    a JSON line like ours on the same stream, never plain text among JSON lines."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    for handler in saved_handlers:  # the test runner's: without them, as when serving
        root.removeHandler(handler)
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    request_token = current_request_id.set("req-std")
    try:
        configure_logging("info")
        configure_logging("info")  # again: still one handler of ours
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").warning("Pool disposed. %s", "x")
    finally:
        current_request_id.reset(request_token)
        ours = [h for h in root.handlers if h not in saved_handlers]
        for handler in ours:
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
        monkeypatch.undo()
    assert len(ours) == 1
    assert len(stdout.calls) == 1 and stdout.calls[0].endswith("\n")
    line = json.loads(stdout.calls[0])
    assert line["event"] == "Pool disposed. x" and line["level"] == "warning"
    assert line["logger"] == "sqlalchemy.pool.impl.QueuePool"
    assert line["request_id"] == "req-std" and line["timestamp"].endswith("Z")


def _without_timestamp(call: str) -> dict[str, object]:
    line = json.loads(call)
    assert line.pop("timestamp").endswith("Z")
    return dict(line)


@pytest.mark.usefixtures("configured")
def test_the_access_line_reads_as_structlogs_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the service's configuration the access line runs the configured processors
    without a bound logger around them: it reads exactly as structlog's bound logger writes
    the same line, in one write with its newline."""
    request_token = current_request_id.set("req-same")
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    values = {"method": "GET", "route": "/api/v1/courses/{course_id}", "status": 200}
    access = HotLogger("learnhub.access")
    try:
        access.info("request", **values, duration_ms=1.25)
        structlog.get_logger("learnhub.access").info("request", **values, duration_ms=1.25)
    finally:
        monkeypatch.undo()
        current_request_id.reset(request_token)
    assert len(stdout.calls) == 2 and all(c.count("\n") == 1 for c in stdout.calls)
    hot, bound = (_without_timestamp(call) for call in stdout.calls)
    assert access._bound is None, "the line was written without a bound logger"
    assert hot == bound
    assert list(hot) == list(bound), "the same keys in the same order"
    assert hot["request_id"] == "req-same" and hot["level"] == "info"


def test_the_access_line_keeps_the_configured_level(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = structlog.get_config()
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    access = HotLogger("learnhub.access")
    try:
        configure_logging("warning")
        access.info("request", status=200)
        configure_logging("info")
        access.info("request", status=201)
        # The level raised afterwards, the service's processors kept: no line either.
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        access.info("request", status=202)
    finally:
        monkeypatch.undo()
        structlog.configure(**saved)
    assert [json.loads(call)["status"] for call in stdout.calls] == [201]


@pytest.mark.usefixtures("configured")
def test_captured_logs_hold_the_access_line() -> None:
    """structlog's `capture_logs` (which changes the configured processor list in place)
    gets the access line."""
    access = HotLogger("learnhub.access")
    with structlog.testing.capture_logs() as captured:
        access.info("request", status=200)
    assert captured == [{"event": "request", "status": 200, "log_level": "info"}]


@pytest.mark.usefixtures("configured")
def test_a_processor_of_the_service_may_drop_the_access_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """structlog's contract: a processor that raises DropEvent drops the line, on the direct
    path as on a bound logger's."""

    def drop_probes(_logger: object, _method: str, event: dict[str, object]) -> object:
        if event.get("path") == "/health":
            raise structlog.DropEvent
        return event

    structlog.get_config()["processors"].insert(0, drop_probes)
    monkeypatch.setattr(logging_module, "_service_chain", _ServiceChain.of(structlog.get_config()))
    stdout = Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    access = HotLogger("learnhub.access")
    access.info("request", path="/health", status=200)
    access.info("request", path="/api/v1/courses", status=200)
    monkeypatch.undo()
    assert access._bound is None, "the direct path ran"
    assert [json.loads(call)["path"] for call in stdout.calls] == ["/api/v1/courses"]
