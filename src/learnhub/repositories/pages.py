"""Keyset pages: the cursor names the last row's sort value and id, so a page costs the same
at any depth and rows inserted meanwhile never shift it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, TypeDecorator, bindparam, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

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
    stmt = _ordered(stmt, order, id_column)
    key = order.field
    if isinstance(pagination, OffsetPagination):
        stmt = stmt.offset(pagination.offset)
    elif pagination.cursor:
        last_value, last_id = decode_cursor(pagination.cursor, order)
        boundary, after = tuple_(key, id_column), tuple_(last_value, last_id)
        stmt = stmt.where(boundary < after if order.descending else boundary > after)
    return stmt.limit(pagination.limit + 1)


def _ordered(stmt: Select[Any], order: Sort, id_column: Any) -> Select[Any]:
    if order.descending:
        return stmt.order_by(order.field.desc(), id_column.desc())
    return stmt.order_by(order.field.asc(), id_column.asc())


def keyset_template(
    stmt: Select[Any], order: Sort, id_column: Any, *, after_cursor: bool
) -> Select[Any]:
    """`keyset_statement` with its values as named parameters (`keyset_parameters`), for a
    hot read to build once and run many times: SQLAlchemy then neither rebuilds it nor
    recomputes its cache key (memoised on the statement), and PostgreSQL gets the same
    prepared statement every time."""
    stmt = _ordered(stmt, order, id_column)
    if after_cursor:
        after = tuple_(
            bindparam("after_value", type_=_cursor_value_type(order.field)),
            bindparam("after_id", type_=id_column.type),
        )
        boundary = tuple_(order.field, id_column)
        stmt = stmt.where(boundary < after if order.descending else boundary > after)
    return stmt.limit(bindparam("rows_wanted", type_=Integer()))


def _cursor_value_type(column: Any) -> TypeEngine[Any]:
    """The type a cursor's value is sent as: the column's storage type, without a type
    decorator's checks on input (`keyset_statement`'s literal values get the same). A forged
    but well-formed cursor value, such as year 1 at +05:00, is then just a value that sorts
    first, not an error in the decorator's UTC conversion."""
    column_type = column.type
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type


def keyset_parameters(order: Sort, pagination: CursorPagination) -> dict[str, Any]:
    """The values of a `keyset_template` made with `after_cursor=bool(pagination.cursor)`."""
    values: dict[str, Any] = {"rows_wanted": pagination.limit + 1}
    if pagination.cursor:
        values["after_value"], values["after_id"] = decode_cursor(pagination.cursor, order)
    return values


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
