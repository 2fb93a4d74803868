"""`learnhub audit archive`: old months of the audit trail leave the database as files.

Each audit_log partition whose whole range ends on or before the given date is written to
`<partition>.jsonl.gz` (a header line, then one JSON object per row, in key order), then
DETACHed and dropped, in one transaction: the partition is locked SHARE while it is written
(nothing may change under the copy; the only writer of old rows is a GDPR erasure, which
waits), and the file is complete and fsynced before the transaction that drops the rows
commits. Should that commit fail, the file and the rows both remain; `audit verify` counts
an entry present in both once.

`learnhub audit verify --archive DIR` reads the files back (`read_archives`) and replays
them with the live table, so the trail stays checkable after its months have left.
Only on PostgreSQL: SQLite has no partitions.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.partitions import APPEND_ONLY_TABLE, LOCK_TIMEOUT, Partition, partitions
from learnhub.domain.enums import AuditAction
from learnhub.repositories.audit import ArchivedEntry

FORMAT = "learnhub-audit-archive"
VERSION = 1
SUFFIX = ".jsonl.gz"
BATCH = 5000
COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "request_id",
    "transaction_id",
    "entity_type",
    "entity_id",
    "action",
    "changes",
)


class ArchiveError(Exception):
    """An archive that cannot be made or read (the message says why)."""


@dataclass(frozen=True, slots=True)
class ArchivedPartition:
    name: str
    rows: int
    path: Path


def archivable(found: Iterable[Partition], before: datetime) -> list[Partition]:
    """Partitions whose whole range ends on or before `before` (never DEFAULT)."""
    return [p for p in found if not p.is_default and p.upper is not None and p.upper <= before]


async def archive_before(
    engine: AsyncEngine, before: datetime, directory: Path, now: datetime
) -> list[ArchivedPartition]:
    """Archive, detach and drop every audit_log partition ending on or before `before`
    (which must not be later than `now`) into the existing `directory`."""
    if engine.dialect.name != "postgresql":
        raise ArchiveError("archiving needs PostgreSQL (SQLite's audit_log is not partitioned)")
    if before > now:
        raise ArchiveError("--before must not be in the future: that month is still written")
    async with engine.connect() as connection:
        chosen = archivable(await partitions(connection, APPEND_ONLY_TABLE), before)
    done = []
    for partition in chosen:
        done.append(await _archive_one(engine, partition, directory))
    return done


def _row(values: dict[str, Any]) -> dict[str, Any]:
    def plain(column: str, value: Any) -> Any:
        if column == "changes" and isinstance(value, str):
            return json.loads(value)  # a json column read through text(): its source text
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if value is None or isinstance(value, str | int | float | bool | dict | list):
            return value
        return str(value)  # uuids (the driver's own class)

    return {column: plain(column, values[column]) for column in COLUMNS}


def _publish(partial: Path, path: Path) -> None:
    """On disk (fsync) under its final name before the rows are dropped."""
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.replace(path)


async def _archive_one(
    engine: AsyncEngine, partition: Partition, directory: Path
) -> ArchivedPartition:
    name = partition.name
    path = directory / f"{name}{SUFFIX}"
    partial = path.with_name(path.name + ".partial")
    async with engine.begin() as connection:
        await connection.execute(text(LOCK_TIMEOUT))
        await connection.execute(text(f"LOCK TABLE {name} IN SHARE MODE"))
        count = (await connection.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "table": APPEND_ONLY_TABLE,
            "partition": name,
            "from": partition.lower.isoformat() if partition.lower else None,
            "to": partition.upper.isoformat() if partition.upper else None,
            "rows": count,
        }
        written = 0
        with gzip.open(partial, "wt", encoding="utf-8") as out:
            out.write(json.dumps(header) + "\n")
            after: tuple[Any, Any] | None = None
            while True:  # keyset batches along the key (no cursor left open on the table)
                batch = await connection.execute(
                    text(
                        f"SELECT {', '.join(COLUMNS)} FROM {name}"
                        + (" WHERE (id, occurred_at) > (:id, :at)" if after else "")
                        + f" ORDER BY id, occurred_at LIMIT {BATCH}"
                    ),
                    {"id": after[0], "at": after[1]} if after else {},
                )
                rows = [dict(row) for row in batch.mappings()]
                for row in rows:
                    out.write(json.dumps(_row(row), separators=(",", ":")) + "\n")
                written += len(rows)
                if len(rows) < BATCH:
                    break
                after = (rows[-1]["id"], rows[-1]["occurred_at"])
        if written != count:
            partial.unlink()
            raise ArchiveError(f"{name}: {written} rows written, {count} expected")
        _publish(partial, path)
        await connection.execute(text(f"ALTER TABLE {APPEND_ONLY_TABLE} DETACH PARTITION {name}"))
        await connection.execute(text(f"DROP TABLE {name}"))
    return ArchivedPartition(name, written, path)


def archive_files(paths: Iterable[Path]) -> list[Path]:
    """The archive files named, a directory standing for every archive file in it."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.name.endswith(SUFFIX))
        elif path.is_file():
            files.append(path)
        else:
            raise ArchiveError(f"{path}: no such archive file or directory")
    return files


def read_archives(paths: Iterable[Path]) -> list[ArchivedEntry]:
    """Every entry of the archive files; a file that is not an archive, or whose row count
    differs from its header's, is refused."""
    entries: list[ArchivedEntry] = []
    for file in archive_files(paths):
        try:
            with gzip.open(file, "rt", encoding="utf-8") as lines:
                header = json.loads(next(lines))
                if header.get("format") != FORMAT or header.get("version") != VERSION:
                    raise ArchiveError(f"{file}: not a LearnHub audit archive")
                read = 0
                for line in lines:
                    row = json.loads(line)
                    entries.append(
                        ArchivedEntry(
                            id=uuid.UUID(row["id"]),
                            occurred_at=datetime.fromisoformat(row["occurred_at"]),
                            entity_type=row["entity_type"],
                            entity_id=uuid.UUID(row["entity_id"]),
                            action=AuditAction(row["action"]),
                            changes=row["changes"],
                        )
                    )
                    read += 1
        except (OSError, ValueError, KeyError, StopIteration) as error:
            raise ArchiveError(f"{file}: unreadable archive ({error})") from error
        if read != header["rows"]:
            raise ArchiveError(f"{file}: {read} rows, the header says {header['rows']}")
    return entries
