"""structlog configuration: JSON lines carrying the request id of the request in progress."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    """The service's logging: JSON lines on stdout."""
    logging.basicConfig(
        format="%(message)s", stream=sys.stdout, level=getattr(logging, level.upper(), logging.INFO)
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,  # request_id, actor_id of this request
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        # One write per line (PrintLogger writes the line and its newline apart): with
        # unbuffered output (PYTHONUNBUFFERED) several workers' lines would interleave.
        logger_factory=structlog.WriteLoggerFactory(_current("stdout")),
        # Not cached: loggers pick up reconfiguration (tests capture logs this way).
        cache_logger_on_first_use=False,
    )


def log_to_stderr() -> None:
    """For command-line tools: stdout carries their output (reports, JSON), so log lines
    (a slow query, a retried connection) go to stderr and never corrupt it."""
    structlog.configure(logger_factory=structlog.WriteLoggerFactory(_current("stderr")))


class _Current:
    """sys.stdout or sys.stderr as it is when a line is written, not when logging was
    configured (a test or a tool may swap the stream, and close the old one)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        return int(getattr(sys, self.name).write(text))

    def flush(self) -> None:
        getattr(sys, self.name).flush()


def _current(name: str) -> TextIO:
    return cast(TextIO, _Current(name))
