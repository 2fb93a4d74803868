"""Per-request / per-command context, held in contextvars (never thread-locals or globals).

The audit trail and the audit columns read the actor and request id from here; the API
middleware and each CLI command set them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_actor_id: ContextVar[uuid.UUID | None] = ContextVar("current_actor_id", default=None)
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


@contextmanager
def acting_as(actor_id: uuid.UUID | None, request_id: str | None = None) -> Iterator[None]:
    """Run a block on behalf of `actor_id` (None means the system)."""
    actor_token = current_actor_id.set(actor_id)
    request_token = current_request_id.set(request_id)
    try:
        yield
    finally:
        current_actor_id.reset(actor_token)
        current_request_id.reset(request_token)
