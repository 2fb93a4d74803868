"""The project's ORM session class and the global behaviour attached to it.

- soft-delete filtering on every query (db.soft_delete)
- refusal of unaudited ORM bulk writes on audited models (pitfall 4)
- created_by / updated_by from the actor context
- an audit row for every entity change, in the same transaction, during the same flush
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from learnhub.db.audit import (
    PENDING_ACTIONS_KEY,
    TRANSACTION_KEY,
    rows_for_flush,
    write_audit_rows,
)
from learnhub.db.soft_delete import apply_soft_delete_filter
from learnhub.domain.context import current_actor_id
from learnhub.domain.errors import UnauditedWrite
from learnhub.metrics import count_committed_actions
from learnhub.models.base import AuditActorMixin, BaseModel

AUDITED_BULK = "audited_bulk"
# session.info key: the session reads without a transaction, so it must never write.
READ_ONLY_SESSION = "learnhub_read_only_session"


class LearnHubSession(Session):
    """Marker subclass: the listeners below apply to this class only."""


@event.listens_for(LearnHubSession, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and state.session.info.get(READ_ONLY_SESSION):
        raise RuntimeError("a read-only unit of work tried to write")
    if writes and not state.execution_options.get(AUDITED_BULK, False):
        for mapper in state.all_mappers:
            if issubclass(mapper.class_, BaseModel):
                raise UnauditedWrite(
                    f"bulk {'INSERT' if state.is_insert else 'UPDATE/DELETE'} on "
                    f"{mapper.class_.__name__} outside the repository's audited helpers"
                )
    apply_soft_delete_filter(state)


@event.listens_for(LearnHubSession, "before_flush")
def _refuse_writes_when_read_only(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    if session.info.get(READ_ONLY_SESSION) and (session.new or session.dirty or session.deleted):
        # Without a transaction each statement would commit on its own, unasked.
        raise RuntimeError("a read-only unit of work tried to write")


@event.listens_for(LearnHubSession, "before_flush")
def _stamp_actor(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    actor = current_actor_id.get()
    for obj in session.new:
        if isinstance(obj, AuditActorMixin):
            if obj.created_by is None:
                obj.created_by = actor
            obj.updated_by = actor if actor is not None else obj.created_by
    for obj in session.dirty:
        if isinstance(obj, AuditActorMixin) and session.is_modified(obj):
            if inspect(obj).attrs["updated_by"].history.has_changes():
                continue
            obj.updated_by = actor


@event.listens_for(LearnHubSession, "after_flush")
def _write_audit(session: Session, _ctx: UOWTransaction) -> None:
    write_audit_rows(session, rows_for_flush(session))


@event.listens_for(LearnHubSession, "after_commit")
def _count_committed(session: Session) -> None:
    count_committed_actions(session.info.pop(PENDING_ACTIONS_KEY, []))


@event.listens_for(LearnHubSession, "after_transaction_end")
def _forget_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(TRANSACTION_KEY, None)
        session.info.pop(PENDING_ACTIONS_KEY, None)
