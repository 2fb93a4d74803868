"""Query plans for `learnhub db report`: capture the statements the repositories send, EXPLAIN
them with the same parameters, and drop secondary indexes inside the caller's transaction
(for a before/after view that is rolled back)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.models.course import Course, Tag, Video, course_tags
from learnhub.models.learning import Enrollment, VideoProgress
from learnhub.models.user import User, UserActivity


@dataclass(frozen=True, slots=True)
class Issued:
    """One statement as the driver received it (dialect SQL and bound parameters)."""

    statement: str
    parameters: Any


@dataclass(frozen=True, slots=True)
class Plan:
    summary: str  # the plan's nodes, outermost first
    indexes: list[str]  # indexes the plan reads
    full_scans: list[str]  # tables the plan reads in full
    time_ms: float
    timing: str  # "execution" (EXPLAIN ANALYZE) or "wall" (measured here)
    details: dict[str, Any] = field(default_factory=dict)


PG_INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
SQLITE_STEP = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?P<table>\S+)(?: AS \S+)?"
    r"(?: USING (?:(?:COVERING )?INDEX (?P<index>\S+)|(?P<pk>INTEGER PRIMARY KEY|PRIMARY KEY)))?"
    r"(?P<virtual> VIRTUAL TABLE INDEX \S+)?"
)
SUMMARY_NODES = 6


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _connection(self) -> AsyncConnection:
        return await self.session.connection()

    async def dialect(self) -> str:
        return (await self._connection()).dialect.name

    @asynccontextmanager
    async def capture(self) -> AsyncIterator[list[Issued]]:
        """Every statement sent on this unit of work's connection while inside."""
        sync = (await self._connection()).sync_connection
        assert sync is not None
        issued: list[Issued] = []

        def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            issued.append(Issued(statement, parameters))

        event.listen(sync, "before_cursor_execute", record)
        try:
            yield issued
        finally:
            event.remove(sync, "before_cursor_execute", record)

    async def explain(self, issued: Issued) -> Plan:
        if await self.dialect() == "postgresql":
            return await self._explain_postgresql(issued)
        return await self._explain_sqlite(issued)

    async def _explain_postgresql(self, issued: Issued) -> Plan:
        conn = await self._connection()
        result = await conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + issued.statement, issued.parameters
        )
        raw = result.scalar_one()
        (top,) = json.loads(raw) if isinstance(raw, str) else raw
        nodes = list(_pg_nodes(top["Plan"]))
        indexes = [n["Index Name"] for n in nodes if n["Node Type"] in PG_INDEX_NODES]
        scans = [n for n in nodes if n["Node Type"] == "Seq Scan"]
        parents = await self._partition_parents([*indexes, *(n["Relation Name"] for n in scans)])
        # A month not yet written (or the empty DEFAULT partition) has no page: scanning it
        # reads nothing, and is no full scan of the trail.
        scanned = [
            n["Relation Name"]
            for n in scans
            if n["Relation Name"] not in parents
            or n.get("Shared Hit Blocks", 0) + n.get("Shared Read Blocks", 0) > 0
        ]
        return Plan(
            summary=" > ".join(_shorten([n["Node Type"] for n in nodes])),
            # A partition's index is named by the partitioned index it belongs to (the one
            # the models declare); a partition read whole, as "table (partition)".
            indexes=_unique(parents.get(name, name) for name in indexes),
            full_scans=_unique(
                f"{parents[name]} ({name})" if name in parents else name for name in scanned
            ),
            time_ms=float(top["Execution Time"]),
            timing="execution",
            details={"planning_ms": float(top["Planning Time"]), "plan": top["Plan"]},
        )

    async def _partition_parents(self, names: Sequence[str]) -> dict[str, str]:
        """PostgreSQL: the partitioned table or index each named partition (or partition's
        index) belongs to (the history tables are partitioned by month, revision 0019)."""
        if not names:
            return {}
        conn = await self._connection()
        result = await conn.execute(
            text(
                "SELECT c.relname, p.relname FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
                " WHERE c.relname = ANY(:names) AND p.relkind IN ('p', 'I')"
            ),
            {"names": list(names)},
        )
        return {str(child): str(parent) for child, parent in result.all()}

    async def _explain_sqlite(self, issued: Issued) -> Plan:
        conn = await self._connection()
        result = await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + issued.statement, issued.parameters
        )
        steps = [str(row._mapping["detail"]) for row in result.all()]
        indexes, full_scans = [], []
        for step in steps:
            match = SQLITE_STEP.match(step)
            if match is None:
                continue
            if match["index"]:
                indexes.append(match["index"])
            elif match["pk"]:
                indexes.append(f"{match['table']} primary key")
            elif match["virtual"]:  # an FTS5 table answers MATCH from its own index
                indexes.append(f"{match['table']} full-text index")
            elif match["op"] == "SCAN" and not match["table"].startswith("("):
                full_scans.append(match["table"])
        # SQLite's EXPLAIN QUERY PLAN has no timing: run the statement itself (best of 3).
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            (await conn.exec_driver_sql(issued.statement, issued.parameters)).all()
            best = min(best, time.perf_counter() - started)
        return Plan(
            summary="; ".join(steps),
            indexes=_unique(indexes),
            full_scans=_unique(full_scans),
            time_ms=best * 1000,
            timing="wall",
            details={"steps": steps},
        )

    async def secondary_indexes(self, tables: Sequence[str]) -> list[str]:
        """Non-unique indexes on `tables` that back no constraint (never a primary key, a
        unique or an exclusion constraint): the ones an index-less report may drop."""
        conn = await self._connection()
        backing: set[str] = set()
        if conn.dialect.name == "postgresql":
            result = await conn.exec_driver_sql(
                "SELECT conindid::regclass::text FROM pg_constraint WHERE conindid <> 0"
            )
            backing = {str(name) for name in result.scalars()}

        def reflect(sync: Connection) -> list[str]:
            inspector = inspect(sync)
            return [
                str(ix["name"])
                for table in tables
                for ix in inspector.get_indexes(table)
                if ix["name"] and not ix["unique"] and not ix.get("duplicates_constraint")
            ]

        return [name for name in await conn.run_sync(reflect) if name not in backing]

    async def drop_indexes(self, names: Sequence[str]) -> None:
        """DROP INDEX in the current transaction (transactional DDL on both databases): a
        rollback brings them back. On PostgreSQL each drop waits at most 5 s for its lock."""
        conn = await self._connection()
        quote = conn.dialect.identifier_preparer.quote
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        for name in names:
            await conn.exec_driver_sql(f"DROP INDEX {quote(name)}")


