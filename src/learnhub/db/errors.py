"""The one place that reads database errors.

`classify()` turns an error from either database into a `DbError` kind: PostgreSQL (asyncpg)
reports a SQLSTATE, SQLite a result code and a message. Every other module asks it (or
`translate_integrity_error`, which turns the integrity kinds into domain errors) instead of
inspecting codes or messages itself, so supporting another driver or code touches this module
only. api/problems.py maps the kinds to HTTP problems.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from learnhub.domain.errors import Conflict, DomainError, InvalidValue


class DbError(StrEnum):
    UNIQUE_VIOLATION = "unique_violation"
    FOREIGN_KEY_VIOLATION = "foreign_key_violation"
    CHECK_VIOLATION = "check_violation"
    NOT_NULL_VIOLATION = "not_null_violation"
    # Any other integrity error: an exclusion constraint, a trigger's refusal.
    INTEGRITY_VIOLATION = "integrity_violation"
    # A value the database cannot take (SQLSTATE class 22: out of range, bad encoding...).
    INVALID_VALUE = "invalid_value"
    # A serialization failure or a deadlock: the transaction was rolled back, a retry may pass.
    SERIALIZATION_FAILURE = "serialization_failure"
    # A lock was not granted in time: PostgreSQL's lock_timeout (or NOWAIT), SQLite's
    # busy_timeout ("database is locked").
    LOCK_TIMEOUT = "lock_timeout"
    # PostgreSQL's statement_timeout (or a cancel request) stopped the statement.
    STATEMENT_TIMEOUT = "statement_timeout"
    # The database cannot serve right now, whatever the statement.
    UNAVAILABLE = "unavailable"
    OTHER = "other"


INTEGRITY_KINDS = frozenset(
    {
        DbError.UNIQUE_VIOLATION,
        DbError.FOREIGN_KEY_VIOLATION,
        DbError.CHECK_VIOLATION,
        DbError.NOT_NULL_VIOLATION,
        DbError.INTEGRITY_VIOLATION,
    }
)

_PG_KINDS = {
    "23505": DbError.UNIQUE_VIOLATION,
    "23503": DbError.FOREIGN_KEY_VIOLATION,
    "23514": DbError.CHECK_VIOLATION,
    "23502": DbError.NOT_NULL_VIOLATION,
    "40001": DbError.SERIALIZATION_FAILURE,
    "40P01": DbError.SERIALIZATION_FAILURE,  # deadlock detected
    "55P03": DbError.LOCK_TIMEOUT,  # lock_not_available
    "57014": DbError.STATEMENT_TIMEOUT,  # query_canceled
}
# SQLite primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
# SQLite names the broken constraint in the message (its extended codes need 3.11's
# `sqlite_errorcode` and say nothing more).
_SQLITE_INTEGRITY_MESSAGES = (
    ("UNIQUE constraint failed", DbError.UNIQUE_VIOLATION),
    ("FOREIGN KEY constraint failed", DbError.FOREIGN_KEY_VIOLATION),
    ("NOT NULL constraint failed", DbError.NOT_NULL_VIOLATION),
    ("constraint failed", DbError.CHECK_VIOLATION),  # CHECK, and any other named constraint
)


def classify(exc: BaseException) -> DbError | None:
    """The kind of a database error: a SQLAlchemy DBAPIError or a driver's own exception
    (asyncpg's raw connection, as in COPY, raises those unwrapped). None for anything else."""
    if isinstance(exc, DBAPIError):
        driver_error: BaseException = exc.orig if exc.orig is not None else exc
    elif _sqlstate(exc) is not None or isinstance(exc, sqlite3.Error):
        driver_error = exc
    else:
        return None
    state = _sqlstate(driver_error) or ""
    message = str(driver_error)
    integrity = isinstance(exc, IntegrityError | sqlite3.IntegrityError) or state[:2] == "23"
    if integrity:
        if state in _PG_KINDS:
            return _PG_KINDS[state]
        for text, kind in _SQLITE_INTEGRITY_MESSAGES:
            if text in message:
                return kind
        return DbError.INTEGRITY_VIOLATION
    if state[:2] == "22" or "invalid byte sequence" in message:
        return DbError.INVALID_VALUE
    if state in _PG_KINDS:
        return _PG_KINDS[state]
    code = getattr(driver_error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DbError.LOCK_TIMEOUT
    # A connection exception (08), insufficient resources such as too many connections (53),
    # the server shutting down, starting up or terminating sessions (57P01-57P05; asyncpg
    # reports "the database system is shutting down" as a plain driver Error, not an
    # OperationalError), a connection the pool had to invalidate, or what the driver itself
    # calls an operational or interface failure (on SQLite: no database file, disk I/O).
    if (
        state[:2] in ("08", "53")
        or state.startswith("57P")
        or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
        or isinstance(
            exc,
            OperationalError | InterfaceError | sqlite3.OperationalError | sqlite3.InterfaceError,
        )
    ):
        return DbError.UNAVAILABLE
    return DbError.OTHER


def caused_by(exc: BaseException | None, kind: DbError) -> bool:
    """Whether `exc` or an error it was raised from (or while handling) is of `kind`: tools
    such as Alembic wrap the database's error, or hit another one cleaning up after it."""
    return any(classify(error) is kind for error in _chain(exc))


def translate_integrity_error(exc: DBAPIError, entity: str = "entity") -> DomainError:
    """The domain error for an integrity kind (see `INTEGRITY_KINDS`)."""
    kind = classify(exc)
    if kind is DbError.UNIQUE_VIOLATION:
        return Conflict(f"{entity} conflicts with an existing one", constraint=_constraint(exc))
    if kind is DbError.FOREIGN_KEY_VIOLATION:
        return Conflict(
            f"{entity} refers to, or is referred to by, another row", constraint=_constraint(exc)
        )
    if kind in (DbError.CHECK_VIOLATION, DbError.NOT_NULL_VIOLATION):
        return InvalidValue(f"{entity} breaks a data rule", constraint=_constraint(exc))
    return Conflict(f"{entity} could not be saved", constraint=_constraint(exc))


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _sqlstate(error: BaseException) -> str | None:
    for attr in ("sqlstate", "pgcode"):
        value = getattr(error, attr, None) or getattr(error.__cause__, attr, None)
        if value:
            return str(value)
    return None


def _constraint(exc: DBAPIError) -> str | None:
    orig = exc.orig
    name = getattr(orig, "constraint_name", None) or getattr(
        getattr(orig, "__cause__", None), "constraint_name", None
    )
    return str(name) if name else None


def connection_lost(exc: BaseException) -> bool:
    """The database could not be reached or went away under the work: a driver error of the
    UNAVAILABLE kind, or the socket's own error below the driver."""
    return classify(exc) is DbError.UNAVAILABLE or isinstance(exc, OSError)
