"""The catalog: listed courses by filters, sorts and search, its validator, and the rule
that amounts compare only within one currency."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from learnhub.domain.enums import DifficultyLevel
from learnhub.domain.errors import InvalidValue
from learnhub.models.course import Course
from learnhub.repositories.catalog import RELEVANCE, CatalogRepository, HasTag
from learnhub.repositories.course_catalog import CatalogPage, Listed
from learnhub.repositories.filters import CursorPagination, Eq, Filter, Range
from learnhub.services.base import BaseService

PRICE_SORTS = frozenset({"price", "-price"})


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    q: str | None = None
    difficulty: DifficultyLevel | None = None
    min_price: Any = None
    max_price: Any = None
    # Every tag given must be on the course.
    tags: Sequence[str] = ()
    instructor_id: uuid.UUID | None = None
    # An ISO 4217 code: the currency of `min_price`, `max_price` and the price sorts.
    currency: str | None = None


class CatalogService(BaseService):
    """The public catalog: the same for every caller, anonymous or not."""

    async def catalog(
        self, query: CatalogQuery, pagination: CursorPagination, sort: str | None
    ) -> CatalogPage:
        """Listed courses matching every filter given. With `q` they are ordered by relevance
        unless another sort is asked for; without `q` there is nothing to rank, and
        `relevance` is the default order (rating)."""
        q = query.q.strip() if query.q else None
        if not q and sort == RELEVANCE:
            sort = None
        sort = sort or (RELEVANCE if q else None)
        if sort == "created":
            raise InvalidValue("unknown sort 'created'")
        filters: list[Filter] = [Listed()]
        if query.difficulty is not None:
            filters.append(Eq(Course.difficulty, query.difficulty))
        if query.min_price is not None or query.max_price is not None:
            filters.append(Range(Course.price_amount, query.min_price, query.max_price))
        for tag in dict.fromkeys(t.strip().lower() for t in query.tags):
            filters.append(HasTag(tag))
        if query.instructor_id is not None:
            filters.append(Eq(Course.instructor_id, query.instructor_id))
        currency = query.currency
        if currency is None and self._needs_currency(query, sort):
            currency = await self._only_currency()
        if currency is not None:
            filters.append(Eq(Course.price_currency, currency))
        repo = self.uow.repo(CatalogRepository)
        return await repo.catalog_page(filters, pagination, sort, search=q or None)

    async def catalog_generation(self) -> int:
        """The catalog's generation now: any change a catalog page could show moves it (the
        database's triggers do, in the writing transaction), so a page tagged with the
        current generation is still the page (an HTTP validator without the listing)."""
        return await self.uow.repo(CatalogRepository).catalog_generation()

    async def catalog_validator(
        self, query: CatalogQuery, cursor: str | None, sort: str | None
    ) -> int | None:
        """`catalog_generation` for a conditional request whose page would be answered (a
        2xx) without reading it; None when only reading the page can tell: a cursor is
        checked against its sort by its page, and a price order or filter without a
        currency needs the listed prices in one currency. A request that would fail is
        never answered 304 (RFC 9110 13.2.1): it is read, and fails."""
        if cursor is not None:
            return None
        if query.currency is None and self._needs_currency(query, sort):
            await self._only_currency()  # refuses prices in more than one currency
        return await self.catalog_generation()

    @staticmethod
    def _needs_currency(query: CatalogQuery, sort: str | None) -> bool:
        return query.min_price is not None or query.max_price is not None or sort in PRICE_SORTS

    async def _only_currency(self) -> str | None:
        """Amounts compare only within one currency: a price filter or sort without
        `currency` is answered when every listed course is priced in one currency (that
        one, then filtered by like a given one: the price index leads with it), and refused
        otherwise."""
        currencies = await self.uow.repo(CatalogRepository).listed_currencies()
        if currencies is None:
            return None  # nothing listed
        if currencies[0] == currencies[1]:
            return currencies[0]
        raise InvalidValue(
            "listed courses are priced in more than one currency: pass currency "
            "(e.g. currency=USD) with min_price, max_price or a price sort"
        )
