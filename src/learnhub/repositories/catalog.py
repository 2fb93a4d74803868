"""The catalog: pages of listed courses as cards (course_catalog.py builds the statements),
the catalog's generation, and the currencies listed prices are in.

It reads from a session or from a unit of work's pooled driver connection (`ReadSource`,
db/driver_reads.py; DriverReadUnitOfWork): the anonymous catalog, the platform's hottest
read, runs without a Session. Its fixed statements are compiled once and run on the driver
where they can; statements built per request (filters, search) run through SQLAlchemy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Dialect

from learnhub.db.driver_reads import (
    CompiledRead,
    ReadSource,
    compile_read,
    source_dialect,
    source_rows,
)
from learnhub.db.soft_delete import live
from learnhub.models.course import Course, Tag
from learnhub.models.course.catalog_generation import CATALOG_GENERATION_ROW, CatalogGeneration
from learnhub.repositories.course_catalog import (
    CATALOG_SORTS,
    GENERATION_AT,
    CatalogCard,
    CatalogPage,
    Listed,
    card_of,
    catalog_select,
    listed_currency,
    listed_page_read,
    listed_page_template,
)
from learnhub.repositories.course_search import Mode, TextSearch, mode_of, search_sort_name
from learnhub.repositories.filters import (
    CursorPagination,
    Filter,
    Page,
    Sort,
    cursor_sort_name,
    sort_named,
)
from learnhub.repositories.pages import keyset_parameters, keyset_statement, page_of

# Ordering by how well a course matches `q`: only with `q` (the default then).
RELEVANCE = "relevance"
DEFAULT_SORT = "rating"


class HasTag(Filter):
    def __init__(self, name: str) -> None:
        self.name = name

    def clause(self) -> ColumnElement[bool]:
        # Explicitly live tags: the catalog runs this as Core, outside the global filter.
        return Course.tags.any((Tag.name == self.name) & live(Tag))


def _through_sqlalchemy(_dialect: Dialect) -> None:
    """For a statement built per request: no compiled form, it runs through SQLAlchemy."""
    return None


def _compiled_once(build: Callable[[], Select[Any]]) -> Callable[[Dialect], CompiledRead | None]:
    """A fixed statement's compiled form per dialect, for the driver (PostgreSQL only)."""

    @functools.lru_cache(maxsize=16)  # per engine (dialect)
    def read_for(dialect: Dialect) -> CompiledRead | None:
        return compile_read(build(), dialect) if dialect.name == "postgresql" else None

    return read_for


@functools.cache
def generation_statement() -> Select[Any]:
    return select(CatalogGeneration.generation).where(
        CatalogGeneration.id == CATALOG_GENERATION_ROW
    )


@functools.cache
def currencies_statement() -> Select[Any]:
    """The lowest and highest currency code of listed courses: two lookups at the ends of
    ix_courses_price (which leads with the currency), whatever the catalog's size."""
    listed = (Listed().clause(), live(Course))
    lowest = select(func.min(Course.price_currency)).where(*listed).scalar_subquery()
    highest = select(func.max(Course.price_currency)).where(*listed).scalar_subquery()
    return select(lowest, highest)


_generation_read = _compiled_once(generation_statement)
_currencies_read = _compiled_once(currencies_statement)


