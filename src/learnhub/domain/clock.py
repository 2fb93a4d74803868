"""The clock: the one source of "now" for the domain, the models and the services. Code that
must be tested against time takes a `Clock` and defaults to `utc_now`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
