"""The one place that translates database errors into domain errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

from learnhub.domain.errors import Conflict, DomainError, InvalidValue

_PG_UNIQUE, _PG_FOREIGN_KEY, _PG_CHECK, _PG_NOT_NULL = "23505", "23503", "23514", "23502"


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None) or getattr(getattr(orig, "__cause__", None), attr, None)
        if value:
            return str(value)
    return None


def translate_integrity_error(exc: IntegrityError, entity: str = "entity") -> DomainError:
    state = _sqlstate(exc)
    message = str(exc.orig)
    if state == _PG_UNIQUE or "UNIQUE constraint failed" in message:
        return Conflict(f"{entity} conflicts with an existing one", constraint=_constraint(exc))
    if state == _PG_FOREIGN_KEY or "FOREIGN KEY constraint failed" in message:
        return Conflict(
            f"{entity} refers to, or is referred to by, another row", constraint=_constraint(exc)
        )
    if state in (_PG_CHECK, _PG_NOT_NULL) or "constraint failed" in message:
        return InvalidValue(f"{entity} breaks a data rule", constraint=_constraint(exc))
    return Conflict(f"{entity} could not be saved", constraint=_constraint(exc))


def status_class(exc: DBAPIError) -> str | None:
    """The SQLSTATE class ("22" data exception, "23" integrity, "08" connection...)."""
    state = _sqlstate(exc)
    return state[:2] if state else None


def is_unavailable(exc: DBAPIError) -> bool:
    """The database cannot serve right now, whatever the request: a connection exception
    (08), insufficient resources such as too many connections (53), or the server shutting
    down, starting up or terminating sessions (57P01-57P05). asyncpg reports "the database
    system is shutting down" (57P03) as a plain driver Error, not an OperationalError."""
    state = _sqlstate(exc) or ""
    return state[:2] in ("08", "53") or state.startswith("57P")


def _constraint(exc: IntegrityError) -> str | None:
    orig = exc.orig
    name = getattr(orig, "constraint_name", None) or getattr(
        getattr(orig, "__cause__", None), "constraint_name", None
    )
    return str(name) if name else None
