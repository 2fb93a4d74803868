"""`learnhub db report`: each hot query of the application, run through the very repository
and service code that serves it, captured as the driver receives it, and EXPLAINed with the
same parameters (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN plus a timed run on
SQLite), so the effect of each index is visible.

`without_indexes` first drops the secondary indexes of the tables involved in the caller's
transaction; the caller rolls it back, so nothing changes. Nothing here commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.enums import AuditAction
from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES
from learnhub.domain.principal import Principal
from learnhub.ops.plans import Issued, PlanRepository, ReportSampleRepository
from learnhub.ops.plans import ReportSamples as Samples
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.course_catalog import CATALOG_SORTS
from learnhub.repositories.course_progress import CourseProgressRepository
from learnhub.repositories.filters import CursorPagination, encode_cursor
from learnhub.repositories.learning import (
    CourseCounterRepository,
    EnrollmentRepository,
    ProgressRepository,
)
from learnhub.repositories.user import UserRepository
from learnhub.services.activity import ActivityService
from learnhub.services.audit import AuditQuery, AuditService
from learnhub.services.base import BaseService
from learnhub.services.catalog import PRICE_SORTS, CatalogQuery, CatalogService
from learnhub.services.course import CourseService
from learnhub.services.learning import EnrollmentService

PAGE = 20  # the API's default page size
CATALOG_TABLES = ("courses", "course_tags", "tags", "course_objectives")

# A query's code runs against the unit of work with the sample ids and returns a note about
# its parameters (or None when they are real rows).
Runner = Callable[[AbstractUnitOfWork, Samples], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class HotQuery:
    name: str
    table: str  # the explained statement is the last ORM select from this table
    tables: tuple[str, ...]  # whose secondary indexes `without_indexes` drops
    run: Runner

    def picks(self, issued: Issued) -> bool:
        return issued.statement.lstrip().startswith(f"SELECT {self.table}.")


@dataclass(frozen=True, slots=True)
class QueryReport:
    name: str
    summary: str = ""
    indexes: list[str] = field(default_factory=list)
    full_scans: list[str] = field(default_factory=list)
    time_ms: float | None = None
    timing: str = ""
    note: str | None = None
    statement: str = ""

    @property
    def access(self) -> str:
        """The index(es) used, or SEQ SCAN when a table is read in full."""
        parts = list(self.indexes) + [f"SEQ SCAN {t}" for t in self.full_scans]
        return ", ".join(parts) if parts else "-"


@dataclass(frozen=True, slots=True)
class DbReport:
    dialect: str
    without_indexes: bool
    dropped_indexes: list[str]
    queries: list[QueryReport]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for query, report in zip(data["queries"], self.queries, strict=True):
            query["access"] = report.access
        return data


def _unknown(what: str) -> str:
    return f"no {what} in the database: plan for an unknown id"


def _principal(user_id: uuid.UUID, admin: bool = False) -> Principal:
    roles, permissions = (
        (frozenset({ADMIN}), BUILTIN_ROLES[ADMIN][1])
        if admin
        else (
            frozenset(),
            frozenset(),
        )
    )
    return Principal(user_id=user_id, session_id=None, roles=roles, permissions=permissions)


def _catalog(sort: str, make: Callable[[Samples], CatalogQuery | None] | None = None) -> Runner:
    async def run(uow: AbstractUnitOfWork, s: Samples) -> str | None:
        query = make(s) if make else CatalogQuery()
        note = None
        used = sort
        if query is None:
            query, note = CatalogQuery(), "no listed course in the database: no filter value"
            used = "rating" if sort == "relevance" else sort  # relevance needs a q
        if query.currency is None and (used in PRICE_SORTS or query.min_price is not None):
            # Amounts compare within one currency: that of the sample course.
            query = replace(query, currency=s.currency)
        await CatalogService(uow).catalog(query, CursorPagination(PAGE), used)
        return note

    return run


async def _catalog_page_two(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    service = CatalogService(uow)
    first = await service.catalog(CatalogQuery(), CursorPagination(PAGE), "rating")
    note = None
    cursor = first.next_cursor
    if cursor is None:  # one page only: the keyset after its last row (an empty page 2)
        order = CATALOG_SORTS["rating"]
        if first.items:
            last = first.items[-1]
            cursor = encode_cursor(order, last.rating, last.id)
            note = f"fewer than {PAGE + 1} listed courses: page 2 is empty"
        else:
            cursor = encode_cursor(order, Decimal("5"), uuid.uuid4())
            note = "no listed course in the database: a made-up cursor"
    await service.catalog(CatalogQuery(), CursorPagination(PAGE, cursor), "rating")
    return note


def _search_word(title: str | None) -> str | None:
    words = sorted(re.findall(r"[^\W\d_]{4,}", title or ""), key=len, reverse=True)
    return words[0].lower() if words else None


def _typo(word: str) -> str:
    """`word` without its third letter: no word matches, a similar one does (on PostgreSQL
    the catalog then asks the trigram index; the report shows that second statement)."""
    return word[:2] + word[3:]


async def _learner_enrollments(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await EnrollmentService(uow).mine(
        _principal(s.learner_id or uuid.uuid4()), CursorPagination(PAGE)
    )
    return None if s.learner_id else _unknown("enrolment")


async def _enrollment_lookup(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(EnrollmentRepository).for_user_and_course(
        s.learner_id or uuid.uuid4(), s.enrolled_course_id or uuid.uuid4()
    )
    return None if s.learner_id else _unknown("enrolment")


async def _video_progress(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(ProgressRepository).for_user_and_video(
        s.progress_user_id or uuid.uuid4(), s.progress_video_id or uuid.uuid4()
    )
    return None if s.progress_user_id else _unknown("video progress")


async def _outline_videos(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(CourseProgressRepository).videos(
        s.progress_user_id or uuid.uuid4(), s.progress_course_id or uuid.uuid4()
    )
    return None if s.progress_user_id else _unknown("video progress")


async def _outline_quizzes(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(CourseProgressRepository).quizzes(
        s.progress_user_id or uuid.uuid4(), s.progress_course_id or uuid.uuid4()
    )
    return None if s.progress_user_id else _unknown("video progress")


async def _course_items(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(CourseCounterRepository).item_totals([s.course_id or uuid.uuid4()])
    return None if s.course_id else _unknown("listed course")


async def _course_history(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    if s.course_id is None:
        await uow.repo(AuditLogRepository).for_entities(["course"], [uuid.uuid4()], 51)
        return _unknown("listed course")
    await CourseService(uow).history(_principal(uuid.uuid4(), admin=True), s.course_id, 51)
    return None


async def _user_history(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(AuditLogRepository).for_entity("user", s.user_id or uuid.uuid4())
    return None if s.user_id else _unknown("user")


def _audit_trail(make: Callable[[Samples], AuditQuery], needs: str | None = None) -> Runner:
    async def run(uow: AbstractUnitOfWork, s: Samples) -> str | None:
        admin = _principal(uuid.uuid4(), admin=True)
        await AuditService(uow).search(admin, make(s), CursorPagination(PAGE))
        return _unknown(needs) if needs and getattr(s, f"{needs}_id") is None else None

    return run


async def _activity(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await ActivityService(uow).page(s.activity_user_id or uuid.uuid4(), CursorPagination(PAGE))
    return None if s.activity_user_id else _unknown("learner activity")


async def _login_lookup(uow: AbstractUnitOfWork, s: Samples) -> str | None:
    await uow.repo(UserRepository).get_by_email(s.user_email or "nobody@example.com")
    return None if s.user_email else _unknown("user")


def hot_queries() -> list[HotQuery]:
    def catalog(name: str, sort: str, make: Any = None) -> HotQuery:
        return HotQuery(name, "courses", CATALOG_TABLES, _catalog(sort, make))

    return [
        *(catalog(f"catalog sort={sort}", sort) for sort in ("rating", "enrollments", "newest")),
        catalog("catalog sort=price", "price"),
        catalog("catalog sort=-price", "-price"),
        HotQuery("catalog page 2 (keyset cursor)", "courses", CATALOG_TABLES, _catalog_page_two),
        catalog(
            "catalog q=<word of a title>",
            "relevance",
            lambda s: CatalogQuery(q=w) if (w := _search_word(s.title)) else None,
        ),
        catalog(
            "catalog q=<word of a title> sort=rating",
            "rating",
            lambda s: CatalogQuery(q=w) if (w := _search_word(s.title)) else None,
        ),
        catalog(
            "catalog q=<a typo of a title word>",
            "relevance",
            lambda s: CatalogQuery(q=_typo(w)) if (w := _search_word(s.title)) else None,
        ),
        catalog(
            "catalog difficulty=",
            "rating",
            lambda s: CatalogQuery(difficulty=s.difficulty) if s.difficulty else None,
        ),
        catalog("catalog tag=", "rating", lambda s: CatalogQuery(tags=(s.tag,)) if s.tag else None),
        catalog(
            "catalog instructor_id=",
            "rating",
            lambda s: CatalogQuery(instructor_id=s.instructor_id) if s.instructor_id else None,
        ),
        catalog(
            "catalog price 10..60",
            "rating",
            lambda s: CatalogQuery(min_price=Decimal("10"), max_price=Decimal("60")),
        ),
        HotQuery("enrolments of a learner", "enrollments", ("enrollments",), _learner_enrollments),
        HotQuery(
            "enrolment of a learner in a course",
            "enrollments",
            ("enrollments",),
            _enrollment_lookup,
        ),
        HotQuery(
            "video progress of a learner", "video_progress", ("video_progress",), _video_progress
        ),
        HotQuery(
            "course progress: videos in outline",
            "videos",
            ("videos", "sections", "video_progress"),
            _outline_videos,
        ),
        HotQuery(
            "course progress: quizzes in outline",
            "quizzes",
            ("quizzes", "sections", "quiz_attempts"),
            _outline_quizzes,
        ),
        HotQuery("course progress: item totals", "videos", ("videos", "quizzes"), _course_items),
        HotQuery("course history (audit)", "audit_log", ("audit_log",), _course_history),
        HotQuery("user history (audit, export)", "audit_log", ("audit_log",), _user_history),
        HotQuery(
            "audit trail (GET /audit)",
            "audit_log",
            ("audit_log",),
            _audit_trail(lambda _s: AuditQuery()),
        ),
        HotQuery(
            "audit trail actor_id=",
            "audit_log",
            ("audit_log",),
            _audit_trail(lambda s: AuditQuery(actor_id=s.user_id or uuid.uuid4()), "user"),
        ),
        HotQuery(
            "audit trail entity_type=&entity_id=",
            "audit_log",
            ("audit_log",),
            _audit_trail(
                lambda s: AuditQuery(entity_type="course", entity_id=s.course_id or uuid.uuid4()),
                "course",
            ),
        ),
        HotQuery(
            "audit trail action=",
            "audit_log",
            ("audit_log",),
            _audit_trail(lambda s: AuditQuery(action=AuditAction.RESTORE)),
        ),
        HotQuery("learner activity", "user_activity", ("user_activity",), _activity),
        HotQuery("user by e-mail (login)", "users", ("users",), _login_lookup),
    ]


class DbReportService(BaseService):
    async def report(self, *, without_indexes: bool = False) -> DbReport:
        plans = self.uow.repo(PlanRepository)
        samples = await self.uow.repo(ReportSampleRepository).samples()
        queries = hot_queries()
        dropped: list[str] = []
        if without_indexes:
            tables = list(dict.fromkeys(t for q in queries for t in q.tables))
            dropped = await plans.secondary_indexes(tables)
            await plans.drop_indexes(dropped)
        results = [await self._one(plans, query, samples) for query in queries]
        return DbReport(await plans.dialect(), without_indexes, dropped, results)

    async def _one(self, plans: PlanRepository, query: HotQuery, samples: Samples) -> QueryReport:
        async with plans.capture() as issued:
            note = await query.run(self.uow, samples)
        picked = [i for i in issued if query.picks(i)]
        if not picked:
            return QueryReport(query.name, note=note or "the statement was not issued")
        plan = await plans.explain(picked[-1])
        return QueryReport(
            name=query.name,
            summary=plan.summary,
            indexes=plan.indexes,
            full_scans=plan.full_scans,
            time_ms=round(plan.time_ms, 3),
            timing=plan.timing,
            note=note,
            statement=picked[-1].statement,
        )
