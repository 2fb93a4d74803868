"""Each log line leaves in ONE write to stdout, newline included: with unbuffered output
(PYTHONUNBUFFERED, as in many container images) every write is its own system call, and the
lines of several `serve --workers N` processes sharing the stream interleave only at write
boundaries. A line written in two parts (the text, then its newline) glued two workers'
lines into one unparseable line under load."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
import structlog

from learnhub.logging import configure_logging


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
