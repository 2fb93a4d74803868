"""The catalog baseline: a minimal Starlette endpoint on raw asyncpg that returns the same
rows as `GET /api/v1/courses?sort=...&cursor=...` as the same JSON, in one SQL statement.

It is the stack's limit, not a strawman: orjson, a pool as large as the load with every
connection opened at start and no reset on release (issue 18).

Served by uvicorn like the real app (`uvicorn bench.raw_app:app`); reads its database from
`BENCH_RAW_DSN`. It imports nothing from LearnHub on purpose. Only `sort`, `cursor` and
`limit` are supported (no filters, no validation): it is a yardstick, not a second
implementation of the catalog.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# A course card's columns: the catalog's and the course page's.
CARD = """
SELECT c.id, c.slug, c.title, c.description, c.price_amount, c.price_currency, c.difficulty,
       c.status, c.instructor_id, c.rating, c.rating_count, c.rating_1_count,
       c.rating_2_count, c.rating_3_count, c.rating_4_count, c.rating_5_count,
       c.enrollment_count, c.version, c.created_at, c.updated_at, c.published_at,
       c.tutor_enabled, u.display_name AS instructor_name,
       ARRAY(SELECT t.name FROM course_tags ct JOIN tags t ON t.id = ct.tag_id
             WHERE ct.course_id = c.id AND t.deleted_at IS NULL ORDER BY t.name) AS tags,
       ARRAY(SELECT o.text FROM course_objectives o
             WHERE o.course_id = c.id AND o.deleted_at IS NULL ORDER BY o.position) AS objectives
"""
SELECT = (
    CARD
    + """
FROM courses c
LEFT JOIN users u ON u.id = c.instructor_id AND u.deleted_at IS NULL
WHERE c.status = 'published' AND c.deleted_at IS NULL
"""
)


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool
    parse: Callable[[Any], Any]  # the cursor's value back to the column's type
    show: Callable[[Any], Any]  # the column's value in the cursor


def _same(value: Any) -> Any:
    return value


SORTS = {
    "rating": Sort("rating", True, Decimal, str),
    "enrollments": Sort("enrollment_count", True, int, _same),
    "newest": Sort("published_at", True, datetime.fromisoformat, datetime.isoformat),
    "price": Sort("price_amount", False, Decimal, str),
    "-price": Sort("price_amount", True, Decimal, str),
}


def _queries() -> dict[tuple[str, bool], str]:
    """Per sort, the first page's statement and the statement after a cursor."""
    queries = {}
    for name, sort in SORTS.items():
        way = "DESC" if sort.descending else "ASC"
        order = f"ORDER BY c.{sort.column} {way}, c.id {way}\n"
        after = f"AND (c.{sort.column}, c.id) {'<' if sort.descending else '>'} ($2, $3)\n"
        # A price order is within one currency (the `currency` parameter), as the catalog's.
        currency = "AND c.price_currency = $4\n" if "price" in name else ""
        queries[name, False] = SELECT + currency.replace("$4", "$2") + order + "LIMIT $1"
        queries[name, True] = SELECT + after + currency + order + "LIMIT $1"
    return queries


QUERIES = _queries()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _course(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
        "price": {"amount": str(row["price_amount"]), "currency": row["price_currency"]},
        "difficulty": row["difficulty"],
        "status": row["status"],
        "instructor_id": str(row["instructor_id"]),
        "instructor": {"id": str(row["instructor_id"]), "display_name": row["instructor_name"]},
        "rating": float(row["rating"]),
        "rating_count": row["rating_count"],
        "rating_histogram": {str(s): row[f"rating_{s}_count"] for s in range(1, 6)},
        "enrollment_count": row["enrollment_count"],
        "tags": list(row["tags"]),
        "objectives": list(row["objectives"]),
        "version": row["version"],
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
        "published_at": _time(row["published_at"]),
        "tutor_enabled": row["tutor_enabled"],
    }


def _cursor(name: str, row: asyncpg.Record) -> str:
    value = SORTS[name].show(row[SORTS[name].column])
    body = orjson.dumps({"s": name, "v": value, "id": str(row["id"])})
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def _after(cursor: str, name: str) -> tuple[Any, uuid.UUID]:
    data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return SORTS[name].parse(data["v"]), uuid.UUID(data["id"])


async def catalog(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "20"))
    name = request.query_params.get("sort", "rating")
    cursor = request.query_params.get("cursor")
    arguments: tuple[Any, ...] = (limit + 1,)
    if cursor:
        arguments += _after(cursor, name)
    if "price" in name:
        arguments += (request.query_params["currency"],)
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(QUERIES[name, bool(cursor)], *arguments)
    items = rows[:limit]
    body = {
        "items": [_course(r) for r in items],
        "next_cursor": _cursor(name, items[-1]) if len(rows) > limit else None,
    }
    return Response(orjson.dumps(body), media_type="application/json")


DETAIL = (
    CARD
    + """,
       (SELECT coalesce(json_agg(json_build_object(
            'id', s.id, 'course_id', s.course_id, 'title', s.title, 'position', s.position,
            'version', s.version,
            'videos', (SELECT coalesce(json_agg(json_build_object(
                    'id', v.id, 'title', v.title,
                    'url', CASE WHEN v.is_preview THEN v.url END,
                    'duration_seconds', v.duration_seconds, 'position', v.position,
                    'version', v.version, 'is_preview', v.is_preview,
                    'locked', NOT v.is_preview) ORDER BY v.position), '[]')
                FROM videos v WHERE v.section_id = s.id AND v.deleted_at IS NULL),
            'quizzes', (SELECT coalesce(json_agg(json_build_object(
                    'id', q.id, 'title', q.title, 'position', q.position,
                    'pass_mark', q.pass_mark, 'max_attempts', q.max_attempts,
                    'time_limit_seconds', q.time_limit_seconds, 'version', q.version,
                    'question_count', (SELECT count(*) FROM quiz_questions qq
                        WHERE qq.quiz_id = q.id AND qq.deleted_at IS NULL)
                    ) ORDER BY q.position), '[]')
                FROM quizzes q WHERE q.section_id = s.id AND q.deleted_at IS NULL)
            ) ORDER BY s.position), '[]')
        FROM sections s WHERE s.course_id = c.id AND s.deleted_at IS NULL) AS sections
FROM courses c
LEFT JOIN users u ON u.id = c.instructor_id AND u.deleted_at IS NULL
WHERE c.slug = $1 AND c.status = 'published' AND c.deleted_at IS NULL
"""
)


async def course(request: Request) -> Response:
    """A published course's page as an anonymous caller sees it (videos locked unless a free
    preview), in one statement; the sections arrive as JSON built by PostgreSQL."""
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(DETAIL, request.path_params["slug"])
    if row is None:
        return Response(status_code=404)
    body = _course(row) | {"sections": orjson.loads(row["sections"])}
    return Response(orjson.dumps(body), media_type="application/json")


async def no_reset(connection: asyncpg.Connection) -> None:
    """A released connection goes back as it is: this service never changes session state,
    so asyncpg's default reset (a `RESET ALL; UNLISTEN *; ...` round trip per release) is
    work it does not need."""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # As many connections as the load has clients (BENCH_POOL_SIZE, the app gets the same),
    # all opened at start: no request waits for a connection or pays for opening one.
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_RAW_DSN"], min_size=size, max_size=size, reset=no_reset
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[Route("/api/v1/courses", catalog), Route("/api/v1/courses/{slug}", course)],
    lifespan=lifespan,
)
