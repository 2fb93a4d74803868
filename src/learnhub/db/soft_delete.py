"""The soft-delete rule (SPEC 3, pitfalls 1-2), in one module for both kinds of read.

ORM statements: every SELECT, relationship load (lazy or eager), count and ORM bulk
UPDATE/DELETE on a soft-deletable entity gets `deleted_at IS NULL` from the global filter
below, unless the statement opts in with the execution option `include_deleted=True`.

Raw reads (Core statements run on a connection, sub-selects, joins, insert-from-select,
text() SQL): the global filter does not reach them, so each names its criterion with `live()`
for every soft-deletable table it reads, or says with `including_deleted()` that it reads
deleted rows on purpose (restore, audit, erasure). tests/support/soft_delete_guard.py fails
any test in which application code runs a SELECT over a soft-deletable table that has
neither.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.sql.base import Executable

from learnhub.models.base import SoftDeleteMixin

INCLUDE_DELETED = "include_deleted"

E = TypeVar("E", bound=Executable)


def live(source: Any) -> ColumnElement[bool]:
    """`deleted_at IS NULL` for one soft-deletable source of a raw read: a mapped class, an
    `aliased()` one, a Table or an alias of a table (each alias needs its own)."""
    column = source.c.deleted_at if isinstance(source, FromClause) else source.deleted_at
    criterion: ColumnElement[bool] = column.is_(None)
    return criterion


def including_deleted(statement: E) -> E:
    """Mark a read that must see soft-deleted rows on purpose (the same execution option
    the ORM filter honours, so one marker serves ORM and Core statements alike)."""
    return statement.execution_options(**{INCLUDE_DELETED: True})


def apply_soft_delete_filter(state: ORMExecuteState) -> None:
    if state.execution_options.get(INCLUDE_DELETED, False):
        return
    # Refreshing an already-loaded object's expired columns must not turn it into "deleted".
    if state.is_column_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDeleteMixin,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
            )
        )