@dataclass(frozen=True, slots=True)
class ReportSamples:
    """Real ids to run the hot queries with; None where the database has no such row."""

    course_id: uuid.UUID | None = None
    instructor_id: uuid.UUID | None = None
    difficulty: DifficultyLevel | None = None
    title: str | None = None
    currency: str | None = None
    tag: str | None = None
    learner_id: uuid.UUID | None = None
    enrolled_course_id: uuid.UUID | None = None
    progress_user_id: uuid.UUID | None = None
    progress_video_id: uuid.UUID | None = None
    progress_course_id: uuid.UUID | None = None
    activity_user_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    user_email: str | None = None


class ReportSampleRepository:
    """Picks the parameters: the most popular listed course, a learner with enrolments, etc."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def samples(self) -> ReportSamples:
        course = (
            await self.session.execute(
                select(
                    Course.id,
                    Course.instructor_id,
                    Course.difficulty,
                    Course.title,
                    Course.price_currency,
                )
                .where(Course.status == CourseStatus.PUBLISHED)
                .order_by(Course.enrollment_count.desc(), Course.id)
                .limit(1)
            )
        ).first()
        tag = (
            await self.session.execute(
                select(Tag.name)
                .join(course_tags, course_tags.c.tag_id == Tag.id)
                .join(Course, Course.id == course_tags.c.course_id)
                .where(Course.status == CourseStatus.PUBLISHED)
                .group_by(Tag.name)
                .order_by(func.count().desc(), Tag.name)
                .limit(1)
            )
        ).scalar_one_or_none()
        learner = (
            await self.session.execute(
                select(Enrollment.user_id, Enrollment.course_id)
                .order_by(Enrollment.enrolled_at.desc(), Enrollment.id)
                .limit(1)
            )
        ).first()
        progress = (
            await self.session.execute(
                select(VideoProgress.user_id, VideoProgress.video_id, Video.course_id)
                .join(Video, Video.id == VideoProgress.video_id)
                .order_by(VideoProgress.last_heartbeat_at.desc(), VideoProgress.id)
                .limit(1)
            )
        ).first()
        activity_user = (
            await self.session.execute(
                select(UserActivity.user_id).order_by(UserActivity.occurred_at.desc()).limit(1)
            )
        ).scalar_one_or_none()
        user = (
            await self.session.execute(select(User.id, User.email).order_by(User.id).limit(1))
        ).first()
        return ReportSamples(
            course_id=course[0] if course else None,
            instructor_id=course[1] if course else None,
            difficulty=course[2] if course else None,
            title=course[3] if course else None,
            currency=course[4] if course else None,
            tag=tag,
            learner_id=learner[0] if learner else None,
            enrolled_course_id=learner[1] if learner else None,
            progress_user_id=progress[0] if progress else None,
            progress_video_id=progress[1] if progress else None,
            progress_course_id=progress[2] if progress else None,
            activity_user_id=activity_user,
            user_id=user[0] if user else None,
            user_email=user[1] if user else None,
        )


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _pg_nodes(child)


def _unique(values: Iterator[str] | list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _shorten(nodes: list[str]) -> list[str]:
    return nodes if len(nodes) <= SUMMARY_NODES else [*nodes[:SUMMARY_NODES], "..."]
