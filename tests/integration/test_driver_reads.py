"""The catalog's driver-level read (db/driver_reads.py) answers exactly what SQLAlchemy's
own run of the same statement answers, typed alike, is counted and timed like any
statement, and steps aside wherever running on the driver would not be the same."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from learnhub.db.driver_reads import compile_read, fetch_typed
from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.models import Course
from learnhub.repositories.course_catalog import (
    CATALOG_SORTS,
    Listed,
    listed_currency,
    listed_page_read,
    listed_page_template,
)
from learnhub.repositories.filters import CursorPagination, Eq, encode_cursor
from learnhub.repositories.pages import keyset_parameters
from tests.integration.helpers import register
from tests.integration.test_catalog_read_model import published_course

pytestmark = pytest.mark.postgres_only


async def both_ways(
    connection: AsyncConnection,
    sort: str,
    pagination: CursorPagination,
    currency: str | None = None,
) -> tuple[list[tuple[Any, ...]] | None, list[tuple[Any, ...]]]:
    after, in_currency = bool(pagination.cursor), currency is not None
    values = keyset_parameters(CATALOG_SORTS[sort], pagination)
    if in_currency:
        values["currency"] = currency
    read = listed_page_read(sort, after, in_currency, connection.dialect)
    driver = await fetch_typed(connection, read, values)
    template = listed_page_template(sort, after, True, in_currency)
    ordinary = await connection.execute(template, values)
    return driver, [tuple(row) for row in ordinary.all()]


@pytest.mark.parametrize("sort", sorted(CATALOG_SORTS.keys() - {"created"}))
async def test_every_sort_and_cursor_page_answers_as_sqlalchemy_does(
    uow, session, connection: AsyncConnection, sort: str
) -> None:
    instructor = await register(uow)
    for tags in (["a"], ["b", "c"], []):
        await published_course(uow, instructor.id, tags)
    first, ordinary = await both_ways(connection, sort, CursorPagination(limit=2))
    assert first is not None, "inside the test's transaction the driver path is taken"
    assert first == ordinary and len(first) == 3
    # Typed as SQLAlchemy types them: enums, aware datetimes, decimals, lists.
    row = first[0]
    assert isinstance(row[6], DifficultyLevel) and row[7] is CourseStatus.PUBLISHED
    assert isinstance(row[9], Decimal) and isinstance(row[18], datetime)
    assert row[18].tzinfo is not None
    assert any(isinstance(tags, list) and tags for *_, tags, _o, _n, _g in first)
    order = CATALOG_SORTS[sort]
    last = first[1]
    key = {"rating": 9, "enrollments": 16, "newest": 20, "price": 4, "-price": 4}[sort]
    cursor = encode_cursor(order, last[key], last[0])
    after, ordinary_after = await both_ways(connection, sort, CursorPagination(2, cursor))
    assert after is not None and after == ordinary_after


async def test_a_price_page_within_its_currency_answers_as_sqlalchemy_does(
    uow, connection: AsyncConnection
) -> None:
    instructor = await register(uow)
    await published_course(uow, instructor.id, ["a"])  # priced in USD
    usd, ordinary = await both_ways(connection, "price", CursorPagination(limit=50), "USD")
    assert usd is not None and usd == ordinary and usd
    assert {row[5] for row in usd} == {"USD"}
    none, ordinary = await both_ways(connection, "price", CursorPagination(limit=50), "XTS")
    assert none == ordinary == []


def test_only_listed_and_a_currency_make_the_hot_shape() -> None:
    usd = Eq(Course.price_currency, "USD")
    assert listed_currency([Listed()]) == (True, None)
    assert listed_currency([Listed(), usd]) == (True, "USD")
    assert listed_currency([Listed(), Eq(Course.difficulty, "beginner")]) == (False, None)
    assert listed_currency([Listed(), usd, Eq(Course.price_currency, "EUR")]) == (False, None)


async def test_it_is_counted_and_timed_like_any_statement(uow, connection: AsyncConnection) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    await connection.execute(text("SELECT 1"))  # the transaction has begun on the driver
    sync = connection.sync_connection
    event.listen(sync, "before_cursor_execute", record)
    try:
        read = listed_page_read("rating", False, False, connection.dialect)
        assert await fetch_typed(connection, read, {"rows_wanted": 3}) is not None
    finally:
        event.remove(sync, "before_cursor_execute", record)
    assert seen == [(read.sql, (1, 3))]


async def test_it_steps_aside_before_a_transaction_has_begun(engine: AsyncEngine) -> None:
    """A connection that would BEGIN on its first statement (behind a transaction pooler,
    reads keep a transaction): only SQLAlchemy's run opens it."""
    read = listed_page_read("rating", False, False, engine.dialect)
    async with engine.connect() as connection:
        assert await fetch_typed(connection, read, {"rows_wanted": 1}) is None
        await connection.execute(text("SELECT 1"))  # now the driver is in the transaction
        assert await fetch_typed(connection, read, {"rows_wanted": 1}) is not None
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        assert await fetch_typed(autocommit, read, {"rows_wanted": 1}) is not None


async def test_a_driver_error_leaves_the_run_to_sqlalchemy(connection: AsyncConnection) -> None:
    broken = compile_read(text("SELECT 1 / 0"), connection.dialect)
    savepoint = await connection.begin_nested()
    assert await fetch_typed(connection, broken, {}) is None
    await savepoint.rollback()
