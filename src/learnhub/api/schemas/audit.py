"""Audit trail entries, as the audit endpoints return them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Output
from learnhub.api.schemas.examples import example
from learnhub.models import AuditLog


class AuditEntryOut(Output):
    model_config = example(ex.AUDIT_ENTRY)

    id: uuid.UUID
    occurred_at: datetime
    actor_id: uuid.UUID | None
    request_id: str | None
    entity_type: str
    entity_id: uuid.UUID
    action: str
    changes: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditLog) -> AuditEntryOut:
        return cls(
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            request_id=entry.request_id,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            action=entry.action.value,
            changes=entry.changes,
        )
