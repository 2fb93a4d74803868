"""The catalog reads `courses` through an index for every sort and filter (SPEC 6).

Proved with EXPLAIN, not by assumption: a few thousand courses are bulk-inserted (mostly
published, some drafts and archived ones, a few soft-deleted) and ANALYZEd, then each catalog
query is issued through CatalogService.catalog exactly as the API issues it. The SQL and
parameters the driver receives are captured with a `before_cursor_execute` listener and
re-run as `EXPLAIN (FORMAT JSON)` with the same parameters, and the plan tree is walked: the
`courses` table must be read through the expected index and never by a sequential scan. No
planner settings are touched (no `enable_seqscan = off`); the only preparation beyond ANALYZE
is folding the GIN indexes' pending lists (full text, trigrams) into the index, as autovacuum
does in a live database (see `seed`).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.db.session import LearnHubSession
from learnhub.db.uow import UnitOfWork
from learnhub.domain.enums import CourseStatus, DifficultyLevel, UserStatus
from learnhub.models import User
from learnhub.models.course import Course, Tag, course_tags
from learnhub.repositories.filters import CursorPagination
from learnhub.services.catalog import CatalogQuery, CatalogService

pytestmark = pytest.mark.postgres_only

COURSES = 4000
INSTRUCTORS = 80
# Learners too: `users` is as big as a live platform's compared with its catalog, so the
# instructor's name (joined into every card) is planned as the lookup it is at scale.
LEARNERS = 20000
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

# Realistic titles: "<Level> <Topic> <Angle>". The topics carry the `q` searches; one rare
# topic ("Kubernetes", ~1 % of courses) is what a selective user search looks like.
LEVELS = [
    "Practical",
    "Complete",
    "Modern",
    "Hands-on",
    "Essential",
    "Advanced",
    "Introduction to",
    "Mastering",
    "Applied",
    "The Art of",
]
TOPICS = [
    "Python",
    "JavaScript",
    "TypeScript",
    "React",
    "SQL",
    "PostgreSQL",
    "Data Analysis",
    "Machine Learning",
    "Statistics",
    "Linear Algebra",
    "Photography",
    "Watercolour Painting",
    "Guitar",
    "Music Theory",
    "Spanish",
    "Japanese",
    "Public Speaking",
    "Project Management",
    "Accounting",
    "Marketing",
    "UX Design",
    "Figma",
    "Rust",
    "Go",
    "Docker",
    "Cloud Architecture",
    "Cybersecurity",
    "Excel",
    "Creative Writing",
    "Nutrition",
]
RARE_TOPIC = "Kubernetes"
ANGLES = [
    "for Beginners",
    "from Scratch",
    "in Practice",
    "Bootcamp",
    "for Professionals",
    "Crash Course",
    "Masterclass",
    "Step by Step",
    "Fundamentals",
    "Deep Dive",
]
TAGS = [
    "python",
    "javascript",
    "data",
    "web",
    "design",
    "music",
    "languages",
    "business",
    "cloud",
    "security",
    "photography",
    "writing",
    "health",
    "math",
    "devops",
    "mobile",
    "career",
    "productivity",
    "art",
    "finance",
]
PRICES = [Decimal(p) for p in ("0.00", "9.99", "14.99", "19.99", "29.99", "49.99", "89.99")] + [
    Decimal("199.99")
]


@dataclass
class Catalog:
    connection: AsyncConnection
    factory: async_sessionmaker[AsyncSession]
    busy_instructor: uuid.UUID  # one of 80 instructors: ~50 courses
    course_indexes: frozenset[str] = field(default_factory=frozenset)


def course_rows(instructors: list[uuid.UUID], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(COURSES):
        topic = RARE_TOPIC if rng.random() < 0.01 else rng.choice(TOPICS)
        title = f"{rng.choice(LEVELS)} {topic} {rng.choice(ANGLES)}"
        roll = rng.random()
        if roll < 0.85:
            status = CourseStatus.PUBLISHED
        elif roll < 0.96:
            status = CourseStatus.DRAFT
        else:
            status = CourseStatus.ARCHIVED
        created = EPOCH + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        published = (
            created + timedelta(days=rng.randrange(1, 30)) if status != CourseStatus.DRAFT else None
        )
        # Most courses have few learners, a handful are hits.
        enrollments = int(rng.paretovariate(1.2) * 10) if status != CourseStatus.DRAFT else 0
        rated = status != CourseStatus.DRAFT and enrollments > 12
        rows.append(
            {
                "id": uuid.uuid4(),
                "title": title,
                "slug": f"{title.lower().replace(' ', '-')}-{i}",
                "description": (
                    f"Learn {topic} {rng.choice(ANGLES).lower()}: {rng.randrange(8, 60)} "
                    f"lessons with exercises, quizzes and a final project on "
                    f"{rng.choice(TOPICS)}."
                ),
                "instructor_id": rng.choice(instructors),
                "price_amount": rng.choice(PRICES),
                "price_currency": "USD",
                "difficulty": rng.choice(list(DifficultyLevel)),
                "status": status,
                "published_at": published,
                "rating": Decimal(rng.randrange(100, 501)) / 100 if rated else Decimal("0.00"),
                "rating_count": rng.randrange(1, enrollments) if rated else 0,
                "enrollment_count": min(enrollments, 1_000_000),
                "created_at": created,
                "updated_at": created,
                # A few soft-deleted courses (of every status) must stay out of the catalog.
                "deleted_at": created + timedelta(days=60) if rng.random() < 0.01 else None,
            }
        )
    return rows


async def seed(connection: AsyncConnection) -> uuid.UUID:
    """Bulk Core INSERTs (test data: the audit trail is irrelevant here), then ANALYZE."""
    rng = random.Random(20261125)
    instructors = [uuid.uuid4() for _ in range(INSTRUCTORS)]
    await connection.execute(
        insert(User.__table__),
        [
            {
                "id": user_id,
                "email": f"instructor{n}.{user_id.hex[:8]}@example.com",
                "display_name": f"Instructor {n}",
                "password_hash": "x",
                "status": UserStatus.ACTIVE,
            }
            for n, user_id in enumerate(instructors)
        ],
    )
    await connection.execute(
        insert(User.__table__),
        [
            {
                "id": uuid.uuid4(),
                "email": f"learner{n}@example.com",
                "display_name": f"Learner {n}",
                "password_hash": "x",
                "status": UserStatus.ACTIVE,
            }
            for n in range(LEARNERS)
        ],
    )
    tag_ids = {name: uuid.uuid4() for name in TAGS}
    await connection.execute(
        insert(Tag.__table__), [{"id": i, "name": name} for name, i in tag_ids.items()]
    )
    # One busy instructor (~50 courses), the rest spread evenly.
    busy = instructors[0]
    rows = course_rows(instructors[1:], rng)
    for row in rng.sample(rows, 50):
        row["instructor_id"] = busy
    await connection.execute(insert(Course.__table__), rows)
    links = [
        {"course_id": row["id"], "tag_id": tag_ids[name]}
        for row in rows
        for name in rng.sample(TAGS, rng.randrange(1, 4))
    ]
    await connection.execute(insert(course_tags), links)
    # GIN indexes queue inserts in a pending list (fastupdate) that autovacuum folds into the
    # index in a live database. Fresh from one bulk insert, the whole trigram index is still
    # pending, and the planner prices every trigram lookup as a scan of that list. Fold it in
    # as autovacuum would: this is the steady state, not a planner setting.
    for index in ("ix_courses_title_trgm", "ix_courses_search_fts"):
        await connection.execute(
            text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": index}
        )
    await connection.exec_driver_sql("ANALYZE users, tags, courses, course_tags")
    return busy


@pytest.fixture(scope="module")
async def catalog(engine: AsyncEngine) -> AsyncIterator[Catalog]:
    """Seeded once for the module, inside a transaction rolled back at the end."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        try:
            busy = await seed(connection)
            result = await connection.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'courses'"
            )
            factory = async_sessionmaker(
                bind=connection,
                sync_session_class=LearnHubSession,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
            )
            yield Catalog(connection, factory, busy, frozenset(r[0] for r in result))
        finally:
            await outer.rollback()


