"""Time-ordered identifiers (UUID version 7), generated in Python."""

from __future__ import annotations

import uuid

from uuid6 import uuid7 as _uuid7


def new_id() -> uuid.UUID:
    """A UUIDv7 as a standard-library `uuid.UUID`, so drivers and JSON treat it natively."""
    return uuid.UUID(int=_uuid7().int)
