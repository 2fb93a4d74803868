"""The one global soft-delete filter (SPEC 3, pitfalls 1-2).

Every ORM SELECT, relationship load (lazy or eager), count and ORM bulk UPDATE/DELETE on a
soft-deletable entity gets `deleted_at IS NULL`, unless the statement opts in with the
execution option `include_deleted=True`.
"""

from __future__ import annotations

from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from learnhub.models.base import SoftDeleteMixin

INCLUDE_DELETED = "include_deleted"


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