# ---- capturing the app's SQL and explaining it ---------------------------------------------


@dataclass
class Issued:
    statement: str
    parameters: Any


class Capture:
    """Every statement the driver receives on `connection` while active."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.sync = connection.sync_connection
        self.issued: list[Issued] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.issued.append(Issued(statement, parameters))

    def __enter__(self) -> Capture:
        event.listen(self.sync, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.sync, "before_cursor_execute", self._record)

    def catalog_selects(self) -> list[Issued]:
        return [i for i in self.issued if i.statement.lstrip().startswith("SELECT courses.")]

    def catalog_select(self) -> Issued:
        selects = self.catalog_selects()
        assert len(selects) == 1, [i.statement for i in self.issued]
        return selects[0]


async def run_catalog(
    cat: Catalog, query: CatalogQuery, sort: str, cursor: str | None = None
) -> tuple[Issued, list[Issued], str | None]:
    with Capture(cat.connection) as capture:
        async with UnitOfWork(cat.factory) as uow:
            page = await CatalogService(uow).catalog(query, CursorPagination(20, cursor), sort)
    return capture.catalog_select(), capture.issued, page.next_cursor


async def explain(cat: Catalog, issued: Issued) -> dict[str, Any]:
    result = await cat.connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + issued.statement, issued.parameters
    )
    raw = result.scalar_one()
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return plan[0]["Plan"]  # type: ignore[no-any-return]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def course_index_reads(cat: Catalog, plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, index name) for every index read on `courses` in the plan."""
    return [
        (n["Node Type"], n["Index Name"])
        for n in nodes(plan)
        if n["Node Type"] in INDEX_NODES and n["Index Name"] in cat.course_indexes
    ]


