"""The catalog baseline: a minimal Starlette endpoint on raw asyncpg that returns the same
rows as `GET /api/v1/courses?sort=rating` as the same JSON, in one SQL statement.

Served by uvicorn like the real app (`uvicorn bench.raw_app:app`); reads its database from
`BENCH_RAW_DSN`. It imports nothing from LearnHub on purpose. Only the first page and
`limit` are supported: it is a yardstick, not a second implementation of the catalog.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERY = """
SELECT c.id, c.slug, c.title, c.description, c.price_amount, c.price_currency, c.difficulty,
       c.status, c.instructor_id, c.rating, c.rating_count, c.rating_1_count,
       c.rating_2_count, c.rating_3_count, c.rating_4_count, c.rating_5_count,
       c.enrollment_count, c.version, c.created_at, c.updated_at, c.published_at,
       c.tutor_enabled, u.display_name AS instructor_name,
       ARRAY(SELECT t.name FROM course_tags ct JOIN tags t ON t.id = ct.tag_id
             WHERE ct.course_id = c.id AND t.deleted_at IS NULL ORDER BY t.name) AS tags,
       ARRAY(SELECT o.text FROM course_objectives o
             WHERE o.course_id = c.id AND o.deleted_at IS NULL ORDER BY o.position) AS objectives
FROM courses c
LEFT JOIN users u ON u.id = c.instructor_id AND u.deleted_at IS NULL
WHERE c.status = 'published' AND c.deleted_at IS NULL
ORDER BY c.rating DESC, c.id DESC
LIMIT $1
"""


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


def _cursor(row: asyncpg.Record) -> str:
    body = json.dumps(
        {"s": "rating", "v": str(row["rating"]), "id": str(row["id"])}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


async def catalog(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "20"))
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(QUERY, limit + 1)
    items = rows[:limit]
    body = {
        "items": [_course(r) for r in items],
        "next_cursor": _cursor(items[-1]) if len(rows) > limit else None,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The same pool size as the real app's default (LEARNHUB_DB_POOL_SIZE=10).
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_RAW_DSN"], min_size=1, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(routes=[Route("/api/v1/courses", catalog)], lifespan=lifespan)
