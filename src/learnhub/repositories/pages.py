"""Keyset pages: the cursor names the last row's sort value and id, so a page costs the same
at any depth and rows inserted meanwhile never shift it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.repositories.filters import (
    CursorPagination,
    OffsetPagination,
    Page,
    Sort,
    decode_cursor,
    encode_cursor,
)


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
    *,
    include_deleted: bool = False,
    rows: bool = False,
) -> Page[Any]:
    """One page of `stmt` in `order` (ties broken by id, same direction); of entities, or of
    `rows` for a statement selecting columns.

    Keyset by default: the cursor names the last row's sort value and id, so a page costs
    the same at any depth and rows inserted meanwhile never shift it. Offset only for small
    admin listings."""
    stmt = keyset_statement(stmt, order, id_column, pagination)
    result = await session.execute(stmt.execution_options(**{INCLUDE_DELETED: include_deleted}))
    found = list(result.all() if rows else result.scalars().all())
    return page_of(found, order, id_column, pagination)


def keyset_statement(
    stmt: Select[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
) -> Select[Any]:
    """`stmt` ordered, bounded after the cursor and limited to one row more than a page
    (that row only tells whether there is a next page)."""
    key = order.field
    if order.descending:
        stmt = stmt.order_by(key.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(key.asc(), id_column.asc())
    if isinstance(pagination, OffsetPagination):
        stmt = stmt.offset(pagination.offset)
    elif pagination.cursor:
        last_value, last_id = decode_cursor(pagination.cursor, order)
        boundary, after = tuple_(key, id_column), tuple_(last_value, last_id)
        stmt = stmt.where(boundary < after if order.descending else boundary > after)
    return stmt.limit(pagination.limit + 1)


def page_of(
    found: list[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
) -> Page[Any]:
    """The page in what `keyset_statement` found, and the cursor after it if there is more."""
    items = found[: pagination.limit]
    next_cursor = None
    if len(found) > pagination.limit and isinstance(pagination, CursorPagination):
        last = items[-1]
        next_cursor = encode_cursor(
            order, getattr(last, str(order.field.key)), getattr(last, id_column.key)
        )
    return Page(items=items, next_cursor=next_cursor)