def seq_scans(plan: dict[str, Any]) -> list[str]:
    return [n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"]


def outline(plan: dict[str, Any], depth: int = 0) -> str:
    """A compact text rendering for assertion messages."""
    bits = [plan["Node Type"]]
    for key in ("Index Name", "Relation Name", "Index Cond", "Filter", "Recheck Cond"):
        if key in plan:
            bits.append(f"{key}={plan[key]}")
    lines = ["  " * depth + " ".join(bits)]
    lines += [outline(child, depth + 1) for child in plan.get("Plans", ())]
    return "\n".join(lines)


# ---- the catalog queries ------------------------------------------------------------------

SORT_INDEX = {
    "rating": "ix_courses_rating_desc",
    "enrollments": "ix_courses_enrollment_count_desc",
    "newest": "ix_courses_published_at_desc",
    "price": "ix_courses_price",
    "-price": "ix_courses_price",
}


@pytest.mark.parametrize("page", [1, 2], ids=["first-page", "cursor-page"])
@pytest.mark.parametrize("sort", list(SORT_INDEX))
async def test_every_catalog_sort_is_an_index_scan(catalog, sort, page):
    issued, _, cursor = await run_catalog(catalog, CatalogQuery(), sort)
    if page == 2:
        assert cursor is not None
        issued, _, _ = await run_catalog(catalog, CatalogQuery(), sort, cursor)
    plan = await explain(catalog, issued)
    shown = outline(plan)
    assert "courses" not in seq_scans(plan), shown
    reads = course_index_reads(catalog, plan)
    assert reads == [("Index Scan", SORT_INDEX[sort])], shown
    # The instructor's name: a primary-key lookup per card of the page, never a scan.
    assert "users" not in seq_scans(plan), shown
    if page == 2:
        # The keyset boundary is an index condition: page N costs what page 1 costs.
        (scan,) = (n for n in nodes(plan) if n.get("Index Name") == SORT_INDEX[sort])
        assert "Index Cond" in scan and "id" in scan["Index Cond"], shown


def busy(cat: Catalog) -> uuid.UUID:
    return cat.busy_instructor


# (id, query factory, sort, the indexes the plan may read `courses` through). Where a filter
# is selective enough that PostgreSQL rightly starts from another index, that index is named.
FILTERS: list[tuple[str, Any, str, set[str]]] = [
    (
        "difficulty",
        lambda c: CatalogQuery(difficulty=DifficultyLevel.ADVANCED),
        "rating",
        {"ix_courses_rating_desc"},
    ),
    (
        "difficulty-newest",
        lambda c: CatalogQuery(difficulty=DifficultyLevel.BEGINNER),
        "newest",
        {"ix_courses_published_at_desc"},
    ),
    (
        "price-range-by-rating",
        lambda c: CatalogQuery(min_price=Decimal("10"), max_price=Decimal("30")),
        "rating",
        {"ix_courses_rating_desc", "ix_courses_price"},
    ),
    (
        "price-range-by-price",
        lambda c: CatalogQuery(min_price=Decimal("10"), max_price=Decimal("60")),
        "price",
        {"ix_courses_price"},
    ),
    (
        "free-only",
        lambda c: CatalogQuery(max_price=Decimal("0")),
        "enrollments",
        {"ix_courses_enrollment_count_desc", "ix_courses_price"},
    ),
    (
        "tag",
        lambda c: CatalogQuery(tags=("devops",)),
        "rating",
        {"ix_courses_rating_desc", "pk_courses"},
    ),
    (
        "two-tags",
        lambda c: CatalogQuery(tags=("devops", "cloud")),
        "rating",
        {"ix_courses_rating_desc", "pk_courses"},
    ),
    (
        "instructor",
        lambda c: CatalogQuery(instructor_id=busy(c)),
        "rating",
        {"ix_courses_instructor_id", "ix_courses_rating_desc"},
    ),
    (
        "combined",
        lambda c: CatalogQuery(
            difficulty=DifficultyLevel.INTERMEDIATE, max_price=Decimal("50"), tags=("data",)
        ),
        "newest",
        {"ix_courses_published_at_desc", "ix_courses_price", "pk_courses"},
    ),
]


@pytest.mark.parametrize(
    ("make_query", "sort", "allowed"),
    [pytest.param(q, s, a, id=name) for name, q, s, a in FILTERS],
)
async def test_every_catalog_filter_reads_courses_through_an_index(
    catalog, make_query, sort, allowed
):
    issued, _, _ = await run_catalog(catalog, make_query(catalog), sort)
    plan = await explain(catalog, issued)
    shown = outline(plan)
    assert "courses" not in seq_scans(plan), shown
    reads = course_index_reads(catalog, plan)
    assert reads, shown
    assert {name for _, name in reads} <= allowed, shown


FTS = ("Bitmap Index Scan", "ix_courses_search_fts")


@pytest.mark.parametrize(
    ("q", "sort"),
    [
        pytest.param("kubernetes", "relevance", id="word"),
        pytest.param("Kubernetes Deep", "relevance", id="words"),
        pytest.param('"kubernetes deep dive"', "relevance", id="phrase"),
        pytest.param("kubernetes", "newest", id="word-newest"),
    ],
)
async def test_selective_text_search_reads_the_full_text_index(catalog, q, sort):
    """A rare word (~1 % of courses): one lookup in the GIN index of the generated tsvector
    of listed courses, never a scan."""
    issued, _, _ = await run_catalog(catalog, CatalogQuery(q=q), sort)
    plan = await explain(catalog, issued)
    shown = outline(plan)
    assert "courses" not in seq_scans(plan), shown
    assert set(course_index_reads(catalog, plan)) == {FTS}, shown


@pytest.mark.parametrize("page", [1, 2], ids=["first-page", "cursor-page"])
async def test_common_text_search_by_relevance_reads_the_full_text_index(catalog, page):
    """A word in ~7 % of courses, ranked: every match is ranked, and the index finds them
    (a page 2 resumes after the cursor's rank and id, still from the index)."""
    issued, _, cursor = await run_catalog(catalog, CatalogQuery(q="watercolour"), "relevance")
    if page == 2:
        assert cursor is not None
        issued, _, _ = await run_catalog(
            catalog, CatalogQuery(q="watercolour"), "relevance", cursor
        )
    plan = await explain(catalog, issued)
    shown = outline(plan)
    assert "courses" not in seq_scans(plan), shown
    assert set(course_index_reads(catalog, plan)) == {FTS}, shown


async def test_common_text_search_in_another_order_walks_that_index_or_the_search_index(
    catalog,
):
    """By rating, a page of a common word fills after a few hundred entries of the rating
    index, so walking it and filtering is a fair plan too; never a sequential scan."""
    issued, _, _ = await run_catalog(catalog, CatalogQuery(q="watercolour"), "rating")
    plan = await explain(catalog, issued)
    shown = outline(plan)
    assert "courses" not in seq_scans(plan), shown
    reads = {name for _, name in course_index_reads(catalog, plan)}
    assert reads and reads <= {"ix_courses_rating_desc", "ix_courses_search_fts"}, shown


async def test_the_typo_fallback_reads_the_trigram_index(catalog):
    """ "kubenetes" matches no word: the catalog asks again by word similarity, which the
    trigram index over listed courses' titles answers."""
    with Capture(catalog.connection) as capture:
        async with UnitOfWork(catalog.factory) as uow:
            page = await CatalogService(uow).catalog(
                CatalogQuery(q="kubenetes"), CursorPagination(20), "relevance"
            )
    assert page.items and all("Kubernetes" in card.title for card in page.items)
    full_text, fallback = capture.catalog_selects()
    for issued, index in (
        (full_text, "ix_courses_search_fts"),
        (fallback, "ix_courses_title_trgm"),
    ):
        plan = await explain(catalog, issued)
        shown = outline(plan)
        assert "courses" not in seq_scans(plan), shown
        assert set(course_index_reads(catalog, plan)) == {("Bitmap Index Scan", index)}, shown


async def test_inferring_the_currency_reads_two_index_entries(catalog):
    """A price sort without `currency`: the lowest and highest listed currency, each the end
    of ix_courses_price, which leads with the currency."""
    _, issued, _ = await run_catalog(catalog, CatalogQuery(), "price")
    (currencies,) = [i for i in issued if "min(courses.price_currency)" in i.statement]
    plan = await explain(catalog, currencies)
    shown = outline(plan)
    assert seq_scans(plan) == [], shown
    reads = {n["Index Name"] for n in nodes(plan) if n["Node Type"] in INDEX_NODES}
    assert reads == {"ix_courses_price"}, shown


async def test_tag_loading_of_a_catalog_page_is_indexed(catalog):
    """The page's tags come in one more statement, keyed by the page's course ids."""
    _, issued, _ = await run_catalog(catalog, CatalogQuery(), "rating")
    (tags,) = [i for i in issued if "FROM tags" in i.statement or "course_tags" in i.statement]
    plan = await explain(catalog, tags)
    assert "course_tags" not in seq_scans(plan), outline(plan)
