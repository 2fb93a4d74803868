"""The incremental audit completeness check's reads and its stored result (SPEC 8).

`learnhub audit verify` replays the whole trail. The check behind the completeness gauge
replays only what changed since its checkpoint: on PostgreSQL the entities whose rows, or
whose audit entries, were written by a transaction at or after the checkpoint's position (the
`xmin` of the last check's snapshot). Everything else was compared before and has not changed
since, so its verdict (gap or not) stands. SQLite has no transaction ids on rows: there, every
check is a full replay (the embedded database is small).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Text, bindparam, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from learnhub.db.audit import entity_type_of
from learnhub.db.soft_delete import including_deleted
from learnhub.models.audit import AuditLog
from learnhub.models.monitoring import AuditCheckGap, AuditCheckpoint
from learnhub.repositories.audit import (
    AuditGap,
    audited_mappers,
    checked_columns,
    replay_entry,
    row_gap,
    vanished,
)

CHECKPOINT = "completeness"
CHUNK = 1000
# A checkpoint further back than this (in transaction ids) is replaced by a full replay: 32-bit
# row xids can only be compared within 2^31 of each other.
MAX_XID_DISTANCE = 2**31 - 10_000_000
XID_SPACE = 2**32


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A PostgreSQL snapshot: transactions below `xmin` had ended, from `xmax` on had not
    started; `text` (pg_snapshot) also lists the ones running in between."""

    xmin: int
    xmax: int
    text: str


def _written_after(previous: Snapshot, now: Snapshot) -> Any:
    """SQL: the row's writing transaction is not visible in `previous`. The cheap test first
    (an xid older than the previous xmin was visible), then the row's 32-bit xmin is widened to
    a full xid8 relative to `now` and looked up in the previous snapshot."""
    return text(
        "age(xmin) <= age(CAST(CAST(:low AS text) AS xid)) AND NOT pg_visible_in_snapshot("
        "CAST(CAST(:now_xmax - ((:now_low - xmin::text::bigint + :space) % :space) AS text)"
        " AS xid8), CAST(:previous AS pg_snapshot))"
    ).bindparams(
        bindparam("low", str(previous.xmin % XID_SPACE), type_=Text),
        # 64-bit: transaction ids pass 2^31 in a busy database's life.
        bindparam("now_xmax", now.xmax, type_=BigInteger),
        bindparam("now_low", now.xmax % XID_SPACE, type_=BigInteger),
        bindparam("space", XID_SPACE, type_=BigInteger),
        bindparam("previous", previous.text, type_=Text),
    )


Changed = dict[str, set[uuid.UUID]]


def _mappers() -> dict[str, Mapper[Any]]:
    return {entity_type_of(m): m for m in audited_mappers()}


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


class AuditCheckRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def checkpoint(self) -> AuditCheckpoint | None:
        result = await self.session.execute(
            select(AuditCheckpoint).where(AuditCheckpoint.name == CHECKPOINT)
        )
        return result.scalar_one_or_none()

    async def snapshot(self) -> Snapshot | None:
        """PostgreSQL: this transaction's snapshot. None elsewhere."""
        if self.dialect != "postgresql":
            return None
        result = await self.session.execute(
            text(
                "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint,"
                " s::text FROM pg_current_snapshot() AS s"
            )
        )
        xmin, xmax, snapshot = result.one()
        return Snapshot(int(xmin), int(xmax), str(snapshot))

    async def changed_since(self, previous: Snapshot, now: Snapshot) -> Changed:
        """Entities whose row or audit entries were written by a transaction the `previous`
        check could not see (it committed later, or was still running)."""
        changed: Changed = {}
        for entity_type, mapper in _mappers().items():
            model = mapper.class_
            result = await self.session.execute(
                including_deleted(select(model.id).where(_written_after(previous, now)))
            )
            ids = set(result.scalars().all())
            if ids:
                changed.setdefault(entity_type, set()).update(ids)
        result = await self.session.execute(
            select(AuditLog.entity_type, AuditLog.entity_id)
            .distinct()
            .where(_written_after(previous, now))
        )
        for entity_type, entity_id in result.all():
            changed.setdefault(entity_type, set()).add(entity_id)
        return changed

    async def recheck(self, changed: Changed) -> tuple[int, list[AuditGap]]:
        """Replay the trail of just these entities and compare with their rows: (audit rows
        replayed, gaps)."""
        mappers = _mappers()
        replayed, gaps = 0, []
        for entity_type, ids in sorted(changed.items()):
            mapper = mappers.get(entity_type)
            if mapper is None:
                continue  # an entry about something no model holds: nothing to compare
            columns = checked_columns(mapper)
            model = mapper.class_
            for chunk in _chunks(ids):
                states: dict[uuid.UUID, dict[str, Any] | None] = {}
                trail = await self.session.execute(
                    select(AuditLog.entity_id, AuditLog.action, AuditLog.changes)
                    .where(AuditLog.entity_type == entity_type, AuditLog.entity_id.in_(chunk))
                    .order_by(AuditLog.entity_id, AuditLog.occurred_at, AuditLog.id)
                )
                for entity_id, action, changes in trail.all():
                    replayed += 1
                    replay_entry(states, entity_id, action, changes)
                rows = await self.session.execute(
                    including_deleted(
                        select(*(getattr(model, k) for k, _ in columns)).where(model.id.in_(chunk))
                    )
                )
                seen: set[uuid.UUID] = set()
                for row in rows.all():
                    values = dict(zip((k for k, _ in columns), row, strict=True))
                    seen.add(values["id"])
                    gap = row_gap(entity_type, columns, values, states)
                    if gap is not None:
                        gaps.append(gap)
                gaps += vanished(entity_type, states, seen)
        return replayed, gaps

    async def count_rows(self) -> int:
        """Entity rows in every audited table (soft-deleted included), the gauge's base."""
        total = 0
        for mapper in _mappers().values():
            result = await self.session.execute(
                including_deleted(select(func.count()).select_from(mapper.local_table))
            )
            total += int(result.scalar_one())
        return total

    async def count_trail(self) -> int:
        result = await self.session.execute(select(func.count()).select_from(AuditLog))
        return int(result.scalar_one())

    async def replace_gaps(self, gaps: Sequence[AuditGap], within: Changed | None) -> int:
        """Store the verdicts: the gaps of the entities just checked (all of them when
        `within` is None) replace what was known about them. Returns the number of entities
        with a gap now."""
        if within is None:
            await self.session.execute(delete(AuditCheckGap))
        else:
            for entity_type, ids in within.items():
                for chunk in _chunks(ids):
                    await self.session.execute(
                        delete(AuditCheckGap).where(
                            AuditCheckGap.entity_type == entity_type,
                            AuditCheckGap.entity_id.in_(chunk),
                        )
                    )
        rows = {
            (g.entity_type, g.entity_id): {
                "entity_type": g.entity_type,
                "entity_id": g.entity_id,
                "problem": g.problem[:1000],
            }
            for g in gaps
        }
        values = list(rows.values())
        for start in range(0, len(values), CHUNK):
            await self.session.execute(insert(AuditCheckGap), values[start : start + CHUNK])
        result = await self.session.execute(select(func.count()).select_from(AuditCheckGap))
        return int(result.scalar_one())

    async def gaps(self, limit: int = 100) -> list[AuditCheckGap]:
        result = await self.session.execute(
            select(AuditCheckGap)
            .order_by(AuditCheckGap.entity_type, AuditCheckGap.entity_id)
            .limit(limit)
        )
        return list(result.scalars().all())

    async def save(self, checkpoint: AuditCheckpoint) -> None:
        await self.session.merge(checkpoint)

    async def completeness(self) -> tuple[float, float] | None:
        """(ratio, checked at as a Unix time) of the last check, None before the first."""
        result = await self.session.execute(
            select(AuditCheckpoint.completeness_ratio, AuditCheckpoint.checked_at).where(
                AuditCheckpoint.name == CHECKPOINT
            )
        )
        row = result.one_or_none()
        return None if row is None else (float(row[0]), row[1].timestamp())