class CatalogRepository:
    READS_ON_DRIVER = True

    def __init__(self, source: ReadSource) -> None:
        self.source = source

    @property
    def postgres(self) -> bool:
        return source_dialect(self.source).name == "postgresql"

    async def catalog_page(
        self,
        filters: Sequence[Filter],
        pagination: CursorPagination,
        sort: str | None,
        search: str | None = None,
    ) -> CatalogPage:
        """`_catalog_page`, with the catalog generation the page was read at. A page with
        cards carries it in its own rows (one snapshot); an empty page has no row to carry
        it, so the generation is read first and the page again after it: what it shows is
        then at least as new as the generation it is tagged with (a validator may only ever
        be older than its page, never newer, or a 304 could hide a change)."""
        page = await self._catalog_page(filters, pagination, sort, search)
        if page.items:
            return page
        generation = await self.catalog_generation()
        again = await self._catalog_page(filters, pagination, sort, search)
        return again if again.items else replace(again, generation=generation)

    async def catalog_generation(self) -> int:
        """The catalog's generation now (models/course/catalog_generation.py)."""
        rows = await source_rows(self.source, generation_statement(), _generation_read, {})
        return int(rows[0][0])

    async def listed_currencies(self) -> tuple[str, str] | None:
        """The lowest and highest currency code of listed courses (None when none is
        listed): equal when every listed price is in one currency."""
        rows = await source_rows(self.source, currencies_statement(), _currencies_read, {})
        low, high = rows[0]
        return None if low is None else (low, high)

    async def _catalog_page(
        self,
        filters: Sequence[Filter],
        pagination: CursorPagination,
        sort: str | None,
        search: str | None = None,
    ) -> CatalogPage:
        """One page of catalog cards in ONE statement (SPEC 4 read models): the course
        columns, with its tags and objectives aggregated by correlated sub-selects, mapped
        straight to cards.

        The hottest read of the platform, so it skips what it does not need: the statement
        is built once per dialect, and it runs as a Core statement, not through the ORM (no
        entities are loaded). That also bypasses the ORM's global soft-delete filter, so the
        statement applies `live()` to every table it reads itself.

        `search` (the catalog's `q`, see course_search) narrows to matching courses; `sort`
        "relevance" orders by how well they match. On PostgreSQL a first page that full-text
        search leaves empty is tried again with the typo fallback; the cursor's sort name
        remembers which of the two found the pages."""
        postgres = self.postgres
        hot, currency = listed_currency(filters)
        if search is None and hot:
            return await self._listed_cards(_sort(sort), pagination, currency, postgres=postgres)
        stmt = catalog_select(postgres).where(*(f.clause() for f in filters))
        if search is None:
            return await self._cards(stmt, _sort(sort), pagination, postgres=postgres)
        by_cursor = cursor_sort_name(pagination.cursor) if pagination.cursor else None
        page = await self._searched(stmt, TextSearch(search, mode_of(by_cursor)), sort, pagination)
        typo = TextSearch(search, Mode.TYPO)
        if page.items or pagination.cursor or not postgres or not typo.typo_words():
            return page
        return await self._searched(stmt, typo, sort, pagination)

    async def _searched(
        self, stmt: Select[Any], search: TextSearch, sort: str | None, pagination: CursorPagination
    ) -> CatalogPage:
        postgres = self.postgres
        stmt, rank = search.apply(stmt, postgres=postgres)
        if sort == RELEVANCE:
            order = Sort(RELEVANCE, rank, descending=True, value_type=float)
        else:
            order = _sort(sort)
        order = replace(order, name=search_sort_name(order.name, search.mode))
        return await self._cards(stmt, order, pagination, postgres=postgres)

    async def _cards(
        self, stmt: Select[Any], order: Sort, pagination: CursorPagination, *, postgres: bool
    ) -> CatalogPage:
        stmt = keyset_statement(stmt, order, Course.id, pagination)
        rows = await source_rows(self.source, stmt, _through_sqlalchemy, {})
        return _page_of_rows(rows, order, pagination, postgres=postgres)

    async def _listed_cards(
        self,
        order: Sort,
        pagination: CursorPagination,
        currency: str | None,
        *,
        postgres: bool,
    ) -> CatalogPage:
        """The catalog unfiltered (or within one currency) in one of its sorts: the platform's
        hottest read, so its statement is built once per shape (`listed_page_template`) and
        run with the page's values. The same statement `_cards` would build, soft delete and
        listing included."""
        after, in_currency = bool(pagination.cursor), currency is not None
        values = keyset_parameters(order, pagination)
        if in_currency:
            values["currency"] = currency
        template = listed_page_template(order.name, after, postgres, in_currency)

        def read_for(dialect: Dialect) -> CompiledRead | None:
            return listed_page_read(order.name, after, in_currency, dialect) if postgres else None

        rows = await source_rows(self.source, template, read_for, values)
        return _page_of_rows(rows, order, pagination, postgres=postgres)


def _sort(name: str | None) -> Sort:
    return sort_named(CATALOG_SORTS, name, DEFAULT_SORT)


def _page_of_rows(
    rows: Sequence[Any], order: Sort, pagination: CursorPagination, *, postgres: bool
) -> CatalogPage:
    cards = [card_of(row, postgres=postgres) for row in rows]
    page: Page[CatalogCard] = page_of(cards, order, Course.id, pagination)
    generation = int(rows[0][GENERATION_AT]) if rows else 0
    return CatalogPage(items=page.items, next_cursor=page.next_cursor, generation=generation)
