"""Typed filter, sort and pagination objects: no stringly-typed SQL reaches a repository."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from learnhub.domain.errors import InvalidCursor, InvalidValue


class Filter(ABC):
    @abstractmethod
    def clause(self) -> ColumnElement[bool]: ...


@dataclass(frozen=True, slots=True)
class Eq(Filter):
    field: InstrumentedAttribute[Any]
    value: Any

    def clause(self) -> ColumnElement[bool]:
        return cast(ColumnElement[bool], self.field == self.value)


@dataclass(frozen=True, slots=True)
class NotEq(Filter):
    field: InstrumentedAttribute[Any]
    value: Any

    def clause(self) -> ColumnElement[bool]:
        return cast(ColumnElement[bool], self.field != self.value)


@dataclass(frozen=True, slots=True)
class In(Filter):
    field: InstrumentedAttribute[Any]
    values: Sequence[Any]

    def clause(self) -> ColumnElement[bool]:
        return self.field.in_(list(self.values))


@dataclass(frozen=True, slots=True)
class Range(Filter):
    """Inclusive bounds; either may be None."""

    field: InstrumentedAttribute[Any]
    minimum: Any = None
    maximum: Any = None

    def clause(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.minimum is not None:
            parts.append(self.field >= self.minimum)
        if self.maximum is not None:
            parts.append(self.field <= self.maximum)
        return and_(*parts) if parts else and_(True)


@dataclass(frozen=True, slots=True)
class LessThan(Filter):
    """Strictly below `bound`: the open upper end of a half-open range."""

    field: InstrumentedAttribute[Any]
    bound: Any

    def clause(self) -> ColumnElement[bool]:
        return cast(ColumnElement[bool], self.field < self.bound)


@dataclass(frozen=True, slots=True)
class IsNull(Filter):
    field: InstrumentedAttribute[Any]
    is_null: bool = True

    def clause(self) -> ColumnElement[bool]:
        return self.field.is_(None) if self.is_null else self.field.is_not(None)


@dataclass(frozen=True, slots=True)
class Search(Filter):
    """Case-insensitive substring match over several text fields. LIKE wildcards in the
    needle are escaped, so user input is always a literal."""

    fields: Sequence[InstrumentedAttribute[Any]]
    text: str

    def __post_init__(self) -> None:
        if "\x00" in self.text:
            raise InvalidValue("search text must not contain NUL characters")

    def pattern(self) -> str:
        needle = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{needle}%"

    def clause(self) -> ColumnElement[bool]:
        pattern = self.pattern()
        return or_(*(f.ilike(pattern, escape="\\") for f in self.fields))


@dataclass(frozen=True, slots=True)
class Sort:
    """A named sort order: one column plus the id as tie-breaker, same direction.

    `field` may also be a labelled expression computed by the query (a search's relevance):
    then `value_type` says how its cursor value decodes, and the rows carry it under the
    label's name."""

    name: str
    field: InstrumentedAttribute[Any] | ColumnElement[Any]
    descending: bool = True
    value_type: type[Any] | None = None

    def python_type(self) -> type[Any]:
        if self.value_type is not None:
            return self.value_type
        column = cast(InstrumentedAttribute[Any], self.field).property.columns[0]
        return cast(type[Any], column.type.python_type)

    def holds(self, value: Any) -> bool:
        """Whether the sort's column can hold `value` (a cursor's), so that the database is
        never asked to compare it with one out of its range: a 32-bit integer column's
        bounds, a moment that exists in UTC."""
        if isinstance(value, datetime):
            try:
                value.astimezone(UTC)
            except OverflowError:
                return False
            return True
        if isinstance(value, int) and self.value_type is None:
            column_type = cast(InstrumentedAttribute[Any], self.field).property.columns[0].type
            if not isinstance(column_type, BigInteger):
                return -(2**31) <= value < 2**31
        return True


def sort_named(sorts: Mapping[str, Sort], name: str | None, default: str) -> Sort:
    """The sort `name` (`default` when none is asked for); an unknown one is bad input."""
    key = name or default
    if key not in sorts:
        raise InvalidValue(f"unknown sort {key!r}; use one of {sorted(sorts)}")
    return sorts[key]


@dataclass(frozen=True, slots=True)
class CursorPagination:
    limit: int = 20
    cursor: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 100:
            raise InvalidValue("limit must be between 1 and 100")


@dataclass(frozen=True, slots=True)
class OffsetPagination:
    """For small admin listings only; keyset is the default."""

    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 100:
            raise InvalidValue("limit must be between 1 and 100")
        if not 0 <= self.offset <= 10_000:
            raise InvalidValue("offset must be between 0 and 10000")


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _decode_value(raw: Any, python_type: type[Any]) -> Any:
    try:
        if python_type is datetime:
            parsed = datetime.fromisoformat(raw)
            if parsed.tzinfo is None:
                raise ValueError("naive")
            return parsed
        if python_type is uuid.UUID:
            return uuid.UUID(raw)
        if python_type is Decimal and isinstance(raw, str):
            value = Decimal(raw)
            if value.is_finite() and abs(value) < MAX_CURSOR_NUMBER:
                return value
        if (
            python_type is int
            and isinstance(raw, int)
            and not isinstance(raw, bool)
            and abs(raw) < MAX_CURSOR_NUMBER
        ):
            return raw
        if (
            python_type is float
            and isinstance(raw, int | float)
            and not isinstance(raw, bool)
            and abs(raw) < MAX_CURSOR_NUMBER
        ):
            return float(raw)
        if python_type is str and isinstance(raw, str):
            return raw
        if issubclass(python_type, Enum):
            return python_type(raw)
    except (ValueError, TypeError, InvalidOperation, AttributeError, OverflowError):
        pass
    raise InvalidCursor("cursor is malformed")


def encode_cursor(sort: Sort, value: Any, row_id: uuid.UUID) -> str:
    # UTF-8, not \u escapes: an astral character costs 4 bytes instead of 12.
    body = json.dumps(
        {"s": sort.name, "v": _encode_value(value), "id": str(row_id)},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


# Room for the longest text key, 254 characters, of the widest encoding: a control
# character JSON-escaped to 6 bytes (about 2,110 characters once base64-encoded).
MAX_CURSOR_LENGTH = 4096
# Sort keys are counts, ratings and prices: anything near 64-bit is forged, and would make
# the database (or SQLite's driver) fail instead of answering 400.
MAX_CURSOR_NUMBER = 2**53


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, uuid.UUID]:
    """Parse a client's cursor; anything not made by `encode_cursor` is InvalidCursor."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor is malformed")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise InvalidCursor("cursor is malformed") from None
    if not isinstance(data, dict) or set(data) != {"s", "v", "id"}:
        raise InvalidCursor("cursor is malformed")
    if data["s"] != sort.name:
        raise InvalidCursor("cursor belongs to another sort order")
    value = _decode_value(data["v"], sort.python_type())
    if not sort.holds(value):
        raise InvalidCursor("cursor is malformed")
    return value, _decode_value(data["id"], uuid.UUID)


def cursor_sort_name(cursor: str) -> str | None:
    """The sort order a cursor was made for, or None if it is not one of ours (then
    `decode_cursor` rejects it)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        return None
    name = data.get("s") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None
