"""Building and writing audit rows. Used by the session's flush hook, by repositories' bulk
helpers and by the seeder (`build_audit_row`, `creation_changes`), so every path produces the
same shape of entry."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Table, insert, inspect
from sqlalchemy.orm import Mapper, Session

from learnhub.domain.clock import utc_now
from learnhub.domain.context import current_actor_id, current_request_id
from learnhub.domain.enums import AuditAction, PersonalData
from learnhub.domain.ids import new_id
from learnhub.models.audit import AuditLog
from learnhub.models.base import BaseModel

REDACTED = "[redacted]"
TRANSACTION_KEY = "audit_transaction_id"


def audit_value(value: Any) -> Any:
    """A JSON-safe rendering, identical for the writer and for `audit verify`."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return value
    return str(value)


@cache
def entity_type_of(mapper: Mapper[Any]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", mapper.class_.__name__).lower()


@cache
def audited_columns(mapper: Mapper[Any]) -> tuple[tuple[str, Column[Any]], ...]:
    """(attribute key, column) of every column whose value the audit trail records."""
    result = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if not isinstance(column, Column) or not column.info.get("audited", True):
            continue
        result.append((prop.key, column))
    return tuple(result)


@cache
def audited_collections(mapper: Mapper[Any]) -> tuple[str, ...]:
    """Many-to-many collections (e.g. a user's roles): membership changes are audited too."""
    return tuple(rel.key for rel in mapper.relationships if rel.secondary is not None)


def personal_fields(model: type[Any]) -> frozenset[str]:
    """Attribute keys whose values erasure must remove (declared per column)."""
    erased = (PersonalData.ANONYMISE, PersonalData.DELETE)
    return frozenset(
        prop.key
        for prop in inspect(model).column_attrs
        if prop.columns[0].info.get("personal_data") in erased
    )


def is_audited(obj: object) -> bool:
    return isinstance(obj, BaseModel)


def render_value(column: Column[Any], value: Any) -> Any:
    """A column's value as the trail records it (secrets redacted)."""
    if column.info.get("secret") and value is not None:
        return REDACTED
    return audit_value(value)


def _collection_ids(items: Iterable[Any]) -> list[str]:
    return sorted(str(inspect(item).identity[0]) for item in items if inspect(item).identity)


def creation_changes(mapper: Mapper[Any], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A new row's entry: every non-null audited value as [None, value], collections as
    [None, ids]. `values` holds attribute values by key, and for a many-to-many collection
    the ids of its members. The flush hook and the seeder both build create entries here."""
    changes: dict[str, list[Any]] = {}
    for key, column in audited_columns(mapper):
        value = values.get(key)
        if value is not None:
            changes[key] = [None, render_value(column, value)]
    for key in audited_collections(mapper):
        ids = values.get(key)
        if ids:
            changes[key] = [None, [str(item) for item in ids]]
    return changes


def snapshot_changes(obj: object) -> dict[str, list[Any]]:
    """A new row: every loaded, non-null audited value as [None, value]."""
    state = inspect(obj)
    values = dict(state.dict)
    for key in audited_collections(state.mapper):
        if state.dict.get(key):
            values[key] = [item.id for item in state.dict[key]]
    return creation_changes(state.mapper, values)


def diff_changes(obj: object) -> dict[str, list[Any]]:
    """A changed row: {field: [old, new]} for audited fields whose value really changed."""
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for key, column in audited_columns(state.mapper):
        history = state.attrs[key].history
        if not history.added and not history.deleted:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        changes[key] = [render_value(column, old), render_value(column, new)]
    for key in audited_collections(state.mapper):
        history = state.attrs[key].history
        if history.added or history.deleted:
            old_items = list(history.unchanged) + list(history.deleted)
            new_items = list(history.unchanged) + list(history.added)
            changes[key] = [_collection_ids(old_items), _collection_ids(new_items)]
    return changes


def action_for_update(changes: Mapping[str, list[Any]]) -> AuditAction:
    if "deleted_at" in changes:
        old, new = changes["deleted_at"]
        if old is None and new is not None:
            return AuditAction.SOFT_DELETE
        if old is not None and new is None:
            return AuditAction.RESTORE
    return AuditAction.UPDATE


def transaction_id(session: Session) -> uuid.UUID:
    """One id per database transaction, so a request's changes group together."""
    tx = session.info.get(TRANSACTION_KEY)
    if tx is None:
        tx = session.info[TRANSACTION_KEY] = new_id()
    return tx


def build_audit_row(
    *,
    entity_type: str,
    entity_id: Any,
    action: AuditAction,
    changes: Mapping[str, Any],
    transaction_id: Any,
    request_id: str | None,
    actor_id: Any = None,
    occurred_at: datetime | None = None,
    row_id: Any = None,
) -> dict[str, Any]:
    """One audit_log row, keyed by column. The flush hook fills the ids and the time in; the
    seeder gives its own (deterministic ids, the seeded row's time)."""
    return {
        "id": new_id() if row_id is None else row_id,
        "occurred_at": utc_now() if occurred_at is None else occurred_at,
        "actor_id": actor_id,
        "request_id": request_id,
        "transaction_id": transaction_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "changes": dict(changes),
    }


def audit_row(
    session: Session,
    mapper: Mapper[Any],
    entity_id: uuid.UUID,
    action: AuditAction,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    # Evaluated in the order the row's values always were: its id, its time, then the context.
    return build_audit_row(
        row_id=new_id(),
        occurred_at=utc_now(),
        entity_type=entity_type_of(mapper),
        entity_id=entity_id,
        action=action,
        changes=changes,
        transaction_id=transaction_id(session),
        request_id=current_request_id.get(),
        actor_id=current_actor_id.get(),
    )


PENDING_ACTIONS_KEY = "audit_pending_actions"


def write_audit_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows on the session's own connection (same transaction), and remember
    their actions so the metrics count them once the transaction commits."""
    if rows:
        session.connection().execute(insert(cast(Table, AuditLog.__table__)), rows)
        pending = session.info.setdefault(PENDING_ACTIONS_KEY, [])
        pending.extend((str(r["action"]), r["entity_type"]) for r in rows)


def rows_for_flush(session: Session) -> list[dict[str, Any]]:
    """Audit rows for everything the current flush wrote through the unit of work."""
    rows = []
    for obj in session.new:
        if is_audited(obj):
            rows.append(
                audit_row(
                    session, inspect(obj).mapper, obj.id, AuditAction.CREATE, snapshot_changes(obj)
                )
            )
    for obj in session.dirty:
        if not is_audited(obj):
            continue
        changes = diff_changes(obj)
        if changes:
            rows.append(
                audit_row(session, inspect(obj).mapper, obj.id, action_for_update(changes), changes)
            )
    for obj in session.deleted:
        if is_audited(obj):
            # No snapshot: a hard delete may be an erasure, whose personal data must not reappear.
            rows.append(
                audit_row(session, inspect(obj).mapper, obj.id, AuditAction.HARD_DELETE, {})
            )
    return rows
