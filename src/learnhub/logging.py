"""structlog configuration: JSON lines carrying the request id of the request in progress."""

from __future__ import annotations

import asyncio
import atexit
import json as stdlib_json
import logging
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TextIO, cast

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger

from learnhub.domain.context import current_actor_id, current_request_id


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    """The service's logging: JSON lines on stdout, the lines of libraries that log through
    the standard library (SQLAlchemy's pool, asyncio) included."""
    numeric_level = getattr(logging, level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    # What every line carries, ours and the standard library's alike.
    context: list[structlog.typing.Processor] = [
        request_context,
        structlog.processors.add_log_level,
        # A datetime, written by the renderer: orjson formats it in C (ISO 8601, `Z`).
        _utc_timestamp if json else structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _route_standard_logging(numeric_level, context, renderer)
    processors: list[structlog.typing.Processor] = [
        *context,
        structlog.processors.format_exc_info,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Lines leave whole (PrintLogger writes the line and its newline apart: with
        # unbuffered output several workers' lines interleaved), gathered per loop turn.
        logger_factory=structlog.WriteLoggerFactory(_STDOUT),
        # Not cached: loggers pick up reconfiguration (tests capture logs this way).
        cache_logger_on_first_use=False,
    )
    global _service_chain
    _service_chain = (
        _ServiceChain.of(structlog.get_config()) if numeric_level <= logging.INFO else None
    )


class _StandardLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` puts on the standard library's root logger."""


def _route_standard_logging(
    level: int, context: list[structlog.typing.Processor], renderer: structlog.typing.Processor
) -> None:
    """Records of the standard library's loggers written as our lines, on the same stream: a
    plain-text line ("Pool disposed ...") in a stream of JSON lines broke whatever read it.
    As `logging.basicConfig` did, nothing is added where the root logger already has
    handlers of someone else's (a test runner's)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StandardLines)]:
        root.removeHandler(handler)
    if root.handlers:
        return
    handler = _StandardLines(_STDOUT)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[*context, structlog.stdlib.add_logger_name],
        )
    )
    root.addHandler(handler)
    root.setLevel(level)


def request_context(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The request id and the acting user of the request in progress (domain.context, set by
    the app's request middleware and its authentication): one source for the log lines,
    the audit trail and the events, read when a line is written."""
    request_id = current_request_id.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    actor_id = current_actor_id.get()
    if actor_id is not None:
        event.setdefault("actor_id", str(actor_id))
    return event


def _utc_timestamp(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    event["timestamp"] = datetime.now(UTC)
    return event


def _json_line(event: EventDict, **_options: Any) -> str:
    """A log line's JSON, ASCII only (as the standard library writes it: a line never fails
    on a stream that is not UTF-8, and reads the same whatever its path): orjson, a third of
    the standard library's time on the access log line every request writes; the standard
    library for a line with other characters (escaped) or with what orjson refuses (an
    integer beyond 64 bits, a key that is not a string). Values of other types are written
    alike on both paths (`_plain`)."""
    try:
        line = orjson.dumps(event, default=_plain, option=orjson.OPT_UTC_Z).decode()
    except TypeError:
        return _stdlib_line(event)
    return line if line.isascii() else _stdlib_line(event)


def _stdlib_line(event: EventDict) -> str:
    return stdlib_json.dumps(event, default=_plain, separators=(",", ":"))  # compact, as orjson


def _plain(value: object) -> object:
    """What JSON does not have, as orjson writes it natively: a datetime in ISO 8601 (UTC as
    `Z`), a UUID as its text, an enum as its value; anything else as its repr."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return repr(value)


@dataclass(frozen=True, slots=True)
class _ServiceChain:
    """The structlog configuration `configure_logging` put in force (at info or below): its
    processor list, what that list held then, and its logger."""

    processors: list[structlog.typing.Processor]  # the list structlog holds
    held: list[structlog.typing.Processor]  # a copy of what it held then
    logger_factory: Any
    wrapper_class: Any
    logger: Any

    @classmethod
    def of(cls, config: dict[str, Any]) -> _ServiceChain:
        processors, factory = config["processors"], config["logger_factory"]
        return cls(processors, list(processors), factory, config["wrapper_class"], factory())

    def in_force(self, config: dict[str, Any]) -> bool:
        processors = config["processors"]
        return (
            processors is self.processors
            and processors == self.held
            and config["logger_factory"] is self.logger_factory
            and config["wrapper_class"] is self.wrapper_class
        )


_service_chain: _ServiceChain | None = None


class HotLogger:
    """A logger for a line written on every request.

    Under the service's own configuration (`configure_logging` at info or below, JSON or
    console lines) the line runs through structlog's configured processors to its logger
    directly, as structlog's bound logger runs it, without a bound logger around them: the
    bound logger's own layers cost a course page under load more than the processors do
    (bench/RESULTS.md, "the access line without a bound logger"). Under any other
    configuration (another level, `log_to_stderr`, `capture_logs`, which changes the
    processor list in place) the line goes through a bound logger, bound once per
    configuration: `structlog.get_logger()`'s lazy proxy builds a new one for each line. A
    new configuration is picked up at the next line."""

    def __init__(self, name: str) -> None:
        self._proxy = structlog.get_logger(name)
        self._configuration: tuple[int, object, object] | None = None
        self._bound: Any = None

    def info(self, event: str, **values: Any) -> None:
        config = structlog.get_config()
        chain = _service_chain
        if chain is not None and chain.in_force(config):
            values["event"] = event
            line: Any = values
            try:
                for processor in chain.held:
                    line = processor(chain.logger, "info", line)
            except structlog.DropEvent:
                return
            chain.logger.info(line)
            return
        configuration = (
            id(config["processors"]),
            config["logger_factory"],
            config["wrapper_class"],
        )
        if configuration != self._configuration:
            self._bound = self._proxy.bind()
            self._configuration = configuration
        self._bound.info(event, **values)


def log_to_stderr() -> None:
    """For command-line tools: stdout carries their output (reports, JSON), so log lines
    (a slow query, a retried connection) go to stderr and never corrupt it."""
    structlog.configure(logger_factory=structlog.WriteLoggerFactory(_current("stderr")))


# A pipe takes a write of at most this many bytes whole (POSIX PIPE_BUF): lines gathered into
# one write never split, so several workers sharing the stream interleave only between lines.
_WHOLE_WRITE_BYTES = 4096


class _Current:
    """sys.stdout or sys.stderr as it is when a line is written, not when logging was
    configured (a test or a tool may swap the stream, and close the old one).

    `gathered`: lines written on a running event loop leave together at the end of the
    loop's turn, in writes of whole lines of at most 4 kB. A write is a system call, which
    gives up the GIL: one per access line cost the course page 5% under granian, whose own
    threads take the GIL then (bench/RESULTS.md). Off the loop (command-line tools, other
    threads) a line is written at once, after whatever is waiting, and anything still
    waiting at exit is written then."""

    def __init__(self, name: str, *, gathered: bool = False) -> None:
        self.name = name
        self.gathered = gathered
        self._pending: list[str] = []
        self._flush_on: asyncio.AbstractEventLoop | None = None  # the loop a flush is due on
        self._lock = threading.Lock()
        if gathered:
            atexit.register(self.write_pending)

    def write(self, text: str) -> int:
        if self.gathered:
            try:
                loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                with self._lock:
                    self._pending.append(text)
                    due, self._flush_on = self._flush_on is not loop, loop
                if due:
                    loop.call_soon(self.write_pending)
                return len(text)
            self.write_pending()
        stream = getattr(sys, self.name)
        written = int(stream.write(text))
        stream.flush()
        return written

    def flush(self) -> None:
        """Nothing: `write` writes a line out itself, or leaves it for the loop's turn."""

    def write_pending(self) -> None:
        with self._lock:
            lines, self._pending, self._flush_on = self._pending, [], None
        if not lines:
            return
        stream = getattr(sys, self.name)
        chunk: list[str] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > _WHOLE_WRITE_BYTES:
                stream.write("".join(chunk))
                stream.flush()
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        stream.write("".join(chunk))
        stream.flush()


def _current(name: str, *, gathered: bool = False) -> TextIO:
    return cast(TextIO, _Current(name, gathered=gathered))


# The service's log stream: one, so that every line waits in the same place.
_STDOUT = _current("stdout", gathered=True)
