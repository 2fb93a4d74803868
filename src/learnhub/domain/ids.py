"""Time-ordered identifiers (UUID version 7), generated in Python."""

from __future__ import annotations

import re
import uuid

from uuid6 import uuid7 as _uuid7


def new_id() -> uuid.UUID:
    """A UUIDv7 as a standard-library `uuid.UUID`, so drivers and JSON treat it natively."""
    return uuid.UUID(int=_uuid7().int)


# The forms of a UUID the API has always accepted in a path (pydantic's): 32 hex digits,
# hyphenated 8-4-4-4-12, either in braces or after `urn:uuid:`; any letter case.
_HEX = r"[0-9a-fA-F]"
_UUID_TEXT = re.compile(
    rf"(?:urn:uuid:)?(?P<b>\{{)?(?:{_HEX}{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})"
    rf"(?(b)\}})"
)


def parse_id(text: str) -> uuid.UUID | None:
    """`text` as an id when it is written as one, else None (then it may be a slug)."""
    return uuid.UUID(text) if _UUID_TEXT.fullmatch(text) else None
